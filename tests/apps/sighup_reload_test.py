"""SIGHUP reloads the threat intelligence; a failed reload keeps the current snapshot.

A daemon reads a copy of the sample trails made in the test's temporary directory. The yaf
export sent over TCP gives the four DNS hits; a custom trail 8.8.4.4 is added, SIGHUP swaps
the snapshot, and the same export now also hits 8.8.4.4 exactly as a batch run with the new
trails does. Then the trails directory disappears: SIGHUP must log that the reload failed,
keep the snapshot (8.8.4.4 still hits) and keep running.
"""

import os
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

ADDED_TRAIL = "8.8.4.4"


def send_yaf(session, port, out, expected):
    """Sends the yaf export on a new connection; returns the hits malfix wrote for it once
    there are as many as `expected` has (and a moment later, so extra hits show too)."""
    with open(session.sample("yaf_mixed_v4v6_dpi.yaf"), "rb") as f:
        exporter = f"tcp:127.0.0.1:{e2e.send_tcp(port, f.read())}"

    def hits(records):
        return e2e.hit_list([r for r in records if r["exporter"] == exporter])

    e2e.wait_for_json(out, lambda records: len(hits(records)) >= len(expected))
    time.sleep(0.2)
    return hits(e2e.read_json_file(out))


def reload(malfix, pattern):
    offset = len(malfix.stderr())
    malfix.send(signal.SIGHUP)
    return malfix.wait_for(pattern, 5, start=offset)


def body(session):
    trails = session.path("trails")
    shutil.copytree(session.sample("trails"), trails)
    out = session.path("hits.json")
    malfix = session.start_malfix("--listen", "tcp://127.0.0.1:0", "--intel", trails,
                                  "--output", f"json:{out}", "--stats-interval", "0")
    port = e2e.listen_port(malfix, "tcp")
    before = int(e2e.log_records(malfix.stderr(), "snapshot ready")[0]["indicators"])

    dns_only = [(e2e.DNS_TRAIL, "DNS", "dns_qname")] * 4
    hits = send_yaf(session, port, out, dns_only)
    e2e.check_equal(hits, dns_only, "hits before the reload")

    with open(os.path.join(trails, "custom", "resolvers.txt"), "w", encoding="utf-8") as f:
        f.write(f"# added by the SIGHUP test\n{ADDED_TRAIL}\n")
    reload(malfix, r'msg="snapshot swapped"')
    ready = e2e.log_records(malfix.stderr(), "snapshot ready")
    e2e.check_equal(int(ready[-1]["indicators"]), before + 1, "indicators after the reload")
    status, stdout, _ = session.run_malfix("--read", session.sample("yaf_mixed_v4v6_dpi.yaf"),
                                           "--intel", trails, "--output", "json:-")
    e2e.check_equal(status, 0, "batch run with the new trails")
    expected = e2e.hit_list(e2e.json_lines(stdout))
    e2e.check(any(t == ADDED_TRAIL for t, _, _ in expected), "batch run misses the new trail")
    hits = send_yaf(session, port, out, expected)
    e2e.check_equal(hits, expected, "hits after the reload")

    shutil.move(trails, session.path("trails.gone"))
    failed = reload(malfix, r"^.*reload failed.*$")
    e2e.check("level=error" in failed.group(0) or "level=warn" in failed.group(0),
              f"a failed reload is not logged as a warning or error: {failed.group(0)}")
    e2e.check(trails in failed.group(0), f"the failed reload should name {trails}")
    e2e.check(malfix.running(), "malfix exited after a failed reload")
    hits = send_yaf(session, port, out, expected)
    e2e.check_equal(hits, expected, "hits after the failed reload (old snapshot kept)")

    malfix.send(signal.SIGTERM)
    e2e.check_equal(malfix.wait(10), 0, "malfix exit status after SIGTERM")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
