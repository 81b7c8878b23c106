"""--mode pipeline forwards every flow, each JSON object complete, hits still attached."""

import datetime
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

REQUIRED = {"src_addr": str, "dst_addr": str, "src_port": int, "dst_port": int, "proto": int,
            "time_start": (str, type(None)), "time_end": (str, type(None)), "bytes": int,
            "packets": int, "hits": list}
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def parse_time(value, what):
    if value is None:
        return None
    e2e.check(RFC3339_UTC.match(value), f"{what} is not RFC 3339 UTC: {value!r}")
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_record(record):
    for key, kind in REQUIRED.items():
        e2e.check(key in record, f"key {key} missing: {record}")
        e2e.check(isinstance(record[key], kind) and not isinstance(record[key], bool),
                  f"{key} has the wrong type: {record}")
    start = parse_time(record["time_start"], "time_start")
    end = parse_time(record["time_end"], "time_end")
    if start and end:
        e2e.check(start <= end, f"time_start after time_end: {record}")
    if "dns_qnames" in record:
        names = record["dns_qnames"]
        e2e.check(isinstance(names, list) and names and all(isinstance(n, str) for n in names),
                  f"dns_qnames must be a non-empty list of strings: {record}")
    for hit in record["hits"]:
        e2e.check({"type", "trail", "info", "reference", "field"} <= set(hit),
                  f"incomplete hit: {hit}")


def body(session):
    status, stdout, stderr = session.run_malfix(
        "--read", session.sample("yaf_mixed_v4v6_dpi.yaf"),
        "--read", session.sample("softflowd_sample.ipfix"),
        "--intel", session.sample("trails"), "--output", "json:-", "--mode", "pipeline")
    e2e.check_equal(status, 0, "exit status")
    records = e2e.json_lines(stdout, "stdout")
    totals = e2e.summary(stderr)
    e2e.check_equal(len(records), totals["flows_in"], "JSON objects vs summary flows_in")
    e2e.check_equal(totals["flows_in"], 50, "summary flows_in")
    e2e.check_equal(totals["flows_out"], totals["flows_in"], "summary flows_out in pipeline mode")
    for record in records:
        check_record(record)

    e2e.check_equal(e2e.hit_set(records), e2e.SAMPLE_HITS, "hits in pipeline mode")
    e2e.check_equal(sum(1 for r in records if r["hits"]), 9, "flows with hits")
    clean = [r for r in records if r["dst_addr"] == "198.51.100.7"]
    e2e.check(clean and not clean[0]["hits"], "the clean flow to 198.51.100.7 is missing")
    named = [r for r in records if "dns_qnames" in r]
    e2e.check(len(named) >= 4, f"only {len(named)} flows carry dns_qnames")
    families = {":" in r["src_addr"] for r in records}
    e2e.check_equal(families, {True, False}, "address families present (IPv4 and IPv6)")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
