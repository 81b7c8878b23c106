"""Shared helpers for malfix's end-to-end tests (tests/interop and tests/apps).

Standard library only; run with Debian's /usr/bin/python3. Every test script calls run_test(),
which parses --malfix and --data, gives the test a Session (a temporary directory plus every
process the test started), and kills whatever is still running when the test ends, pass or fail.
Processes write stdout and stderr to files in the session directory, so nothing blocks on a full
pipe and a failing test can show what each process said.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

# Where the peers come from, for the message when one is missing (scripts/install-deps.sh).
PEER_PACKAGES = {
    "softflowd": "softflowd",
    "ipfixDump": "libfixbuf-tools",
    "tshark": "tshark",
    "socat": "socat",
}

# The README sample (tests/data/sample/SOURCE.md): every hit as (trail, type, field).
SAMPLE_HITS = {
    ("66.42.72.69:1629", "IPORT", "dst_addr_port"),
    ("129.82.138.12", "IP", "src_addr"),
    ("35.203.210.0/24", "IP", "dst_addr"),
    ("31.210.96.152", "IP", "dst_addr"),
    ("2400:6180:0:d0::1008:2001", "IP", "src_addr"),
    ("(ns1).internal.example.org", "DNS", "dns_qname"),
}
# The softflowd part of the sample (sample-traffic.pcap): trail -> malfix_type.
SOFTFLOWD_TRAILS = {
    "66.42.72.69:1629": "IPORT",
    "129.82.138.12": "IP",
    "35.203.210.0/24": "IP",
    "31.210.96.152": "IP",
    "2400:6180:0:d0::1008:2001": "IP",
}
# Addresses of the sample that are on no trail; they must never show up in alert mode.
CLEAN_ADDRESSES = ["198.51.100.7", "203.0.113.5", "192.0.2.200"]
DNS_TRAIL = "(ns1).internal.example.org"


class TestFailure(Exception):
    """A check that did not hold; run_test() prints it and exits 1."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: expected {expected!r}, got {actual!r}")


def find_tool(name):
    """Absolute path of a peer binary, or a failure that says how to install it (never a skip)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not found:
        package = PEER_PACKAGES.get(name, name)
        raise TestFailure(f"peer '{name}' is not installed: apt-get install {package} "
                          "(scripts/install-deps.sh installs every peer)")
    return found


class Process:
    """One started process; its stdout and stderr go to files in the session directory."""

    def __init__(self, argv, workdir, name, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=err, env=env)

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def running(self):
        return self.popen.poll() is None

    def send(self, sig):
        check(self.running(), f"{self.name} exited early (status {self.popen.returncode}):\n"
              f"{self.stderr()}")
        self.popen.send_signal(sig)

    def wait_for(self, pattern, timeout=5.0, stream="stderr", start=0):
        """Polls the process's output from offset `start` until `pattern` matches."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            text = self.stderr() if stream == "stderr" else self.stdout()
            match = regex.search(text, start)
            if match:
                return match
            if not self.running():
                raise TestFailure(f"{self.name} exited (status {self.popen.returncode}) before "
                                  f"printing /{pattern}/; stderr:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise TestFailure(f"{self.name} did not print /{pattern}/ within {timeout} s; "
                                  f"{stream}:\n{text}")
            time.sleep(0.02)

    def wait(self, timeout=10.0):
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise TestFailure(f"{self.name} did not exit within {timeout} s; stderr:\n"
                              f"{self.stderr()}") from None

    def stop(self):
        if self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=3)


