"""Malformed datagrams dropped by the UDP listener are counted in the stats line and summary.

README "Bad input": every drop is counted by reason, shown in the stats line and the summary;
a malformed Message is dropped on UDP. Five datagrams cut short of their Message Length and
three that are not IPFIX at all must show up there as eight drops.
KNOWN BUG: fails today; the listener logs them (udp_malformed #1..#8) but the stats lines
and the summary say drops=none and messages_rejected=0. See the report to the lead.
"""

import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

SHORT, NOT_IPFIX = 5, 3


def body(session):
    malfix = session.start_malfix("--listen", "udp://127.0.0.1:0",
                                  "--intel", session.sample("trails"),
                                  "--output", f"json:{session.path('hits.json')}",
                                  "--stats-interval", "0.1")
    port = e2e.listen_port(malfix, "udp")
    with open(session.sample("softflowd_sample.ipfix"), "rb") as f:
        message = f.read()  # one 892-octet Message
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _ in range(SHORT):
            udp.sendto(message[:300], ("127.0.0.1", port))
        for _ in range(NOT_IPFIX):
            udp.sendto(b"hello, this is not IPFIX", ("127.0.0.1", port))
    e2e.wait_udp_read(port)
    time.sleep(0.1)  # read, perhaps not yet decoded: a moment for the listener

    offset = len(malfix.stderr())
    stats = malfix.wait_for(r"^.*msg=stats .*$", 5, start=offset).group(0)
    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(10), 0, "malfix exit status after SIGTERM")
    totals = e2e.summary(malfix.stderr())
    counted = totals["messages_rejected"] + sum(totals["drops"].values())
    e2e.check_equal(counted, SHORT + NOT_IPFIX,
                    f"KNOWN BUG: dropped datagrams counted in the summary "
                    f"(messages_rejected={totals['messages_rejected']}, "
                    f"drops={totals['drops'] or 'none'})")
    e2e.check("drops=none" not in stats, f"KNOWN BUG: stats line after the drops: {stats}")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
