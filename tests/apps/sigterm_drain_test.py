"""SIGTERM in daemon mode drains the queues and flushes the outputs before malfix exits 0.

Exporters stream the sample over TCP, each file several times per connection (each connection
waits until malfix has read every byte), and SIGTERM follows at once, while the matcher queues
may still be full: the JSON file must then hold every expected hit of every copy.
"""

import os
import signal
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

CONNECTIONS = 20  # per sample file
REPEATS = 10  # copies of the file sent on one connection: enough to keep the queues busy
COPIES = CONNECTIONS * REPEATS


def body(session):
    out = session.path("hits.json")
    malfix = session.start_malfix("--listen", "tcp://127.0.0.1:0",
                                  "--intel", session.sample("trails"),
                                  "--output", f"json:{out}", "--threads", "2",
                                  "--stats-interval", "0")
    port = e2e.listen_port(malfix, "tcp")
    files = [session.sample("yaf_mixed_v4v6_dpi.yaf"), session.sample("softflowd_sample.ipfix")]
    exporters = set()
    for _ in range(CONNECTIONS):
        for path in files:
            with open(path, "rb") as f:
                exporters.add(e2e.send_tcp(port, f.read() * REPEATS))

    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(15), 0, "malfix exit status after SIGTERM")
    malfix.wait_for(r'msg="stopping: draining queues and flushing outputs" signal=SIGTERM', 0)

    totals = e2e.summary(malfix.stderr())
    e2e.check_equal(totals["flows_in"], 50 * COPIES, "summary flows_in")
    e2e.check_equal(totals["flows_out"], 9 * COPIES, "summary flows_out")
    records = e2e.read_json_file(out)
    e2e.check_equal(len(records), 9 * COPIES, "JSON objects written before exit")
    e2e.check_equal(e2e.hit_set(records), e2e.SAMPLE_HITS, "hits")
    # One hit per flow: the five softflowd trails once, the DNS trail on four yaf flows.
    per_copy = list(e2e.SAMPLE_HITS) + [(e2e.DNS_TRAIL, "DNS", "dns_qname")] * 3
    e2e.check_equal(e2e.hit_list(records), sorted(per_copy * COPIES), "every hit of every copy")
    seen = {int(r["exporter"].rsplit(":", 1)[1]) for r in records}
    e2e.check_equal(seen, exporters, "exporters (client ports) named in the output")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
