"""malfix exports over TCP to a plain TCP sink (socat), and ipfixDump reads what arrived.

malfix runs a batch (--read only): it must flush its TCP output before it exits. The sink's file
must decode with ipfixDump --rfc5610 without a complaint and show every trail of the sample,
and, because malfix keeps each original record byte for byte and exports yaf's nested
templates, ipfixDump --yaf must still decode the DNS subTemplateMultiList with its dnsQName.
"""

import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import malfix_e2e as e2e  # noqa: E402

QNAME = "ns1.internal.example.org."


def start_sink(session, path):
    socat = e2e.find_tool("socat")
    sink = session.start([socat, "-d", "-d", "-u", "TCP-LISTEN:0,bind=127.0.0.1",
                          f"CREATE:{path}"], "socat-sink")
    match = sink.wait_for(r"listening on AF=2 127\.0\.0\.1:(\d+)")
    return sink, int(match.group(1))


def check_trails(session, path):
    records = e2e.dump_records(e2e.ipfix_dump(session, path, "--rfc5610"))
    flows = [r for r in records if e2e.is_flow_record(r)]
    e2e.check_equal(len(flows), 9, "flow records at the sink")
    trails = {t for r in flows for t in e2e.record_values(r, "malfix_trail")}
    expected = {trail for trail, _, _ in e2e.SAMPLE_HITS}
    e2e.check_equal(trails, expected, "malfix_trail values at the sink")


def check_dns_lists(session, path):
    records = e2e.dump_records(e2e.ipfix_dump(session, path, "--rfc5610", "--yaf"))
    dns_flows = [r for r in records if e2e.DNS_TRAIL in e2e.record_values(r, "malfix_trail")]
    e2e.check_equal(len(dns_flows), 4, "flows hitting the DNS trail")
    for record in dns_flows:
        e2e.check(e2e.record_values(record, "subTemplateMultiList"),
                  f"no subTemplateMultiList in a yaf DNS flow: {record['fields']}")
        e2e.check(QNAME in e2e.record_values(record, "dnsQName"),
                  f"nested dnsQName {QNAME} did not decode: {record['fields']}")


def body(session):
    path = session.path("sink.ipfix")
    sink, port = start_sink(session, path)
    status, stdout, stderr = session.run_malfix(
        "--read", session.sample("yaf_mixed_v4v6_dpi.yaf"),
        "--read", session.sample("softflowd_sample.ipfix"),
        "--intel", session.sample("trails"), "--output", f"ipfix+tcp://127.0.0.1:{port}")
    e2e.check_equal(status, 0, "malfix exit status")
    e2e.check_equal(e2e.summary(stderr)["flows_out"], 9, "malfix flows_out")
    # socat without fork serves one connection and exits when malfix closes it.
    e2e.check_equal(sink.wait(10), 0, "socat sink exit status")

    check_trails(session, path)
    check_dns_lists(session, path)


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
