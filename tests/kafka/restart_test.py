"""No loss, no duplicates: in pipeline mode every flow reaches Kafka exactly once, even when the
broker goes down and comes back while malfix is being fed.

malfix listens on TCP and produces to the test broker with a small producer queue, so the
outage fills it and the back-pressure holds the TCP exporter back. After the broker is back and
malfix drained (SIGTERM), kcat must read exactly N records with N distinct flows.
"""

import signal
import threading
import time

from kafka_e2e import (Broker, add_broker_arg, check, check_equal, decode_fields, flow_identity,
                       ipfix_flows, kcat_records)
from malfix_e2e import listen_port, log_records, run_test, send_tcp, summary

FLOWS = 30000
CHUNKS = 10


def body(session):
    broker = Broker(session, "--topic", "nl:3")
    malfix = session.start_malfix(
        "--listen", "tcp://127.0.0.1:0", "--intel", session.sample("trails"),
        "--mode", "pipeline", "--threads", "2", "--stats-interval", "0",
        "-X", "queue.buffering.max.messages=1000",
        "--output", f"kafka://{broker.bootstrap}/nl?framing=none&key=flow_hash")
    port = listen_port(malfix, "tcp")

    per_chunk = FLOWS // CHUNKS
    chunks = [ipfix_flows(per_chunk, first_port=1024 + i * per_chunk) for i in range(CHUNKS)]
    sent = []
    errors = []

    def feed():
        try:
            for i, chunk in enumerate(chunks):
                send_tcp(port, chunk, timeout=60)
                sent.append(i)
        except Exception as error:  # reported by the main thread
            errors.append(error)

    feeder = threading.Thread(target=feed)
    feeder.start()
    deadline = time.monotonic() + 20
    while len(sent) < 2 and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    check_equal(broker.command("down 1"), "ok", "broker's answer to down")
    time.sleep(3)  # meanwhile malfix's producer queue fills and the feeder is held back
    held_back = len(sent)
    check_equal(broker.command("up 1"), "ok", "broker's answer to up")
    feeder.join(timeout=90)
    check(not feeder.is_alive(), "the feeder never finished")
    check(not errors, f"feeding failed: {errors}")
    check(held_back < CHUNKS, f"the outage held nothing back ({held_back} chunks sent)")

    malfix.send(signal.SIGTERM)
    status = malfix.wait(60)
    check_equal(status, 0, "malfix exit status")
    s = summary(malfix.stderr())
    check_equal(s["flows_in"], FLOWS, "flows malfix received")
    check_equal(s["flows_out"], FLOWS, "flows malfix forwarded")
    closed = [r["msg"] for r in log_records(malfix.stderr()) if "closed:" in r.get("msg", "")]
    check(closed and f"delivered={FLOWS} failed=0" in closed[0],
          f"delivery reports: {closed}")
    check("queue_full_waits=0" not in closed[0], f"the outage never filled the queue: {closed}")

    records = kcat_records(session, broker.bootstrap, "nl", timeout=60)
    identities = [flow_identity(decode_fields(payload)) for _, _, payload in records]
    check_equal(len(set(identities)), FLOWS, "distinct flows in Kafka")
    check_equal(len(identities), FLOWS, "records in Kafka (no duplicates)")


if __name__ == "__main__":
    run_test(body, __doc__, add_broker_arg)
