#!/usr/bin/python3
"""Writes a pcap of TCP corner cases for the tshark agreement test (tshark_agreement_test.cpp).

Usage: make_corner_cases.py OUT.pcap

Each connection uses its own client port so tshark and the tracker see separate streams:
  40001  sequence numbers wrapping past 2^32 in both directions, with a retransmission
         and an out-of-order segment across the wrap
  40002  SYN retransmitted twice, then the handshake
  40003  keep-alives (0 and 1 byte) and their ACKs
  40004  zero window, zero-window probes (repeated), window update
  40005  window scaling on both SYNs, a segment filling the scaled window exactly
  40006  three duplicate ACKs and a fast retransmission, then an RTO retransmission
  40007  spurious retransmission of acknowledged data
  40008  SYN answered by RST (refused)
"""
import sys

from scapy.all import IP, TCP, Ether, Raw, wrpcap

C, S = "10.1.0.1", "10.1.0.2"
packets = []


class Conn:
    def __init__(self, port, cisn, sisn):
        self.port, self.c, self.s = port, cisn, sisn
        self.t = 0.0

    def seg(self, dt, client, flags, seq, ack, data=0, win=1000, opts=None):
        self.t += dt
        sport, dport = (self.port, 80) if client else (80, self.port)
        ip = IP(src=C, dst=S) if client else IP(src=S, dst=C)
        tcp = TCP(sport=sport, dport=dport, flags=flags, seq=seq & 0xFFFFFFFF,
                  ack=ack & 0xFFFFFFFF, window=win, options=opts or [])
        p = Ether() / ip / tcp
        if data:
            p = p / Raw(b"x" * data)
        p.time = 1_700_000_000 + self.port * 10 + self.t
        packets.append(p)

    def handshake(self, copts=None, sopts=None, cwin=1000, swin=1000):
        self.seg(0, True, "S", self.c, 0, win=cwin, opts=copts)
        self.seg(0.010, False, "SA", self.s, self.c + 1, win=swin, opts=sopts)
        self.seg(0.010, True, "A", self.c + 1, self.s + 1, win=cwin)


# 40001: wraparound.
w = Conn(40001, 0xFFFFFE00, 0xFFFFFF80)
w.handshake()
c, s = w.c + 1, w.s + 1
for i in range(6):  # client data crosses 2^32 at the third segment
    w.seg(0.001, True, "A", c + 200 * i, s, 200)
    w.seg(0.0005, False, "A", s, c + 200 * (i + 1))
c += 1200
for i in range(4):  # server data crosses 2^32 too
    w.seg(0.001, False, "PA", s + 100 * i, c, 100)
    w.seg(0.0005, True, "A", c, s + 100 * (i + 1))
s += 400
w.seg(0.001, True, "A", c, s, 200)          # 0..200 past the wrap
w.seg(0.0005, True, "A", c + 400, s, 200)   # gap: previous segment lost
w.seg(0.0005, True, "A", c + 200, s, 200)   # filler within 3 ms... iRTT 20 ms: out-of-order
w.seg(0.0005, False, "A", s, c + 600)
w.seg(0.5, True, "A", c + 400, s, 200)      # resend of acknowledged data: spurious
w.seg(0.001, True, "A", c + 600, s, 200)
w.seg(0.3, True, "A", c + 600, s, 200)      # RTO retransmission
w.seg(0.001, False, "A", s, c + 800)

# 40002: SYN retransmissions.
r = Conn(40002, 1000, 9000)
r.seg(0, True, "S", r.c, 0)
r.seg(1.0, True, "S", r.c, 0)
r.seg(2.0, True, "S", r.c, 0)
r.seg(0.02, False, "SA", r.s, r.c + 1)
r.seg(0.02, True, "A", r.c + 1, r.s + 1)
r.seg(0.001, True, "PA", r.c + 1, r.s + 1, 50)
r.seg(0.02, False, "A", r.s + 1, r.c + 51)

# 40003: keep-alives.
k = Conn(40003, 5000, 7000)
k.handshake()
k.seg(0.001, True, "PA", k.c + 1, k.s + 1, 10)
k.seg(0.01, False, "A", k.s + 1, k.c + 11)
for i in range(3):
    k.seg(60, True, "A", k.c + 10, k.s + 1)           # 0-byte keep-alive
    k.seg(0.01, False, "A", k.s + 1, k.c + 11)        # its ACK
k.seg(60, True, "A", k.c + 10, k.s + 1, 1)            # 1-byte keep-alive (Linux style)
k.seg(0.01, False, "A", k.s + 1, k.c + 11)

# 40004: zero window and probes.
z = Conn(40004, 100, 200)
z.handshake()
z.seg(0.001, True, "A", z.c + 1, z.s + 1, 500)
z.seg(0.001, False, "A", z.s + 1, z.c + 501, win=0)
z.seg(0.2, True, "A", z.c + 501, z.s + 1, 1)          # zero-window probe
z.seg(0.001, False, "A", z.s + 1, z.c + 501, win=0)
z.seg(0.4, True, "A", z.c + 501, z.s + 1, 1)          # probe again (tshark: keep-alive)
z.seg(0.001, False, "A", z.s + 1, z.c + 501, win=0)
z.seg(0.5, False, "A", z.s + 1, z.c + 501, win=2000)  # window update
z.seg(0.001, True, "A", z.c + 501, z.s + 1, 500)
z.seg(0.001, False, "A", z.s + 1, z.c + 1001)

# 40005: window scaling and window full.
f = Conn(40005, 3000, 4000)
f.handshake(copts=[("WScale", 7)], sopts=[("WScale", 2)], cwin=64000, swin=64000)
f.seg(0.001, False, "A", f.s + 1, f.c + 1, win=100)   # 400 bytes once scaled
f.seg(0.001, True, "A", f.c + 1, f.s + 1, 200)
f.seg(0.001, True, "A", f.c + 201, f.s + 1, 200)      # fills the window exactly
f.seg(0.01, False, "A", f.s + 1, f.c + 401, win=100)
f.seg(0.001, True, "A", f.c + 401, f.s + 1, 300)

# 40006: fast retransmission after 3 dup ACKs, then an RTO retransmission.
d = Conn(40006, 11000, 12000)
d.handshake()
for i in range(5):
    d.seg(0.0002, True, "A", d.c + 1 + 100 * i, d.s + 1, 100)
d.seg(0.02, False, "A", d.s + 1, d.c + 101)
for i in range(3):
    d.seg(0.0002, False, "A", d.s + 1, d.c + 101)     # dup ACKs
d.seg(0.001, True, "A", d.c + 101, d.s + 1, 100)      # fast retransmission
d.seg(0.02, False, "A", d.s + 1, d.c + 501)
d.seg(0.001, True, "A", d.c + 501, d.s + 1, 100)
d.seg(0.4, True, "A", d.c + 501, d.s + 1, 100)        # RTO retransmission
d.seg(0.02, False, "A", d.s + 1, d.c + 601)

# 40007: spurious retransmission.
p = Conn(40007, 21000, 22000)
p.handshake()
p.seg(0.001, True, "PA", p.c + 1, p.s + 1, 300)
p.seg(0.02, False, "A", p.s + 1, p.c + 301)
p.seg(0.3, True, "PA", p.c + 1, p.s + 1, 300)
p.seg(0.001, False, "A", p.s + 1, p.c + 301)

# 40008: refused.
x = Conn(40008, 31000, 0)
x.seg(0, True, "S", x.c, 0)
x.seg(0.001, False, "RA", 0, x.c + 1, win=0)

packets.sort(key=lambda pk: pk.time)
wrpcap(sys.argv[1], packets)
