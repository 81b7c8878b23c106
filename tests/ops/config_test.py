"""--config FILE takes every flag in TOML, the command line overrides it, --print-config writes
the effective configuration back out, and a bad file is an exit 2 that names key and line
(issue 5).
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packaging",
                       "malfix.toml")


def write(session, name, text):
    path = session.path(name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def toml(text):
    """The key = value lines of --print-config output as a dict of raw values."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, raw = line.partition(" = ")
            values[key] = raw
    return values


def check_usage_error(session, path, pattern, what):
    status, stdout, stderr = session.run_malfix("--config", path)
    e2e.check_equal(status, 2, f"exit status for {what}")
    e2e.check(stdout == "", f"{what}: nothing on stdout, got {stdout!r}")
    lines = stderr.strip().splitlines()
    e2e.check(len(lines) == 1 and re.search(pattern, lines[0]),
              f"{what}: expected one line matching /{pattern}/, got:\n{stderr}")


def body(session):
    trails = session.sample("trails")
    yaf = session.sample("yaf_mixed_v4v6_dpi.yaf")
    softflowd = session.sample("softflowd_sample.ipfix")
    out = session.path("hits.json")
    config = write(session, "malfix.toml", f"""# every kind of value
read = ["{yaf}",  # a list over two lines
        "{softflowd}"]
intel = "{trails}"
output = ["json:{out}"]
mode = "alert"
threads = 2
stats-interval = 0
log-level = "warn"
kafka-wait = true
""")

    # The file alone runs the batch, exactly as the same flags do.
    status, stdout, stderr = session.run_malfix("--config", config)
    e2e.check_equal(status, 0, "exit status with --config")
    e2e.check_equal(stderr, "", "stderr at log-level warn from the file")
    e2e.check_equal(e2e.hit_set(e2e.read_json_file(out)), e2e.SAMPLE_HITS, "hits with --config")

    # --print-config: the effective values, the command line winning over the file.
    status, printed, _ = session.run_malfix("--config", config, "--threads", "3", "--read", yaf,
                                            "--print-config")
    e2e.check_equal(status, 0, "exit status of --print-config")
    values = toml(printed)
    e2e.check_equal(values.get("threads"), "3", "threads given on the command line")
    e2e.check_equal(values.get("read"), f'["{yaf}"]', "read given on the command line")
    e2e.check_equal(values.get("intel"), f'["{trails}"]', "intel from the file")
    e2e.check_equal(values.get("log-level"), '"warn"', "log-level from the file")
    e2e.check_equal(values.get("kafka-wait"), "true", "kafka-wait from the file")
    e2e.check_equal(values.get("stats-interval"), "0", "stats-interval from the file")
    e2e.check_equal(values.get("template-timeout"), "1800", "a default")

    # What --print-config writes reads back to the same configuration.
    again = write(session, "printed.toml", printed)
    status, reprinted, _ = session.run_malfix("--config", again, "--print-config")
    e2e.check_equal(status, 0, "exit status of --print-config on its own output")
    e2e.check_equal(reprinted, printed, "--print-config of --print-config's output")

    # The shipped example is valid.
    status, _, stderr = session.run_malfix("--config", EXAMPLE, "--print-config")
    e2e.check_equal(status, 0, f"--print-config of packaging/malfix.toml ({stderr.strip()})")

    bad = write(session, "unknown.toml", "# comment\n\nthreads = 2\nthreadz = 2\n")
    check_usage_error(session, bad, r"unknown\.toml:4: unknown key 'threadz'", "an unknown key")
    bad = write(session, "value.toml", f'intel = "{trails}"\nthreads = 0\n')
    check_usage_error(session, bad, r"value\.toml:2: key 'threads': .*not in range",
                      "a value out of range")
    bad = write(session, "word.toml", f'intel = "{trails}"\n\nmode = "fast"\n')
    check_usage_error(session, bad, r"word\.toml:3: key 'mode': .*fast", "a bad word")
    bad = write(session, "number.toml", 'stats-interval = "soon"\n')
    check_usage_error(session, bad, r"number\.toml:1: key 'stats-interval'", "not a number")
    bad = write(session, "twice.toml", 'intel = "a"\nintel = "b"\n')
    check_usage_error(session, bad, r"twice\.toml:2: key 'intel' is already set on line 1",
                      "a key given twice")
    bad = write(session, "table.toml", '[malfix]\nthreads = 2\n')
    check_usage_error(session, bad, r"table\.toml:1: tables", "a table")
    bad = write(session, "open.toml", 'read = ["a",\n "b"\n')
    check_usage_error(session, bad, r"open\.toml:1: list of 'read' is never closed",
                      "an unclosed list")
    bad = write(session, "comment.toml", 'read = ["a",\n "b"]  # b\n')
    check_usage_error(session, bad, r"comment\.toml:2: no comments inside a list",
                      "a comment on a list's last line")
    check_usage_error(session, session.path("missing.toml"), r"missing\.toml: cannot open",
                      "a missing file")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
