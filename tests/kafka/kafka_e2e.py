"""Helpers for malfix's Kafka end-to-end tests: the test broker, kcat, protobuf and IPFIX.

Standard library only (run with Debian's /usr/bin/python3), on top of tests/interop/malfix_e2e.py.
Every test starts its own malfix-kafka-broker (librdkafka's mock cluster on 127.0.0.1) and
reads what malfix produced with kcat, a real Kafka client.
"""

import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))

from malfix_e2e import TestFailure, check, check_equal, find_tool  # noqa: E402,F401

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sinks",
                         "proto")
PROTO = os.path.join(PROTO_DIR, "malfix.proto")

# flowpb.FlowMessage field numbers (REFERENCE §4 and sinks/proto/malfix.proto).
F_TYPE, F_SRC_ADDR, F_DST_ADDR, F_BYTES, F_PACKETS = 1, 6, 7, 9, 10
F_PROTO, F_SRC_PORT, F_DST_PORT, F_ETYPE, F_ODID = 20, 21, 22, 30, 70
F_RECEIVED, F_START, F_END = 110, 111, 112
F_TYPE_HIT, F_TRAIL, F_INFO, F_REFERENCE, F_FIELD, F_SEVERITY, F_DNS = range(1000, 1007)


def add_broker_arg(parser):
    parser.add_argument("--broker", required=True, help="path of malfix-kafka-broker")


