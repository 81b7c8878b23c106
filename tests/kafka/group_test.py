"""Kafka input: two malfix processes in one consumer group split a topic, every flow is
processed exactly once, and offsets are committed (a later group member finds nothing left).

The topic is fed by malfix's own Kafka output, half with GoFlow2's length prefix and half bare,
so the input's framing detection is exercised too.
"""

import os
import signal
import time

from kafka_e2e import Broker, add_broker_arg, check, check_equal, ipfix_flows
from malfix_e2e import read_json_file, run_test, summary

FLOWS = 6000


def consumer(session, broker, name):
    out = session.path(f"{name}.json")
    process = session.start_malfix(
        "--listen", f"kafka://{broker.bootstrap}/in?group=g1", "--intel",
        session.sample("trails"), "--mode", "pipeline", "--stats-interval", "0",
        "--threads", "1", "--output", f"json:{out}",
        # Short group timeouts: the mock cluster completes a rebalance when every member
        # rejoined or their rebalance timeout (max.poll.interval.ms) passed.
        "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500",
        "-X", "max.poll.interval.ms=7000", name=name)
    return process, out


def produce(session, broker, path, framing):
    status, _, err = session.run_malfix(
        "--read", path, "--intel", session.sample("trails"), "--mode", "pipeline",
        "--output", f"kafka://{broker.bootstrap}/in?key=flow_hash&framing={framing}")
    check_equal(status, 0, f"producer exit status:\n{err}")
    check_equal(summary(err)["flows_out"], FLOWS // 2, "flows produced")


def body(session):
    broker = Broker(session, "--topic", "in:4")
    first, out1 = consumer(session, broker, "consumer1")
    first.wait_for(r"assigned 4 partition", timeout=20)
    second, out2 = consumer(session, broker, "consumer2")
    second.wait_for(r"assigned 2 partition", timeout=30)
    first.wait_for(r"assigned 2 partition", timeout=30)

    for half, framing in enumerate(("length-delimited", "none")):
        path = session.path(f"half{half}.ipfix")
        with open(path, "wb") as f:
            f.write(ipfix_flows(FLOWS // 2, first_port=1024 + half * (FLOWS // 2)))
        produce(session, broker, path, framing)

    def complete_lines(path):
        # The consumers are still writing: count whole lines only, a last one may be cut.
        if not os.path.exists(path):
            return 0
        with open(path, "rb") as f:
            return f.read().count(b"\n")

    deadline = time.monotonic() + 30
    while complete_lines(out1) + complete_lines(out2) < FLOWS:
        check(time.monotonic() < deadline, "the consumers did not get every flow in 30 s")
        time.sleep(0.1)
    time.sleep(1.5)  # a commit interval: let both commit what they delivered
    for process in (first, second):
        process.send(signal.SIGTERM)
        check_equal(process.wait(30), 0, f"{process.name} exit status")

    records = read_json_file(out1) + read_json_file(out2)
    ports = [(r["src_port"], r["dst_port"]) for r in records]
    check_equal(len(set(ports)), FLOWS, "distinct flows processed")
    check_equal(len(ports), FLOWS, "flows processed (none twice)")
    for process, out in ((first, out1), (second, out2)):
        check(read_json_file(out), f"{process.name} processed nothing: no split")
        check(all(r["exporter"] == "kafka:in" for r in read_json_file(out)),
              "exporter name of Kafka flows")
        check("bad_records=0" in process.stderr(), f"{process.name} skipped records")

    # Offsets were committed: a new member of the group finds nothing left to read.
    third, out3 = consumer(session, broker, "consumer3")
    third.wait_for(r"assigned 4 partition", timeout=20)
    time.sleep(2)
    third.send(signal.SIGTERM)
    check_equal(third.wait(30), 0, "consumer3 exit status")
    check_equal(read_json_file(out3), [], "records read again by a later group member")
    check_equal(summary(third.stderr())["flows_in"], 0, "flows consumer3 received")


if __name__ == "__main__":
    run_test(body, __doc__, add_broker_arg)
