"""Damaged Messages over TCP and UDP never stop the daemon, and it keeps serving afterwards.

Seeded byte flips and truncations of the yaf export go over TCP (malfix may close each such
Transport Session) and damaged or random datagrams over UDP (malfix drops and counts them).
Then a clean export over TCP must still give the four DNS hits, the drops must be counted in
the summary, and SIGTERM must end malfix with status 0.
"""

import os
import random
import signal
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

SEEDS = 30


def damaged(data, rng):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 16)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[:rng.randrange(1, len(data))]
    return bytes(data)


def send_tcp_tolerant(port, data):
    """Like send_tcp, but malfix may close a session it finds malformed at any moment."""
    try:
        e2e.send_tcp(port, data)
    except (ConnectionResetError, BrokenPipeError):
        pass


def body(session):
    out = session.path("hits.json")
    malfix = session.start_malfix("--listen", "tcp://127.0.0.1:0", "--listen", "udp://127.0.0.1:0",
                                  "--intel", session.sample("trails"),
                                  "--output", f"json:{out}", "--stats-interval", "0")
    tcp_port = e2e.listen_port(malfix, "tcp")
    udp_port = e2e.listen_port(malfix, "udp")
    yaf = open(session.sample("yaf_mixed_v4v6_dpi.yaf"), "rb").read()
    softflowd = open(session.sample("softflowd_sample.ipfix"), "rb").read()  # one Message

    rng = random.Random(4739)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _ in range(SEEDS):
            send_tcp_tolerant(tcp_port, damaged(yaf, rng))
            udp.sendto(damaged(softflowd, rng), ("127.0.0.1", udp_port))
            udp.sendto(softflowd[:16] + rng.randbytes(rng.randrange(0, 600)),
                       ("127.0.0.1", udp_port))
    e2e.wait_udp_read(udp_port)
    e2e.check(malfix.running(), f"malfix stopped on damaged input:\n{malfix.stderr()}")

    exporter = f"tcp:127.0.0.1:{e2e.send_tcp(tcp_port, yaf)}"
    e2e.wait_for_json(out, lambda records: len([r for r in records
                                                if r["exporter"] == exporter]) >= 4)
    malfix.send(signal.SIGTERM)
    status = malfix.wait(15)
    e2e.check_no_signal(status, "damaged network input")
    e2e.check_equal(status, 0, "malfix exit status after SIGTERM")
    stderr = malfix.stderr()
    for marker in ("AddressSanitizer", "runtime error:", "terminate called"):
        e2e.check(marker not in stderr, f"{marker} on stderr")
    clean = [r for r in e2e.read_json_file(out) if r["exporter"] == exporter]
    e2e.check_equal(e2e.hit_list(clean), [(e2e.DNS_TRAIL, "DNS", "dns_qname")] * 4,
                    "hits of the clean export sent after the damaged ones")
    totals = e2e.summary(stderr)
    e2e.check(totals["messages_rejected"] + sum(totals["drops"].values()) > 0,
              f"no drop counted: {totals}")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
