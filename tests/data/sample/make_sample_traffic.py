from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, DNS, DNSQR, Raw, wrpcap
import time
pk = []
t = 1733300000.0
me = "192.0.2.10"; me6 = "2001:db8::10"
def add(p, dt=0.01):
    global t
    p.time = t; t += dt; pk.append(p)
E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
# 1. BlackNET RAT C2 (ip:port trail)
for i in range(3):
    add(E/IP(src=me, dst="66.42.72.69")/TCP(sport=50110, dport=1629, flags="S" if i == 0 else "PA")/Raw(b"x"*40))
# 2. a mass scanner probing us (IP trail, source side)
add(E/IP(src="129.82.138.12", dst=me)/TCP(sport=41000, dport=22, flags="S"))
# 3. traffic into a mass scanner /24 (CIDR trail)
add(E/IP(src=me, dst="35.203.210.7")/UDP(sport=5353, dport=161)/Raw(b"\x30\x26"))
# 4. clean HTTPS to a CDN-like address
for i in range(2):
    add(E/IP(src=me, dst="192.0.2.200")/TCP(sport=50200, dport=443, flags="PA")/Raw(b"y"*100))
# 5. UDP to a Ponmocup address (the original MalFIX missed UDP to malware)
add(E/IP(src=me, dst="31.210.96.152")/UDP(sport=50300, dport=85)/Raw(b"z"*20))
# 6. IPv6 scanner (IPv6 trail)
add(E/IPv6(src="2400:6180:0:d0::1008:2001", dst=me6)/TCP(sport=40000, dport=443, flags="S"))
# 7. clean traffic
for i in range(3):
    add(E/IP(src=me, dst="198.51.100.7")/TCP(sport=50400, dport=443, flags="PA")/Raw(b"c"*200))
add(E/IP(src=me, dst="203.0.113.5")/UDP(sport=50500, dport=123)/Raw(b"n"*48))
add(E/IPv6(src=me6, dst="2001:db8::53")/UDP(sport=50600, dport=53)/DNS(rd=1, qd=DNSQR(qname="example.net")))
wrpcap("sample-traffic.pcap", pk)
print(len(pk))
