"""kafka:// output end to end: malfix reads the README sample, produces to a test broker, and
kcat (a real Kafka client) reads it back; protoc decodes records with the shipped malfix.proto.

Checks every format (protobuf with both framings, json, ipfix), keys, -X and X.* properties,
delivery counting, and the exit status for bad properties and unreachable brokers.
"""

import json
import os
import time

from kafka_e2e import (F_DNS, F_ETYPE, F_SEVERITY, F_TYPE, add_broker_arg, Broker, check,
                       check_equal, decode_fields, flow_identity, free_port, hits_of,
                       kcat_records, one, protoc_decode, unframe)
from malfix_e2e import SAMPLE_HITS, json_lines, log_records, run_test, summary


def sample_flags(session):
    return ["--read", session.sample("softflowd_sample.ipfix"),
            "--read", session.sample("yaf_mixed_v4v6_dpi.yaf"),
            "--intel", session.sample("trails"), "--mode", "pipeline", "--threads", "2"]


def produce(session, url, *extra):
    status, out, err = session.run_malfix(*sample_flags(session), "--output", url, *extra)
    check_equal(status, 0, f"malfix exit status for {url}:\n{err}")
    return out, err, summary(err)


def reference_json(session):
    status, out, err = session.run_malfix(*sample_flags(session), "--output", "json:-")
    check_equal(status, 0, f"malfix exit status (json:-):\n{err}")
    return json_lines(out)


def test_protobuf(session, broker, expected):
    url = f"kafka://{broker.bootstrap}/flows-pb?key=src_addr"
    _, err, s = produce(session, url)
    closed = [r for r in log_records(err) if "closed: delivered=" in r.get("msg", "")]
    check(closed and f"delivered={s['flows_out']} failed=0" in closed[0]["msg"],
          f"expected a delivery count of {s['flows_out']} and no failures: {closed}")
    records = kcat_records(session, broker.bootstrap, "flows-pb")
    check_equal(len(records), s["flows_out"], "Kafka records (one flow each)")
    check_equal(len(records), len(expected), "records vs flows of the JSON output")
    hits = set()
    for partition, key, payload in records:
        fields = decode_fields(unframe(payload))  # default framing: GoFlow2's varint prefix
        check_equal(one(fields, F_TYPE), 4, "FlowMessage.type (IPFIX)")
        src = one(fields, 6)
        check_equal(key, src, "key=src_addr is the source address bytes")
        check_equal(one(fields, F_ETYPE), 0x0800 if len(src) == 4 else 0x86DD, "etype")
        hits |= set(hits_of(fields))
        for value in fields.get(F_SEVERITY, [b""])[0]:
            check(value in (0, 1, 2, 3), f"severity {value} out of range")
    check_equal(hits, {h for h in SAMPLE_HITS}, "hits carried in fields 1000-1005")
    dns = {name.decode() for _, _, p in records for name in decode_fields(unframe(p)).get(F_DNS, [])}
    check("ns1.internal.example.org" in dns, f"DNS names in field 1006: {sorted(dns)}")

    # The shipped .proto decodes what malfix wrote (protoc is an independent decoder).
    with_hits = [p for _, _, p in records if b"(static)" in p]
    text = protoc_decode(session, unframe(with_hits[0]))
    for needle in ("type: IPFIX", "malfix_trail:", "malfix_severity: SEVERITY_", "src_addr:"):
        check(needle in text, f"protoc output lacks {needle!r}:\n{text}")


