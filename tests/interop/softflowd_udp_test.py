"""softflowd -> malfix over UDP -> IPFIX file -> ipfixDump.

Debian's softflowd turns the sample pcap into IPFIX and sends it to malfix's UDP listener;
malfix writes an IPFIX file, and libfixbuf's ipfixDump must decode it without a complaint and
show the threat elements by name (RFC 5610 type records). --mode alert: only the five flows
that hit, no clean address. --mode pipeline: every flow softflowd exported, hits annotated.
"""

import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import malfix_e2e as e2e  # noqa: E402


def run_softflowd(session, port):
    softflowd = e2e.find_tool("softflowd")
    process = session.start([softflowd, "-d", "-r", session.sample("sample-traffic.pcap"),
                             "-v", "10", "-6", "-A", "milli", "-n", f"127.0.0.1:{port}"],
                            "softflowd")
    status = process.wait(15)
    e2e.check_equal(status, 0, "softflowd exit status")
    exported = re.search(r"Flows exported: (\d+)", process.stdout() + process.stderr())
    e2e.check(exported, f"softflowd did not report its export:\n{process.stdout()}")
    e2e.check(int(exported.group(1)) > 0, "softflowd exported no flows")
    return int(exported.group(1))


def check_hits(flows):
    pairs = set()
    for record in flows:
        pairs.update(e2e.trail_types(record))
    e2e.check_equal(pairs, set(e2e.SOFTFLOWD_TRAILS.items()),
                    "(malfix_trail, malfix_type) pairs in ipfixDump's output")
    hit_records = [r for r in flows if e2e.record_values(r, "malfix_trail")]
    e2e.check_equal(len(hit_records), len(e2e.SOFTFLOWD_TRAILS), "flow records with a hit")


def check_type_records(records):
    names = set()
    for record in records:
        names.update(e2e.record_values(record, "informationElementName"))
    for name in ("malfix_type", "malfix_trail", "malfix_info", "malfix_reference"):
        e2e.check(name in names, f"no RFC 5610 type record names {name}; names: {names}")


def body(session):
    mode = session.args.mode
    out = session.path("out.ipfix")
    malfix = session.start_malfix("--listen", "udp://127.0.0.1:0",
                                  "--intel", session.sample("trails"),
                                  "--output", f"ipfix:{out}", "--mode", mode,
                                  "--stats-interval", "0")
    port = e2e.listen_port(malfix, "udp")

    exported = run_softflowd(session, port)
    # UDP has no end of data: wait until malfix's socket has no unread datagram, then give it
    # a short grace; SIGTERM drains whatever is queued inside malfix.
    e2e.wait_udp_read(port)
    time.sleep(0.3)
    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(10), 0, "malfix exit status after SIGTERM")
    totals = e2e.summary(malfix.stderr())
    e2e.check_equal(totals["flows_in"], exported, "malfix flows_in vs softflowd's export count")
    e2e.check_equal(totals["drops"], {}, "malfix drops")

    text = e2e.ipfix_dump(session, out, "--rfc5610")
    records = e2e.dump_records(text)
    flows = [r for r in records if e2e.is_flow_record(r)]
    check_type_records([r for r in records if not e2e.is_flow_record(r)])
    check_hits(flows)
    if mode == "alert":
        e2e.check_equal(len(flows), len(e2e.SOFTFLOWD_TRAILS), "flow records in alert mode")
        for address in e2e.CLEAN_ADDRESSES:
            e2e.check(address not in text, f"clean address {address} in alert-mode output")
    else:
        # softflowd's Message holds one more Data Record, an options record (its sampling
        # settings); malfix counts it as options_records and forwards flows only.
        e2e.check_equal(len(flows), exported, "flow records in pipeline mode")
        e2e.check_equal(totals["flows_out"], exported, "malfix flows_out in pipeline mode")
        e2e.check("198.51.100.7" in text, "clean flow to 198.51.100.7 missing in pipeline mode")


def extra_args(parser):
    parser.add_argument("--mode", choices=["alert", "pipeline"], default="alert")


if __name__ == "__main__":
    e2e.run_test(body, __doc__, extra_args)