class Session:
    """A test's temporary directory and the processes it started; stops them all at the end."""

    def __init__(self, args):
        self.args = args
        self.malfix = os.path.abspath(args.malfix)
        self.data = os.path.abspath(args.data)
        self.dir = tempfile.mkdtemp(prefix="malfix-e2e-")
        self.processes = []

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def sample(self, name):
        return os.path.join(self.data, "sample", name)

    def start(self, argv, name):
        process = Process(argv, self.dir, f"{len(self.processes):02d}-{name}")
        self.processes.append(process)
        return process

    def start_malfix(self, *flags, name="malfix"):
        return self.start([self.malfix, *flags], name)

    def run_malfix(self, *flags, timeout=30.0):
        """A batch run of malfix: returns (exit status, stdout, stderr)."""
        process = self.start_malfix(*flags)
        status = process.wait(timeout)
        return status, process.stdout(), process.stderr()

    def close(self):
        for process in self.processes:
            try:
                process.stop()
            except Exception:  # keep stopping the others
                traceback.print_exc()
        if os.environ.get("MALFIX_E2E_KEEP"):
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump_failure_context(self):
        for process in self.processes:
            print(f"--- {process.name}: {' '.join(process.argv)}", file=sys.stderr)
            print(f"    status: {process.popen.poll()}", file=sys.stderr)
            for label, text in (("stdout", process.stdout()), ("stderr", process.stderr())):
                if text:
                    tail = text if len(text) < 4000 else "...\n" + text[-4000:]
                    print(f"    {label}:\n{tail}", file=sys.stderr)


def run_test(body, description=None, extra_args=None):
    """Parses --malfix/--data (and extra_args(parser) flags), runs body(session); exits 0 or 1."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--malfix", required=True, help="path of the malfix binary")
    parser.add_argument("--data", required=True, help="tests/data of the source tree")
    if extra_args:
        extra_args(parser)
    args = parser.parse_args()
    session = Session(args)
    status = 1
    try:
        body(session)
        status = 0
        print("PASS")
    except TestFailure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        session.dump_failure_context()
    except Exception:
        traceback.print_exc()
        session.dump_failure_context()
    finally:
        session.close()
    sys.exit(status)


# ---- malfix's log (logfmt on stderr) ----

_LOGFMT_PAIR = re.compile(r'([A-Za-z0-9_.]+)=("(?:[^"\\]|\\.)*"|\S*)')


def logfmt(line):
    """The key=value pairs of one logfmt line; quoted values are unquoted."""
    fields = {}
    for key, value in _LOGFMT_PAIR.findall(line):
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        fields[key] = value
    return fields


def log_records(stderr, msg=None):
    """Every logfmt record of malfix's stderr (lines starting with ts=), optionally one msg."""
    records = [logfmt(line) for line in stderr.splitlines() if line.startswith("ts=")]
    return [r for r in records if msg is None or r.get("msg") == msg]


def parse_drops(text):
    """The drops field: 'none' or 'reason=N,reason=N' -> {reason: N}."""
    if text in ("", "none"):
        return {}
    drops = {}
    for item in text.split(","):
        reason, _, count = item.partition("=")
        drops[reason] = int(count)
    return drops


def summary(stderr):
    """The final summary line as ints, with 'drops' as a dict; fails when there is none."""
    records = log_records(stderr, "summary")
    check(len(records) == 1, f"expected one summary line on stderr, found {len(records)}:\n"
          f"{stderr}")
    result = {}
    for key, value in records[0].items():
        if key == "drops":
            result[key] = parse_drops(value)
        elif value.isdigit():
            result[key] = int(value)
        else:
            result[key] = value
    return result


def listen_port(process, scheme, timeout=5.0):
    """The port of malfix's `scheme` listener, from its `msg=listening` log line."""
    match = process.wait_for(rf"msg=listening listen={scheme}://127\.0\.0\.1:(\d+)\b", timeout)
    port = int(match.group(1))
    check(port != 0, f"malfix logged port 0 for its {scheme} listener")
    return port


def wait_for_stats(process, key, value, timeout=5.0):
    """Waits for a stats line with key=value (needs a short --stats-interval)."""
    process.wait_for(rf"msg=stats .*\b{key}={value}\b", timeout)


# ---- malfix's outputs ----

def json_lines(text, what="JSON output"):
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise TestFailure(f"{what} line {number} is not JSON ({error}): {line!r}") from None
    return records


