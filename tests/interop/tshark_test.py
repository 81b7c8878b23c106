"""Wireshark's IPFIX dissector (tshark) reads malfix's ipfix+udp output.

malfix sends its detections to a UDP socket this test binds on 127.0.0.1:0; the datagrams are
written into a pcap (Ethernet/IPv4/UDP built here with struct) and tshark dissects them as
cflow. A self-made pcap instead of a live capture on lo: it needs no capture privileges and
cannot miss packets sent before tshark is ready. Nothing may be malformed or draw an expert
warning, every flow record must be decoded, and the threat elements must carry the trails.
"""

import struct
import sys
import xml.etree.ElementTree as ElementTree

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import malfix_e2e as e2e  # noqa: E402

MALFIX_PEN_NAME = "(University of Tuebingen)"  # Wireshark's name for enterprise 420


def checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(payload, sport, dport, ident):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return bytes(12) + b"\x08\x00" + ip + udp


def write_pcap(path, datagrams, port):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for index, datagram in enumerate(datagrams):
            data = frame(datagram, 40000, port, index)
            f.write(struct.pack("<IIII", 1733300000 + index, 0, len(data), len(data)) + data)


def dissect(session, pcap, port):
    tshark = e2e.find_tool("tshark")
    process = session.start([tshark, "-r", pcap, "-d", f"udp.port=={port},cflow", "-T", "pdml"],
                            "tshark")
    e2e.check_equal(process.wait(60), 0, "tshark exit status")
    return ElementTree.fromstring(process.stdout())


def check_clean(root):
    for element in root.iter():
        name = element.get("name", "")
        e2e.check(not name.startswith("_ws.malformed"),
                  f"tshark marks malfix's output malformed: {element.get('showname')}")
        if name == "_ws.expert.severity":
            e2e.check(element.get("showname", "").split(":")[-1].strip().lower()
                      not in ("warning", "error"), f"tshark expert info: {element.attrib}")


def malfix_values(root, element_id):
    values = []
    for field in root.iter("field"):
        shown = field.get("showname", "")
        if (field.get("name") == "cflow.enterprise_private_entry"
                and f"{MALFIX_PEN_NAME} Type {element_id}:" in shown):
            values.append(bytes.fromhex(field.get("value", "")).decode("utf-8"))
    return values


def body(session):
    collector = e2e.UdpCollector()
    try:
        status, _, stderr = session.run_malfix(
            "--read", session.sample("yaf_mixed_v4v6_dpi.yaf"),
            "--read", session.sample("softflowd_sample.ipfix"),
            "--intel", session.sample("trails"),
            "--output", f"ipfix+udp://127.0.0.1:{collector.port}")
        e2e.check_equal(status, 0, "malfix exit status")
        datagrams = collector.drain()
    finally:
        collector.close()
    e2e.check(datagrams, "malfix sent no datagram")
    e2e.check_equal(e2e.summary(stderr)["flows_out"], 9, "malfix flows_out")

    pcap = session.path("malfix-output.pcap")
    write_pcap(pcap, datagrams, collector.port)
    root = dissect(session, pcap, collector.port)
    check_clean(root)
    e2e.check_equal(len(root.findall("packet")), len(datagrams), "packets tshark read")
    flows = [f for f in root.iter("field") if f.get("name") == "cflow.protocol"]
    e2e.check_equal(len(flows), 9, "flow records tshark decoded")
    trails = malfix_values(root, 4)
    expected = {trail for trail, _, _ in e2e.SAMPLE_HITS}
    e2e.check_equal(set(trails), expected, "malfix_trail values tshark decoded")
    e2e.check_equal(len(trails), 9, "malfix_trail elements tshark decoded")
    e2e.check_equal(set(malfix_values(root, 3)), {"IP", "IPORT", "DNS"}, "malfix_type values")
    names = {f.get("show") for f in root.iter("field")
             if f.get("name") == "cflow.information_element_name"}
    e2e.check({"malfix_type", "malfix_trail", "malfix_info", "malfix_reference"} <= names,
              f"RFC 5610 type records tshark decoded: {names}")


if __name__ == "__main__":
    e2e.run_test(body, __doc__)
