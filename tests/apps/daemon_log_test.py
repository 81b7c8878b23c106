"""In daemon mode every line malfix writes to stderr is a logfmt record (README: logfmt log).

A daemon with a TCP and a UDP listener receives one exporter's Messages, prints stats lines
and stops on SIGTERM; each stderr line must carry ts=, a known level= and msg=, and the
lifecycle lines (start with the version, effective configuration, listening, summary) must be
there. (The listeners' own lines once bypassed the logfmt logger: "info: listening on ...".)
"""

import os
import signal
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

LEVELS = {"debug", "info", "warn", "error"}


def body(session):
    malfix = session.start_malfix("--listen", "tcp://127.0.0.1:0", "--listen", "udp://127.0.0.1:0",
                                  "--intel", session.sample("trails"),
                                  "--output", f"json:{session.path('hits.json')}",
                                  "--stats-interval", "0.1")
    port = e2e.listen_port(malfix, "tcp")
    e2e.listen_port(malfix, "udp")
    with open(session.sample("softflowd_sample.ipfix"), "rb") as f:
        e2e.send_tcp(port, f.read())
    e2e.wait_for_stats(malfix, "flows_in", 9)
    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(10), 0, "malfix exit status after SIGTERM")

    stderr = malfix.stderr()
    bad = []
    for line in stderr.splitlines():
        record = e2e.logfmt(line)
        if not (line.startswith("ts=") and record.get("level") in LEVELS and record.get("msg")):
            bad.append(line)
    e2e.check(not bad, "stderr lines that are not logfmt records:\n" + "\n".join(bad))
    messages = [r["msg"] for r in e2e.log_records(stderr)]
    for msg in ("malfix starting", "effective configuration", "listening", "stats", "summary"):
        e2e.check(msg in messages, f"no msg={msg!r} line on stderr")
    e2e.check(e2e.log_records(stderr, "malfix starting")[0].get("version"),
              "the start line names no version")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