class Broker:
    """A malfix-kafka-broker process that takes commands on stdin; registered with the session
    so it is stopped (and its output shown on failure) like every other process."""

    def __init__(self, session, *flags, name="broker"):
        self.name = f"{len(session.processes):02d}-{name}"
        self.argv = [session.args.broker, *flags]
        self.stdout_path = session.path(f"{self.name}.stdout")
        self.stderr_path = session.path(f"{self.name}.stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=out, stderr=err)
        session.processes.append(self)
        self.bootstrap = self._line(0, 5.0)
        check(self.bootstrap.startswith("127.0.0.1:"),
              f"broker's first line is not a loopback bootstrap address: {self.bootstrap!r}")
        self.answers = 1

    def _lines(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read().split("\n")

    def _line(self, index, timeout):
        deadline = time.monotonic() + timeout
        while True:
            lines = self._lines()
            if len(lines) > index + 1:  # complete line (a newline follows it)
                return lines[index]
            check(self.popen.poll() is None,
                  f"broker exited (status {self.popen.returncode}): {self.stderr()}")
            check(time.monotonic() < deadline, f"broker said nothing within {timeout} s")
            time.sleep(0.02)

    def command(self, text, timeout=5.0):
        """Sends one command and returns its answer line."""
        self.popen.stdin.write((text + "\n").encode())
        self.popen.stdin.flush()
        answer = self._line(self.answers, timeout)
        self.answers += 1
        return answer

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.popen.poll() is not None:
            return
        try:
            self.popen.stdin.close()
        except OSError:
            pass
        try:
            self.popen.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=3)


# ---- kcat ----

def kcat_records(session, bootstrap, topic, group=None, timeout=30):
    """Every record of a topic as (partition, key or None, payload bytes), read with kcat."""
    kcat = find_tool("kcat")
    # %p partition, %K key length (-1: none), %k key, %S payload length, %s payload: lengths
    # first, so binary payloads parse without delimiters.
    argv = [kcat, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
            "-f", "%p:%K:%k%S:%s"]
    done = subprocess.run(argv, capture_output=True, timeout=timeout)
    check_equal(done.returncode, 0, f"kcat exit status ({done.stderr.decode(errors='replace')})")
    data = done.stdout
    records = []
    at = 0

    def number():
        nonlocal at
        colon = data.index(b":", at)
        value = int(data[at:colon])
        at = colon + 1
        return value

    while at < len(data):
        partition = number()
        key_len = number()
        key = None
        if key_len >= 0:
            key = data[at:at + key_len]
            at += key_len
        size = number()
        records.append((partition, key, data[at:at + size]))
        at += size
    return records


def protoc_decode(session, payload, message="flowpb.FlowMessage"):
    """protoc --decode with the shipped .proto; returns its text form."""
    protoc = find_tool("protoc")
    done = subprocess.run([protoc, f"--decode={message}", "-I", PROTO_DIR, PROTO],
                          input=payload, capture_output=True, timeout=30)
    check_equal(done.returncode, 0,
                f"protoc --decode status ({done.stderr.decode(errors='replace')})")
    return done.stdout.decode()


# ---- protobuf wire format (enough for FlowMessage) ----

def read_varint(data, at):
    value = shift = 0
    while True:
        check(at < len(data), "truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def unframe(payload):
    """Strips GoFlow2's varint length prefix; fails unless it covers exactly the rest."""
    length, at = read_varint(payload, 0)
    check_equal(length, len(payload) - at, "length prefix vs record size")
    return payload[at:]


def decode_fields(message):
    """{field number: [values]}: ints for varints, bytes for length-delimited fields."""
    fields = {}
    at = 0
    while at < len(message):
        tag, at = read_varint(message, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = read_varint(message, at)
        elif wire == 2:
            length, at = read_varint(message, at)
            value = message[at:at + length]
            at += length
        else:
            raise TestFailure(f"unexpected wire type {wire} for field {number}")
        fields.setdefault(number, []).append(value)
    return fields


def one(fields, number, default=0):
    values = fields.get(number, [default])
    check_equal(len(values), 1, f"occurrences of field {number}")
    return values[0]


def flow_identity(fields):
    """(src_addr, dst_addr, src_port, dst_port, proto) of a decoded FlowMessage."""
    return (one(fields, F_SRC_ADDR, b""), one(fields, F_DST_ADDR, b""), one(fields, F_SRC_PORT),
            one(fields, F_DST_PORT), one(fields, F_PROTO))


def hits_of(fields):
    """[(trail, type, field)] of a decoded FlowMessage (1000-1005 are parallel lists)."""
    lists = [fields.get(n, []) for n in (F_TYPE_HIT, F_TRAIL, F_INFO, F_REFERENCE, F_FIELD)]
    check(len({len(x) for x in lists}) == 1, f"hit lists of different lengths: {lists}")
    severities = fields.get(F_SEVERITY, [b""])[0]
    check_equal(len(severities), len(lists[0]), "packed severities per hit")
    return [(t.decode(), ty.decode(), f.decode())
            for ty, t, f in zip(lists[0], lists[1], lists[4])]


# ---- IPFIX made up for the tests ----

def ipfix_flows(count, first_port=1024, src="192.0.2.1", dst="198.51.100.1", odid=1):
    """IPFIX Messages (RFC 7011) with `count` UDP flows whose (src_port, dst_port) are all
    distinct; template 256: sourceIPv4Address, destinationIPv4Address, sourceTransportPort,
    destinationTransportPort, protocolIdentifier, octetDeltaCount, packetDeltaCount."""
    fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8)]
    template = struct.pack("!HH", 256, len(fields)) + b"".join(
        struct.pack("!HH", i, n) for i, n in fields)
    template_set = struct.pack("!HH", 2, 4 + len(template)) + template
    src_b, dst_b = socket.inet_aton(src), socket.inet_aton(dst)
    out = b""
    sequence = 0
    per_message = 1000
    for start in range(0, count, per_message):
        records = b""
        n = min(per_message, count - start)
        for i in range(start, start + n):
            sport = first_port + i % 60000
            dport = 1 + i // 60000
            records += src_b + dst_b + struct.pack("!HHBQQ", sport, dport, 17, 100 + i, 1)
        data_set = struct.pack("!HH", 256, 4 + len(records)) + records
        body = template_set + data_set  # every Message stands alone (identical resend)
        out += struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), sequence, odid) + body
        sequence += n
    return out


def free_port():
    """A loopback TCP port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