def read_json_file(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return json_lines(f.read(), path)


def hit_set(records):
    return {(h["trail"], h["type"], h["field"]) for r in records for h in r.get("hits", [])}


def hit_list(records):
    return sorted((h["trail"], h["type"], h["field"]) for r in records for h in r.get("hits", []))


def wait_for_json(path, predicate, timeout=5.0):
    """Polls a JSON lines file until predicate(records) holds; returns the records."""
    deadline = time.monotonic() + timeout
    while True:
        records = read_json_file(path)
        if predicate(records):
            return records
        if time.monotonic() > deadline:
            raise TestFailure(f"{path} never reached the expected content within {timeout} s; "
                              f"it has {len(records)} records: {hit_list(records)}")
        time.sleep(0.05)


def check_no_signal(status, what):
    check(status is not None and status >= 0,
          f"{what}: malfix died from signal {-status if status else status} (a crash)")


# ---- plain TCP and UDP on the loopback ----

def send_tcp(port, data, timeout=5.0):
    """Sends `data` as an Exporter would, half-closes, and waits until malfix closes too.

    malfix reads a Transport Session to its end before closing, so once recv() returns EOF every
    byte has been read by malfix; returns the client's local port (malfix's exporter name).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        local_port = sock.getsockname()[1]
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        while sock.recv(4096):
            check(time.monotonic() < deadline, "malfix sent data back on an IPFIX session")
    return local_port


def udp_receive_queue(port):
    """Octets waiting in the receive queue of the UDP socket bound to 127.0.0.1:port (Linux
    /proc/net/udp), or None when no such socket exists."""
    local = f"0100007F:{port:04X}"
    with open("/proc/net/udp", encoding="ascii") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local:
                return int(fields[4].split(":")[1], 16)
    return None


def wait_udp_read(port, timeout=5.0):
    """Waits until the process bound to 127.0.0.1:port has read every datagram sent to it."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = udp_receive_queue(port)
        check(waiting is not None, f"no UDP socket bound to 127.0.0.1:{port}")
        if waiting == 0:
            return
        check(time.monotonic() < deadline, f"{waiting} octets still unread on UDP port {port}")
        time.sleep(0.02)


class UdpCollector:
    """A UDP socket on 127.0.0.1:0 that keeps every datagram it receives."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.datagrams = []

    def drain(self, quiet=0.5):
        """Receives until nothing arrived for `quiet` seconds."""
        self.sock.settimeout(quiet)
        try:
            while True:
                self.datagrams.append(self.sock.recv(65535))
        except socket.timeout:
            pass
        return self.datagrams

    def close(self):
        self.sock.close()


# ---- ipfixDump (libfixbuf-tools) ----

_DUMP_FIELD = re.compile(r"^\s*\((?:\d+/)?\d+\)\s+(\S+)\s*: (?:\(len: \d+\) )?(.*)$")
_DUMP_TID = re.compile(r"tid:\s*(\d+)")


def ipfix_dump(session, path, *flags):
    """Runs `ipfixDump FLAGS --in PATH`; fails unless it exits 0 with nothing on stderr."""
    tool = find_tool("ipfixDump")
    process = session.start([tool, *flags, "--in", path], "ipfixDump")
    status = process.wait(30)
    check_equal(status, 0, f"ipfixDump {' '.join(flags)} exit status on {path}")
    check(process.stderr() == "", f"ipfixDump complained about {path}:\n{process.stderr()}")
    return process.stdout()


def dump_records(text):
    """Data records of ipfixDump's output: [{'tid': N, 'fields': [(name, value), ...]}].

    Nested list entries (yaf's DNS records) stay in their record's field list.
    """
    records = []
    current = None
    expect_tid = False
    for line in text.splitlines():
        if line.startswith("--- data record"):
            current = {"tid": None, "fields": []}
            records.append(current)
            expect_tid = True
            continue
        if line.startswith("---"):
            current = None
            continue
        if current is None:
            continue
        if expect_tid:
            tid = _DUMP_TID.search(line)
            if tid:
                current["tid"] = int(tid.group(1))
                expect_tid = False
            continue
        field = _DUMP_FIELD.match(line)
        if field:
            current["fields"].append((field.group(1), field.group(2).strip()))
    return records


def record_values(record, name):
    return [value for field, value in record["fields"] if field == name]


def is_flow_record(record):
    names = {field for field, _ in record["fields"]}
    return bool(names & {"sourceIPv4Address", "sourceIPv6Address"})


def trail_types(record):
    """(malfix_trail, malfix_type) pairs of one record, in order."""
    return list(zip(record_values(record, "malfix_trail"), record_values(record, "malfix_type")))
