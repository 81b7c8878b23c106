"""Exit statuses and messages of the malfix command (README "Exit status").

0 on success, 2 on a usage error with a one-line reason on stderr, 1 on a runtime failure
(an unreadable input, intelligence that cannot be loaded, an output that cannot be opened).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import malfix_e2e as e2e  # noqa: E402


def reason_lines(stderr):
    """stderr lines that are not malfix's logfmt log: where a usage reason goes."""
    return [line for line in stderr.splitlines() if line and not line.startswith("ts=")]


def expect_usage_error(session, flags, culprit):
    status, stdout, stderr = session.run_malfix(*flags)
    e2e.check_equal(status, 2, f"exit status of malfix {' '.join(flags)}")
    lines = reason_lines(stderr)
    e2e.check_equal(len(lines), 1, f"reason lines of malfix {' '.join(flags)} (stderr: {stderr!r})")
    e2e.check(culprit in lines[0], f"the reason should name {culprit!r}: {lines[0]!r}")
    e2e.check_equal(stdout, "", f"stdout of malfix {' '.join(flags)}")


def expect_runtime_error(session, flags, culprit):
    status, stdout, stderr = session.run_malfix(*flags)
    e2e.check_equal(status, 1, f"exit status of malfix {' '.join(flags)}")
    errors = [r for r in e2e.log_records(stderr) if r.get("level") == "error"]
    e2e.check(errors, f"no level=error line for malfix {' '.join(flags)}:\n{stderr}")
    e2e.check(any(culprit in " ".join(r.values()) for r in errors),
              f"the error should name {culprit!r}:\n{stderr}")
    e2e.check_equal(stdout, "", f"stdout of malfix {' '.join(flags)}")


def body(session):
    trails = session.sample("trails")
    sample = session.sample("softflowd_sample.ipfix")
    missing = session.path("no-such-file.ipfix")

    status, stdout, _ = session.run_malfix("--help")
    e2e.check_equal(status, 0, "exit status of --help")
    e2e.check("--listen" in stdout and "--output" in stdout, f"--help output: {stdout!r}")
    status, stdout, _ = session.run_malfix("--version")
    e2e.check_equal(status, 0, "exit status of --version")
    e2e.check(stdout.startswith("malfix "), f"--version output: {stdout!r}")

    expect_usage_error(session, ["--no-such-flag"], "--no-such-flag")
    expect_usage_error(session, [], "--listen")
    expect_usage_error(session, ["--intel", trails], "--listen")
    expect_usage_error(session, ["--read", sample], "--intel")
    expect_usage_error(session, ["--read", sample, "--intel", trails, "--mode", "fast"], "fast")
    expect_usage_error(session, ["--read", sample, "--intel", trails, "--threads", "0"],
                       "--threads")
    expect_usage_error(session, ["--read", sample, "--intel", trails, "--output", "kafka2://x"],
                       "kafka2")
    expect_usage_error(session, ["--listen", "sctp://127.0.0.1:0", "--intel", trails], "sctp")

    expect_runtime_error(session, ["--read", missing, "--intel", trails], missing)
    expect_runtime_error(session, ["--read", sample, "--intel", session.path("no-trails")],
                         session.path("no-trails"))
    bad_json = session.path("no-dir", "out.json")
    expect_runtime_error(session, ["--read", sample, "--intel", trails,
                                   "--output", f"json:{bad_json}"], bad_json)
    not_ipfix = session.path("notes.txt")
    with open(not_ipfix, "w", encoding="utf-8") as f:
        f.write("these are notes, not IPFIX\n" * 20)
    expect_runtime_error(session, ["--read", not_ipfix, "--intel", trails], not_ipfix)


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
