"""A plain TCP client (socat) streams a yaf IPFIX file into malfix's TCP listener.

yaf writes the same Messages to a file as to a TCP collector (RFC 5655), so socat can replay
the shipped export byte for byte; malfix must find the four DNS hits on
ns1.internal.example.org that the README sample promises, from yaf's nested DNS records.
"""

import signal
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import malfix_e2e as e2e  # noqa: E402

YAF_FLOWS = 41  # Data Records of yaf_mixed_v4v6_dpi.yaf that are flows (SOURCE.md)


def body(session):
    socat = e2e.find_tool("socat")
    out = session.path("out.json")
    malfix = session.start_malfix("--listen", "tcp://127.0.0.1:0",
                                  "--intel", session.sample("trails"),
                                  "--output", f"json:{out}", "--stats-interval", "0.1")
    port = e2e.listen_port(malfix, "tcp")

    client = session.start([socat, "-u", "FILE:" + session.sample("yaf_mixed_v4v6_dpi.yaf"),
                            f"TCP:127.0.0.1:{port}"], "socat")
    e2e.check_equal(client.wait(10), 0, "socat exit status")
    e2e.wait_for_stats(malfix, "flows_in", YAF_FLOWS)
    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(10), 0, "malfix exit status after SIGTERM")

    records = e2e.read_json_file(out)
    e2e.check_equal(len(records), 4, "flows with hits")
    e2e.check_equal(e2e.hit_list(records), [(e2e.DNS_TRAIL, "DNS", "dns_qname")] * 4, "hits")
    for record in records:
        e2e.check("ns1.internal.example.org" in record.get("dns_qnames", []),
                  f"hit without its DNS name: {record}")
        e2e.check(record["exporter"].startswith("tcp:127.0.0.1:"),
                  f"exporter should name the TCP peer: {record['exporter']}")
    totals = e2e.summary(malfix.stderr())
    e2e.check_equal(totals["flows_in"], YAF_FLOWS, "flows_in")
    e2e.check_equal(totals["hits_dns"], 4, "hits_dns")
    e2e.check_equal(totals["drops"], {}, "drops")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
