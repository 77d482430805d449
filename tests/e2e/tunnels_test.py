#!/usr/bin/env python3
"""GRE (with a key), GRE carrying Ethernet (0x6558) and IP-in-IP, written with scapy
(this kernel has no GRE or IPIP driver for a live test; VXLAN has one, see
netns_vxlan_test.py). Each inner TCP connection must be its own conversation with its
tunnel recorded, and the inner bytes must equal tshark's dissection of the same file."""
import os
import shutil
import subprocess
import sys

from common import analyze_json, check, run, tmpdir

netscope = sys.argv[1]
try:
    import scapy  # noqa: F401  (Debian python3-scapy, used by /usr/bin/python3)
except ImportError:
    print("skip: needs python3-scapy")
    sys.exit(77)

SCRIPT = r'''
import sys
from scapy.all import Ether, IP, TCP, GRE, Raw, wrpcap
outer_mac = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
def conn(wrap, cport, sport, t0):
    c, s = ("192.168.50.1", "192.168.50.2")
    inner = [
        IP(src=c, dst=s)/TCP(sport=cport, dport=sport, flags="S", seq=1000),
        IP(src=s, dst=c)/TCP(sport=sport, dport=cport, flags="SA", seq=5000, ack=1001),
        IP(src=c, dst=s)/TCP(sport=cport, dport=sport, flags="A", seq=1001, ack=5001),
        IP(src=c, dst=s)/TCP(sport=cport, dport=sport, flags="PA", seq=1001, ack=5001)/Raw(b"x"*100),
        IP(src=s, dst=c)/TCP(sport=sport, dport=cport, flags="PA", seq=5001, ack=1101)/Raw(b"y"*700),
        IP(src=c, dst=s)/TCP(sport=cport, dport=sport, flags="A", seq=1101, ack=5701),
    ]
    pkts = []
    for i, p in enumerate(inner):
        fwd = p[IP].src == c
        o_src, o_dst = ("10.9.0.1", "10.9.0.2") if fwd else ("10.9.0.2", "10.9.0.1")
        f = wrap(o_src, o_dst, p)
        f.time = t0 + i * 0.01
        pkts.append(f)
    return pkts
gre_key = lambda a, b, p: Ether(**outer_mac)/IP(src=a, dst=b)/GRE(key_present=1, key=77, proto=0x0800)/p
gre_eth = lambda a, b, p: Ether(**outer_mac)/IP(src=a, dst=b)/GRE(proto=0x6558)/Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")/p
ipip = lambda a, b, p: Ether(**outer_mac)/IP(src=a, dst=b, proto=4)/p
wrpcap(sys.argv[1], conn(gre_key, 40001, 80, 1.0) + conn(gre_eth, 40002, 80, 2.0) + conn(ipip, 40003, 80, 3.0))
'''

work = tmpdir()
try:
    pcap = os.path.join(work, "tunnels.pcap")
    r = subprocess.run(["/usr/bin/python3", "-c", SCRIPT, pcap], capture_output=True, text=True)
    check(r.returncode == 0, "scapy wrote the capture " + r.stderr[-300:])
    rc, doc, err = analyze_json(netscope, pcap)
    check(rc == 0, "analyzed")
    by_port = {c["client"]["port"]: c for c in doc["conversations"] if c["proto"] == "tcp"}
    expect = {40001: ("gre", 77), 40002: ("gre", None), 40003: ("ip_in_ip", None)}
    for port, (kind, key) in expect.items():
        c = by_port.get(port)
        check(c is not None and c["server"]["addr"] == "192.168.50.2",
              "inner connection %d is a conversation" % port)
        check(c["tunnel"] is not None and c["tunnel"]["type"] == kind and c["tunnel"]["id"] == key,
              "port %d: tunnel %s" % (port, c["tunnel"]))
        check(c["c2s"]["payload_bytes"] == 100 and c["s2c"]["payload_bytes"] == 700,
              "port %d: inner payload bytes 100/700" % port)
        check(c["score"]["level"] == "NONE" and c["rtt"]["handshake_ms"] is not None,
              "port %d: clean, with a handshake RTT" % port)
        r = run(["tshark", "-n", "-r", pcap, "-Y", "tcp.port == %d" % port, "-T", "fields",
                 "-e", "ip.len"])
        inner_ip = sum(int(l.split(",")[-1]) for l in r.stdout.split())
        ours = c["c2s"]["bytes"] + c["s2c"]["bytes"]
        check(ours == inner_ip, "port %d: inner IP bytes %d == tshark %d" % (port, ours, inner_ip))
finally:
    shutil.rmtree(work, ignore_errors=True)
