"""--metrics serves /metrics in the Prometheus text format, with figures that match the flows
sent (issue 5).

A daemon listens on TCP and UDP with --metrics tcp://127.0.0.1:0. The softflowd sample goes in
over UDP and the yaf sample over TCP; batch runs of each file say how many flows and hits to
expect. A scrape with curl must show those flows per input and per exporter, the hits by type
and by feed, the flows written per output, zero drops, the snapshot's size; after SIGHUP one
reload more. promtool (package prometheus) must accept the exposition, and any other path
answers 404.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

_SAMPLE_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def tool(name, package):
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    e2e.check(found, f"'{name}' is not installed: apt-get install {package} "
              "(scripts/install-deps.sh installs every peer)")
    return found


def scrape(session, port, path="/metrics"):
    """curl's (status, body) for GET path."""
    result = subprocess.run([tool("curl", "curl"), "-sS", "-o", "-", "-w", "\n%{http_code}",
                             f"http://127.0.0.1:{port}{path}"],
                            capture_output=True, text=True, timeout=10, check=False)
    e2e.check(result.returncode == 0, f"curl failed: {result.stderr}")
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def parse(text):
    """{(name, frozenset(labels)): value} of every sample of the exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE_LINE.match(line)
        e2e.check(match, f"not a sample line: {line!r}")
        labels = frozenset(_LABEL.findall(match.group(3) or ""))
        samples[(match.group(1), labels)] = float(match.group(4))
    return samples


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    e2e.check(key in samples, f"no sample {name}{labels} in the exposition")
    return samples[key]


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def expected(session, name):
    """The summary of a batch run of one sample file: what the daemon should count for it."""
    status, _, stderr = session.run_malfix("--read", session.sample(name), "--intel",
                                           session.sample("trails"), "--output",
                                           f"json:{session.path(name + '.json')}")
    e2e.check_equal(status, 0, f"batch run of {name}")
    return e2e.summary(stderr)


def send_udp(port, path):
    """Sends each IPFIX Message of the file as one datagram; returns the sender's port."""
    with open(path, "rb") as f:
        data = f.read()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        offset = 0
        while offset < len(data):
            length = int.from_bytes(data[offset + 2:offset + 4], "big")
            sock.sendto(data[offset:offset + length], ("127.0.0.1", port))
            offset += length
        return sock.getsockname()[1]


