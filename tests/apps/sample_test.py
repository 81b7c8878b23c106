"""The README sample: exactly the detections tests/data/sample/SOURCE.md lists, every time.

Runs the batch of scripts/sample.sh (the yaf DNS export plus the softflowd export, the Maltrail
subset) with the default matcher threads and with one, and checks the JSON lines, the exit
status and the summary line against the expected numbers.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

# What the binary reports for the sample: 41 yaf flows + 9 softflowd flows; the 3 options
# records (2 yaf, 1 softflowd) are counted apart.
EXPECTED_SUMMARY = {"messages": 10, "messages_rejected": 0, "flows_in": 50, "flows_out": 9,
                    "flows_with_hits": 9, "hits_ip": 4, "hits_iport": 1, "hits_dns": 4,
                    "options_records": 3, "drops": {}}


def run_sample(session, *flags):
    status, stdout, stderr = session.run_malfix(
        "--read", session.sample("yaf_mixed_v4v6_dpi.yaf"),
        "--read", session.sample("softflowd_sample.ipfix"),
        "--intel", session.sample("trails"), "--output", "json:-", *flags)
    e2e.check_equal(status, 0, f"exit status with {flags or 'default flags'}")
    return e2e.json_lines(stdout, "stdout"), stdout, e2e.summary(stderr)


def check_run(records, stdout, totals):
    e2e.check_equal(e2e.hit_set(records), e2e.SAMPLE_HITS, "set of (trail, type, field)")
    e2e.check_equal(len(records), 9, "flows with hits")
    e2e.check(all(r["hits"] for r in records), "alert mode printed a flow without hits")
    dns = [r for r in records if r["hits"][0]["type"] == "DNS"]
    e2e.check_equal(len(dns), 4, "flows hitting (ns1).internal.example.org")
    for address in e2e.CLEAN_ADDRESSES + ["2001:db8::53"]:
        e2e.check(f'"{address}"' not in stdout, f"clean address {address} in the output")
    for key, value in EXPECTED_SUMMARY.items():
        e2e.check_equal(totals.get(key), value, f"summary {key}")


def body(session):
    first = run_sample(session)
    check_run(*first)
    second = run_sample(session, "--threads", "1")
    check_run(*second)
    e2e.check_equal(e2e.hit_list(second[0]), e2e.hit_list(first[0]),
                    "hits with one matcher thread vs the default")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
