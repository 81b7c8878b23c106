#!/usr/bin/python3
"""Scaling harness: malfix under the MalFIX benchmark's four traffic mixes.

For each mix and each matcher thread count it starts, all on 127.0.0.1:
  a counting collector       malfix-loadgen --collect tcp://127.0.0.1:0
  malfix in alert mode       malfix --listen tcp://127.0.0.1:0 --threads T
                                    --output ipfix+tcp://127.0.0.1:COLLECTOR --stats-interval 1
  the load generator         malfix-loadgen --mix M --connect tcp://127.0.0.1:MALFIX --duration S
as the paper did (one TCP connection per instance, as fast as malfix accepts). It reads malfix's
own stats lines for the steady-state rate (warm-up skipped), /proc/PID/stat for malfix's CPU
seconds over the same window, /proc/PID/status for peak RSS (VmHWM), and checks malfix's totals
against the generator's and the collector's counts. It also runs N single-thread instances
side by side (the paper's layout), and the transport ceiling (the generator into a collector that
only reads). Results: a CSV, PNG plots (gnuplot), and a table on stdout.

Standard library only; every process it starts is bounded in time and stopped by it.
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

MIXES = ["malicious-ip", "malicious-dns", "benign-dns5", "mixed10"]
REPO = Path(__file__).resolve().parent.parent
LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')
CLK_TCK = os.sysconf("SC_CLK_TCK")


def logfmt(line):
    return {k: v.strip('"') for k, v in LOGFMT.findall(line)}


def cpu_seconds(pid):
    """User + system CPU seconds of a process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid):
    """{thread name (tid): CPU seconds} for every thread of a process."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data.rsplit(")", 1)[1].split()
        out[f"{name}({tid})"] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Malfix:
    """One malfix process; a thread reads its log and samples /proc at every stats line."""

    def __init__(self, args, threads, collector_port, cpus=None):
        cmd = [args.malfix, "--listen", "tcp://127.0.0.1:0", "--intel", args.trails,
               "--mode", "alert", "--threads", str(threads), "--input-threads",
               str(args.input_threads), "--output", f"ipfix+tcp://127.0.0.1:{collector_port}",
               "--stats-interval", "1"]
        if cpus:
            cmd = ["taskset", "-c", cpus] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.port = None
        self.summary = None
        self.samples = []  # (monotonic time, flows_in, flows_out, cpu seconds, thread cpu)
        self.log_tail = []
        self.listening = threading.Event()
        self.peers = {}  # name: pid of the generator and collector, sampled beside malfix
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.log_tail = (self.log_tail + [line.rstrip()])[-20:]
            if "msg=listening" in line and self.port is None:
                self.port = int(logfmt(line)["listen"].rsplit(":", 1)[1])
                self.listening.set()
            elif "msg=stats" in line:
                f = logfmt(line)
                try:
                    self.samples.append((time.monotonic(), int(f["flows_in"]),
                                         int(f["flows_out"]), cpu_seconds(self.proc.pid),
                                         thread_cpu(self.proc.pid), self._peer_cpu()))
                except (OSError, KeyError, ValueError):
                    pass
            elif "msg=summary" in line:
                self.summary = logfmt(line)
        self.listening.set()

    def _peer_cpu(self):
        out = {}
        for name, pid in list(self.peers.items()):
            try:
                out[name] = cpu_seconds(pid)
            except OSError:
                pass
        return out

    def wait_listening(self, timeout):
        self.listening.wait(timeout)
        if self.port is None:
            self.stop()
            raise RuntimeError("malfix did not start listening:\n" + "\n".join(self.log_tail))

    def stop(self):
        rss = 0.0
        if self.proc.poll() is None:
            rss = peak_rss_mb(self.proc.pid)
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        return rss


class Collector:
    def __init__(self, args, discard=False):
        cmd = [args.loadgen, "--collect", "tcp://127.0.0.1:0", "--duration",
               str(args.seconds * 4 + 120)]
        if discard:
            cmd.append("--discard")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"collector did not start: {first!r}")
        self.port = int(first.strip().rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=30)
        lines = [l for l in out.splitlines() if l.startswith('{"mode"')]
        return json.loads(lines[-1]) if lines else {}


def loadgen(args, mix, port, connections=1, cpus=None):
    cmd = [args.loadgen, "--mix", mix, "--trails", args.trails, "--connect",
           f"tcp://127.0.0.1:{port}", "--connections", str(connections), "--duration",
           str(args.seconds), "--seed", str(args.seed), "--pool-mb", str(args.pool_mb)]
    if cpus:
        cmd = ["taskset", "-c", cpus] + cmd
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def finish_loadgen(proc, timeout):
    out, _ = proc.communicate(timeout=timeout)
    lines = [l for l in out.splitlines() if l.startswith('{"mode"')]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"malfix-loadgen failed (exit {proc.returncode}): {out[-500:]}")
    return json.loads(lines[-1])


def steady_window(samples, warmup):
    """The stats samples of the steady state: while flows were arriving, after warm-up, without
    the last (partial) second."""
    active = [i for i in range(1, len(samples)) if samples[i][1] > samples[i - 1][1]]
    if len(active) < 2:
        return None
    first = active[0] - 1
    start = first + int(warmup)
    end = active[-1] - 1  # the last active second is cut short by the generator's end
    if end - start < 1:
        start, end = first, active[-1]
    return samples[start], samples[end]


def busiest_threads(a, b, n=3):
    """The n threads that used the most CPU between two samples: [(name(tid), share of a core)]."""
    span = max(b[0] - a[0], 1e-9)
    used = [(name, (cpu - a[4].get(name, 0.0)) / span) for name, cpu in b[4].items()]
    return sorted(used, key=lambda t: -t[1])[:n]


def cpu_sets(args, instances, threads):
    """taskset CPU lists (malfix instances, generator) when --pin is given and cores allow."""
    if not args.pin:
        return [None] * instances, None
    cores = os.cpu_count() or 1
    need = instances * threads
    if need >= cores:
        return [None] * instances, None
    sets = [f"{i * threads}-{i * threads + threads - 1}" for i in range(instances)]
    return sets, f"{need}-{cores - 1}"


def run_one(args, mix, threads, instances):
    """One measurement: `instances` malfix processes with `threads` matcher threads each, each
    fed by its own generator connection, all sending IPFIX to one collector."""
    collector = Collector(args)
    malfix_cpus, gen_cpus = cpu_sets(args, instances, threads)
    procs = []
    try:
        procs = [Malfix(args, threads, collector.port, malfix_cpus[i]) for i in range(instances)]
        for m in procs:
            m.wait_listening(args.start_timeout)
        gens = [loadgen(args, mix, m.port, 1, gen_cpus) for m in procs]
        for m, g in zip(procs, gens):
            m.peers = {"loadgen": g.pid, "collector": collector.proc.pid}
        sent = [finish_loadgen(g, args.seconds + args.start_timeout + 60) for g in gens]
        time.sleep(1.5)  # let the queues drain and one more stats line come
    finally:
        rss = [m.stop() for m in procs]
        out = collector.stop()

    row = {"layout": "threads" if instances == 1 else "instances", "mix": mix,
           "threads": threads, "instances": instances, "cores": threads * instances}
    rate = cpu = flows = secs = 0.0
    top = []
    peer_load = {}
    for m in procs:
        w = steady_window(m.samples, args.warmup)
        if w is None:
            raise RuntimeError(f"{mix}: malfix saw no steady load:\n" + "\n".join(m.log_tail))
        a, b = w
        secs = max(secs, b[0] - a[0])
        flows += b[1] - a[1]
        rate += (b[1] - a[1]) / (b[0] - a[0])
        cpu += b[3] - a[3]
        top.extend(busiest_threads(a, b))
        for name, cpu_b in b[5].items():
            if name in a[5]:
                share = (cpu_b - a[5][name]) / (b[0] - a[0])
                peer_load[name] = round(max(peer_load.get(name, 0.0), share), 2)
    flows_sent = sum(s["flows_sent"] for s in sent)
    flows_in = sum(int(m.summary["flows_in"]) for m in procs if m.summary)
    flows_out = sum(int(m.summary["flows_out"]) for m in procs if m.summary)
    top.sort(key=lambda t: -t[1])
    name, util = top[0]
    row.update({
        "flows_per_s": round(rate),
        "window_s": round(secs, 2),
        "window_flows": int(flows),
        "cpu_s": round(cpu, 2),
        "flows_per_cpu_s": round(flows / cpu) if cpu > 0 else 0,
        "peak_rss_mb": round(max(rss), 1),
        "flows_sent": flows_sent,
        "malfix_flows_in": flows_in,
        "malfix_flows_out": flows_out,
        "records_out": out.get("records", 0),
        "counts_ok": flows_in == flows_sent and out.get("records", -1) == flows_out,
        "busiest_thread": name,
        "busiest_thread_util": round(util, 2),
        "top_threads": " ".join(f"{n}:{u:.2f}" for n, u in top[:4]),
        "malfix_cores": round(cpu / secs, 2) if secs > 0 else 0,
        "loadgen_cores": peer_load.get("loadgen", ""),
        "collector_cores": peer_load.get("collector", ""),
    })
    return row


def ceiling(args, mix):
    """The generator into a collector that only reads: what one TCP connection carries."""
    sink = Collector(args, discard=True)
    try:
        sent = finish_loadgen(loadgen(args, mix, sink.port), args.seconds + args.start_timeout + 60)
    finally:
        sink.stop()
    return sent["flows_per_s"]


def plot(args, rows, out_dir):
    if not shutil.which("gnuplot"):
        print("scaling: gnuplot not found, no plots (apt-get install gnuplot-nox)",
              file=sys.stderr)
        return
    for metric, label, png in [("flows_per_s", "flows/s", "flows_per_s.png"),
                               ("flows_per_cpu_s", "flows per malfix CPU-second",
                                "flows_per_cpu_s.png")]:
        series = []
        for layout in ("threads", "instances"):
            for mix in args.mixes:
                pts = sorted((r["cores"], r[metric]) for r in rows
                             if r["mix"] == mix and r["layout"] == layout)
                if pts:
                    data = out_dir / f"{metric}_{layout}_{mix}.dat"
                    data.write_text("".join(f"{c} {v}\n" for c, v in pts))
                    title = mix if layout == "threads" else f"{mix} ({layout})"
                    series.append(f"'{data}' using 1:2 with linespoints title '{title}'")
        if not series:
            continue
        script = (f"set terminal pngcairo size 900,600\nset output '{out_dir / png}'\n"
                  f"set xlabel 'cores (matcher threads, or single-thread instances)'\n"
                  f"set ylabel '{label}'\nset key outside right\nset grid\nset xtics 1\n"
                  f"set yrange [0:*]\nset format y '%.0f'\n"
                  f"plot " + ", ".join(series) + "\n")
        result = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if result.returncode != 0:
            # pngcairo may be missing from a minimal gnuplot; the plain png terminal is not
            result = subprocess.run(["gnuplot"], input=script.replace("pngcairo", "png"),
                                    text=True, capture_output=True)
        if result.returncode != 0:
            print(f"scaling: gnuplot failed: {result.stderr}", file=sys.stderr)


def find_binary(name, build):
    for candidate in [Path(build) / "apps" / name] if build else []:
        if candidate.exists():
            return str(candidate)
    for d in sorted(REPO.glob("build*")):
        if (d / "apps" / name).exists():
            return str(d / "apps" / name)
    found = shutil.which(name)
    if found:
        return found
    sys.exit(f"scaling: cannot find {name}; give --build DIR or --{name.split('-')[-1]} PATH")


def parse_args():
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trails", default=str(REPO / "tests/data/sample/trails"),
                   help="Maltrail trails for malfix and the generator (default: the sample)")
    p.add_argument("--build", help="build directory holding apps/malfix and apps/malfix-loadgen")
    p.add_argument("--malfix", help="the malfix binary")
    p.add_argument("--loadgen", help="the malfix-loadgen binary")
    p.add_argument("--mixes", default=",".join(MIXES), help="comma-separated mixes")
    p.add_argument("--max-threads", type=int, default=cores,
                   help="matcher threads go 1..N (default: the core count)")
    p.add_argument("--instances", type=int, default=None,
                   help="single-thread instances for the paper's layout (default: max threads)")
    p.add_argument("--input-threads", type=int, default=1, help="malfix --input-threads")
    p.add_argument("--seconds", type=float, default=20, help="seconds of load per run")
    p.add_argument("--warmup", type=float, default=5, help="seconds of stats skipped")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pool-mb", type=int, default=32, help="generator's pre-encoded pool")
    p.add_argument("--start-timeout", type=float, default=180,
                   help="seconds malfix may take to load the trails")
    p.add_argument("--pin", action="store_true",
                   help="taskset: malfix on the first cores, the generator on the rest")
    p.add_argument("--out", default="bench-results", help="directory for the CSV and plots")
    p.add_argument("--quick", action="store_true",
                   help="every mix at 1..2 threads, short runs (under two minutes on 2 cores)")
    p.add_argument("--smoke", action="store_true",
                   help="one mix, one thread, a few seconds: the harness still works")
    a = p.parse_args()
    if a.quick:
        a.seconds, a.warmup, a.max_threads = 5, 1, min(2, a.max_threads)
        a.instances = a.instances or 2
        a.instance_mixes = ["mixed10"]
    elif a.smoke:
        a.seconds, a.warmup, a.max_threads, a.mixes = 3, 1, 1, "mixed10"
        a.instances = 1
        a.instance_mixes = []
    else:
        a.instances = a.instances or a.max_threads
        a.instance_mixes = None
    a.mixes = [m for m in a.mixes.split(",") if m]
    for m in a.mixes:
        if m not in MIXES:
            p.error(f"unknown mix {m}")
    if a.instance_mixes is None:
        a.instance_mixes = a.mixes
    a.malfix = a.malfix or find_binary("malfix", a.build)
    a.loadgen = a.loadgen or find_binary("malfix-loadgen", a.build)
    return a


def main():
    args = parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    ceilings = {}
    started = time.monotonic()
    for mix in args.mixes:
        ceilings[mix] = ceiling(args, mix)
        print(f"ceiling {mix}: {ceilings[mix]:,.0f} flows/s over one TCP connection", flush=True)
        for threads in range(1, args.max_threads + 1):
            rows.append(run_one(args, mix, threads, 1))
            report(rows[-1], ceilings)
    if args.instances > 1:
        for mix in args.instance_mixes:
            rows.append(run_one(args, mix, 1, args.instances))
            report(rows[-1], ceilings)

    for r in rows:
        r["ceiling_flows_per_s"] = ceilings[r["mix"]] * r["instances"]
        r["fraction_of_ceiling"] = round(r["flows_per_s"] / r["ceiling_flows_per_s"], 3)
        one = next((x for x in rows if x["mix"] == r["mix"] and x["cores"] == 1), None)
        r["speedup_vs_1"] = round(r["flows_per_s"] / one["flows_per_s"], 2) if one else ""
    path = out_dir / "scaling.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    if not args.smoke:
        plot(args, rows, out_dir)
    print(f"\nwrote {path} ({time.monotonic() - started:.0f} s); trails {args.trails}")
    print(f"{'layout':9} {'mix':13} {'cores':>5} {'flows/s':>11} {'x1':>5} {'flows/CPU-s':>12} "
          f"{'RSS MB':>7} {'ceiling':>6} {'counts':>6}  busiest thread")
    for r in rows:
        print(f"{r['layout']:9} {r['mix']:13} {r['cores']:5} {r['flows_per_s']:11,} "
              f"{r['speedup_vs_1']:>5} {r['flows_per_cpu_s']:12,} {r['peak_rss_mb']:7} "
              f"{r['fraction_of_ceiling']:6.0%} {'ok' if r['counts_ok'] else 'MISS':>6}  "
              f"{r['busiest_thread']} {r['busiest_thread_util']:.0%}")
    bad = [r for r in rows if not r["counts_ok"]]
    if bad:
        print("scaling: malfix's counts disagree with the generator's or the collector's",
              file=sys.stderr)
        return 1
    return 0


def report(r, ceilings):
    print(f"{r['layout']} {r['mix']} cores={r['cores']}: {r['flows_per_s']:,} flows/s, "
          f"{r['flows_per_cpu_s']:,} flows/CPU-s, peak RSS {r['peak_rss_mb']} MB, "
          f"{r['flows_per_s'] / (ceilings[r['mix']] * r['instances']):.0%} of the ceiling, "
          f"sent {r['flows_sent']:,} in {r['malfix_flows_in']:,} out {r['records_out']:,}",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