def wait_for(session, port, predicate, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        status, body = scrape(session, port)
        e2e.check_equal(status, 200, "status of GET /metrics")
        samples = parse(body)
        if predicate(samples):
            return body, samples
        e2e.check(time.monotonic() < deadline, f"{what} never showed in /metrics:\n{body}")
        time.sleep(0.1)


def promtool_check(session, body):
    path = session.path("metrics.prom")
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    with open(path, "rb") as f:
        result = subprocess.run([tool("promtool", "prometheus"), "check", "metrics"], stdin=f,
                                capture_output=True, text=True, timeout=30, check=False)
    e2e.check(result.returncode == 0 and not result.stdout.strip() and
              not result.stderr.strip(),
              f"promtool check metrics: status {result.returncode}\n{result.stdout}"
              f"{result.stderr}")


def body(session):
    softflowd = expected(session, "softflowd_sample.ipfix")
    yaf = expected(session, "yaf_mixed_v4v6_dpi.yaf")
    out = session.path("hits.json")
    malfix = session.start_malfix("--listen", "tcp://127.0.0.1:0", "--listen",
                                  "udp://127.0.0.1:0", "--intel", session.sample("trails"),
                                  "--metrics", "tcp://127.0.0.1:0", "--output", f"json:{out}",
                                  "--threads", "2", "--stats-interval", "0")
    match = malfix.wait_for(r'msg="metrics listening" listen=tcp://127\.0\.0\.1:(\d+)\b')
    port = int(match.group(1))
    e2e.check(port != 0, "malfix logged port 0 for its metrics endpoint")
    tcp_port = e2e.listen_port(malfix, "tcp")
    udp_port = e2e.listen_port(malfix, "udp")

    # Nothing sent yet: every counter is there, at zero.
    status, text = scrape(session, port)
    e2e.check_equal(status, 200, "status of the first scrape")
    samples = parse(text)
    e2e.check_equal(total(samples, "malfix_flows_in_total"), 0, "flows in before any input")
    e2e.check(value(samples, "malfix_snapshot_indicators") > 3000, "snapshot size")

    udp_sender = send_udp(udp_port, session.sample("softflowd_sample.ipfix"))
    e2e.wait_udp_read(udp_port)
    with open(session.sample("yaf_mixed_v4v6_dpi.yaf"), "rb") as f:
        tcp_sender = e2e.send_tcp(tcp_port, f.read())

    flows = softflowd["flows_in"] + yaf["flows_in"]
    forwarded = softflowd["flows_out"] + yaf["flows_out"]
    text, samples = wait_for(
        session, port, lambda s: total(s, "malfix_flows_in_total") == flows and
        total(s, "malfix_flows_out_total") == forwarded, f"{flows} flows in, {forwarded} out")

    e2e.check_equal(value(samples, "malfix_flows_in_total", input="network-0"), flows,
                    "flows in on the network input")
    e2e.check_equal(value(samples, "malfix_flows_in_total", input="files"), 0,
                    "flows in from files")
    e2e.check_equal(value(samples, "malfix_exporter_flows_in_total", input="network-0",
                          exporter=f"udp:127.0.0.1:{udp_sender}"), softflowd["flows_in"],
                    "flows of the UDP exporter")
    e2e.check_equal(value(samples, "malfix_exporter_flows_in_total", input="network-0",
                          exporter=f"tcp:127.0.0.1:{tcp_sender}"), yaf["flows_in"],
                    "flows of the TCP exporter")
    e2e.check_equal(value(samples, "malfix_flows_out_total", output=f"json:{out}"), forwarded,
                    "flows out of the JSON output")
    # The output counts a flow when it is written to its buffer; the file gets it on a flush.
    e2e.wait_for_json(out, lambda records: len(records) == forwarded)
    for kind, key in (("IP", "hits_ip"), ("IPORT", "hits_iport"), ("DNS", "hits_dns")):
        e2e.check_equal(value(samples, "malfix_hits_total", type=kind),
                        softflowd[key] + yaf[key], f"{kind} hits")
    hits = sum(softflowd[k] + yaf[k] for k in ("hits_ip", "hits_iport", "hits_dns"))
    e2e.check_equal(value(samples, "malfix_feed_hits_total", feed=session.sample("trails")),
                    hits, "hits of the trails feed")
    e2e.check_equal(value(samples, "malfix_flows_with_hits_total"),
                    softflowd["flows_with_hits"] + yaf["flows_with_hits"], "flows with hits")
    e2e.check_equal(total(samples, "malfix_drops_total"), 0, "drops")
    e2e.check(("malfix_drops_total", frozenset({("reason", "missing_template")})) in samples,
              "drop reasons are listed even at zero")
    e2e.check_equal(value(samples, "malfix_queue_depth", queue="serializer"), 0,
                    "serializer queue depth once idle")
    promtool_check(session, text)

    status, _ = scrape(session, port, "/")
    e2e.check_equal(status, 404, "status of GET /")
    status, _ = scrape(session, port, "/metricsx")
    e2e.check_equal(status, 404, "status of GET /metricsx")

    malfix.send(signal.SIGHUP)
    malfix.wait_for(r"msg=\"snapshot swapped\"")
    _, samples = wait_for(session, port,
                          lambda s: value(s, "malfix_snapshot_reloads_total", result="ok") == 1,
                          "one reload")
    e2e.check(value(samples, "malfix_snapshot_age_seconds") < 5, "snapshot age after reload")

    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(), 0, "exit status after SIGTERM")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
