"""--log-format json writes every log line to stderr as one JSON object (ts, level, msg and
the fields); logfmt stays the default; --log-level filters both (issue 5).
"""

import json
import re
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402


def run(session, *flags):
    status, stdout, stderr = session.run_malfix(
        "--read", session.sample("yaf_mixed_v4v6_dpi.yaf"), "--read",
        session.sample("softflowd_sample.ipfix"), "--intel", session.sample("trails"),
        "--read", session.path("missing.ipfix"), *flags)
    e2e.check_equal(status, 1, f"exit status with a missing input ({' '.join(flags)})")
    e2e.check_equal(e2e.hit_set(e2e.json_lines(stdout)), e2e.SAMPLE_HITS, "hits on stdout")
    return stderr


def body(session):
    stderr = run(session, "--log-format", "json")
    objects = []
    for number, line in enumerate(stderr.splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise e2e.TestFailure(f"stderr line {number} is not JSON ({error}): {line!r}")
        e2e.check(isinstance(record, dict), f"line {number} is not an object: {line!r}")
        e2e.check(list(record)[:3] == ["ts", "level", "msg"],
                  f"line {number} does not start with ts, level, msg: {line!r}")
        e2e.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["ts"]),
                  f"ts of line {number}: {record['ts']!r}")
        objects.append(record)
    messages = [r["msg"] for r in objects]
    for msg in ("malfix starting", "snapshot ready", "input done", "summary"):
        e2e.check(msg in messages, f"no {msg!r} line in the JSON log:\n{stderr}")
    summary = next(r for r in objects if r["msg"] == "summary")
    e2e.check_equal(summary.get("flows_in"), "50", "flows_in field of the JSON summary")
    error = next(r for r in objects if r["level"] == "error")
    e2e.check("missing.ipfix" in error.get("input", ""), f"error line names the input: {error}")

    # The default is logfmt, and --log-level warn leaves only the error in either format.
    stderr = run(session)
    e2e.check(all(line.startswith("ts=") for line in stderr.splitlines()),
              f"default log is not logfmt:\n{stderr}")
    for fmt in ("logfmt", "json"):
        stderr = run(session, "--log-format", fmt, "--log-level", "warn")
        lines = stderr.splitlines()
        e2e.check(len(lines) == 1 and "missing.ipfix" in lines[0],
                  f"--log-level warn --log-format {fmt}: expected only the error line:\n{stderr}")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