def test_bare_and_flow_hash(session, broker):
    url = f"kafka://{broker.bootstrap}/flows-bare?framing=none&key=flow_hash&X.linger.ms=1"
    _, _, s = produce(session, url, "-X", "compression.type=lz4")
    records = kcat_records(session, broker.bootstrap, "flows-bare")
    check_equal(len(records), s["flows_out"], "bare records")
    by_key = {}
    for _, key, payload in records:
        check_equal(len(key), 8, "flow_hash key length")
        text = protoc_decode(session, payload)  # bare: protoc reads the record as is
        check("type: IPFIX" in text, f"protoc on a bare record:\n{text}")
        by_key.setdefault(key, set()).add(flow_identity(decode_fields(payload)))
    # Both directions of a conversation share a key.
    for key, flows in by_key.items():
        for src, dst, sp, dp, proto in flows:
            for other_key, other in by_key.items():
                if (dst, src, dp, sp, proto) in other:
                    check_equal(other_key, key, "flow_hash of the reverse direction")


def test_json(session, broker, expected):
    produce(session, f"kafka://{broker.bootstrap}/flows-json?format=json")
    records = kcat_records(session, broker.bootstrap, "flows-json")
    objects = [json.loads(p) for _, _, p in records]
    canon = lambda items: sorted(json.dumps(o, sort_keys=True) for o in items)  # noqa: E731
    check_equal(canon(objects), canon(expected), "format=json objects vs the json output")


def test_ipfix(session, broker, expected):
    _, _, s = produce(session, f"kafka://{broker.bootstrap}/flows-ipfix?format=ipfix")
    records = kcat_records(session, broker.bootstrap, "flows-ipfix")
    check(records, "no IPFIX records")
    total = 0
    for index, (_, _, payload) in enumerate(records):
        check_equal(payload[:2], b"\x00\x0a", "IPFIX version")
        check_equal(int.from_bytes(payload[2:4], "big"), len(payload), "Message length")
        # Self-contained: malfix reads one record alone, as an IPFIX file, and finds flows.
        path = session.path(f"record{index}.ipfix")
        with open(path, "wb") as f:
            f.write(payload)
        status, out, err = session.run_malfix("--read", path, "--intel", session.sample("trails"),
                                              "--mode", "pipeline", "--output", "json:-")
        check_equal(status, 0, f"malfix on record {index}:\n{err}")
        again = summary(err)
        check_equal(again["drops"], {}, f"drops reading record {index} alone")
        total += again["flows_in"]
    check_equal(total, s["flows_out"], "flows in all IPFIX records")
    check_equal(total, len(expected), "flows in IPFIX records vs JSON output")


def test_failures(session, broker):
    status, _, err = session.run_malfix(*sample_flags(session), "-X", "no.such.property=1",
                                        "--output", f"kafka://{broker.bootstrap}/x")
    check_equal(status, 2, f"unknown librdkafka property is a usage error:\n{err}")
    check("no.such.property" in err, f"the error names the property:\n{err}")
    status, _, err = session.run_malfix(*sample_flags(session),
                                        "--output", f"kafka://{broker.bootstrap}/x?key=dst")
    check_equal(status, 2, f"bad key= is a usage error:\n{err}")

    port = free_port()
    started = time.monotonic()
    status, _, err = session.run_malfix(*sample_flags(session), "--kafka-connect-timeout", "1.5",
                                        "--output", f"kafka://127.0.0.1:{port}/x")
    elapsed = time.monotonic() - started
    check_equal(status, 1, f"unreachable broker exit status:\n{err}")
    errors = [line for line in err.splitlines() if "level=error" in line]
    check_equal(len(errors), 1, f"one error line:\n{err}")
    check(f"127.0.0.1:{port}" in errors[0] and "answered within 1.5 s" in errors[0],
          f"the error names broker and wait: {errors[0]}")
    check(elapsed < 15, f"the bounded wait took {elapsed:.1f} s")


def body(session):
    broker = Broker(session)
    expected = reference_json(session)
    test_protobuf(session, broker, expected)
    test_bare_and_flow_hash(session, broker)
    test_json(session, broker, expected)
    test_ipfix(session, broker, expected)
    test_failures(session, broker)
    check_equal(broker.command("quit"), "ok", "broker's answer to quit")


if __name__ == "__main__":
    run_test(body, __doc__, add_broker_arg)
