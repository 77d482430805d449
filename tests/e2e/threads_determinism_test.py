#!/usr/bin/env python3
"""`analyze --threads N` gives the same report as `--threads 1`: for every capture in
../shared/pcaps and for a generated capture with thousands of flows (TCP, UDP, ICMP errors
quoting flows in other shards, IP fragments, idle gaps that time flows out, a reused
5-tuple, time going backwards, SYNs near the end), the JSON documents must be equal as
data once normalised: conversation `id`s (and the problems' references to them) follow the
order flows end in, so they are dropped and conversations sorted by (first_seen, flow);
processing speed and the peak number of flows alive at once (a sum of per-shard peaks
with shards) are dropped. The text reports must be identical but for the speed figure."""
import json
import os
import random
import re
import struct
import sys
import tempfile

from common import check, fail, run, shared_captures

netscope, pcaps = sys.argv[1], sys.argv[2]
THREADS = [2, 3]


def normalise(doc):
    convs = []
    for c in doc["conversations"]:
        c = dict(c)
        c.pop("id", None)
        convs.append(c)
    convs.sort(key=lambda c: (c["first_seen"], c["flow"], json.dumps(c, sort_keys=True)))
    doc["conversations"] = convs
    doc["summary"].pop("packets_per_second_processed", None)
    doc["problems"] = [{k: v for k, v in p.items() if k != "conversation"} for p in doc["problems"]]
    doc["totals"].pop("peak_active_flows", None)
    # nDPI's live states are bounded per flow shard (README "Optional: nDPI labels"): with
    # more shards, fewer of them go stale and are reclaimed. The labels are compared.
    doc["totals"].get("dpi", {}).pop("ndpi_reclaimed", None)
    return doc


def text_without_speed(text):
    return re.sub(r"[0-9.,]+[kMG]? packets/s processed", "packets/s processed", text)


def analyze(path, threads):
    r = run([netscope, "analyze", path, "--json", "-", "--no-color", "--threads", str(threads)])
    doc = normalise(json.loads(r.stdout)) if r.stdout.strip() else None
    return r.returncode, doc, text_without_speed(r.stderr)


def first_difference(a, b):
    for key in a:
        if a[key] != b.get(key):
            if key == "conversations":
                for x, y in zip(a[key], b[key]):
                    if x != y:
                        return "conversation %s != %s" % (json.dumps(x)[:300], json.dumps(y)[:300])
                return "conversations: %d vs %d" % (len(a[key]), len(b[key]))
            return "%s: %s vs %s" % (key, json.dumps(a[key])[:300], json.dumps(b[key])[:300])
    return "?"


def compare(path, label):
    base = analyze(path, 1)
    for n in THREADS:
        other = analyze(path, n)
        if other[0] != base[0]:
            fail("%s: exit code %d with --threads %d, %d with 1" % (label, other[0], n, base[0]))
        if other[1] != base[1]:
            fail("%s: --threads %d differs from 1: %s" % (label, n, first_difference(base[1], other[1])))
        if other[2] != base[2]:
            fail("%s: text report with --threads %d differs from 1" % (label, n))
    return base[1]


# ---- a generated capture (classic pcap, Ethernet, checksums zero: not verified) ----

def eth(payload):
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + payload


def ipv4(src, dst, proto, payload, ident=0, frag=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                      bytes(src), bytes(dst))
    return hdr + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp_unreachable(quoted_ip_packet):
    return struct.pack("!BBHI", 3, 3, 0, 0) + quoted_ip_packet[:28]


def generate(path, seed=7):
    rnd = random.Random(seed)
    frames = []  # (time in µs, frame)
    SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08

    def host(i):
        return [10, (i >> 16) & 255, (i >> 8) & 255, i & 255]

    t = 1_700_000_000_000_000
    for i in range(3000):
        start = t + rnd.randrange(0, 400_000_000)  # flows start over ~400 s
        c, s = host(0x010000 + rnd.randrange(2000)), host(0x020000 + rnd.randrange(50))
        cp, sp = 20000 + rnd.randrange(40000), rnd.choice([80, 443, 53, 8080, 5000])
        kind = rnd.random()
        if kind < 0.55:  # TCP conversation, some closed, some left open, some refused
            isn, sisn = rnd.randrange(1 << 32), rnd.randrange(1 << 32)
            ts = start
            frames.append((ts, eth(ipv4(c, s, 6, tcp(cp, sp, isn, 0, SYN)))))
            if rnd.random() < 0.08:
                frames.append((ts + 500, eth(ipv4(s, c, 6, tcp(sp, cp, 0, isn + 1, RST | ACK)))))
                continue
            if rnd.random() < 0.05:  # unanswered, re-sent once
                frames.append((ts + 1_000_000, eth(ipv4(c, s, 6, tcp(cp, sp, isn, 0, SYN)))))
                continue
            rtt = rnd.randrange(200, 50_000)
            frames.append((ts + rtt, eth(ipv4(s, c, 6, tcp(sp, cp, sisn, isn + 1, SYN | ACK)))))
            frames.append((ts + 2 * rtt, eth(ipv4(c, s, 6, tcp(cp, sp, isn + 1, sisn + 1, ACK)))))
            seq, sseq, ts = isn + 1, sisn + 1, ts + 2 * rtt
            for _ in range(rnd.randrange(1, 12)):
                n = rnd.randrange(10, 400)
                frames.append((ts, eth(ipv4(c, s, 6, tcp(cp, sp, seq, sseq, PSH | ACK, b"q" * n)))))
                if rnd.random() < 0.1:  # a retransmission
                    frames.append((ts + 3 * rtt, eth(ipv4(c, s, 6, tcp(cp, sp, seq, sseq, PSH | ACK, b"q" * n)))))
                seq += n
                m = rnd.randrange(10, 1400)
                frames.append((ts + rtt, eth(ipv4(s, c, 6, tcp(sp, cp, sseq, seq, PSH | ACK, b"r" * m)))))
                sseq += m
                # sometimes a pause longer than a timeout
                ts += rtt * 2 + (rnd.randrange(0, 400_000_000) if rnd.random() < 0.03 else rnd.randrange(0, 2_000_000))
            if rnd.random() < 0.7:
                frames.append((ts, eth(ipv4(c, s, 6, tcp(cp, sp, seq, sseq, FIN | ACK)))))
                frames.append((ts + rtt, eth(ipv4(s, c, 6, tcp(sp, cp, sseq, seq + 1, FIN | ACK)))))
                frames.append((ts + 2 * rtt, eth(ipv4(c, s, 6, tcp(cp, sp, seq + 1, sseq + 1, ACK)))))
                if rnd.random() < 0.2:  # port reuse after close, new ISN
                    ts2 = ts + rnd.randrange(1_000_000, 20_000_000)
                    frames.append((ts2, eth(ipv4(c, s, 6, tcp(cp, sp, isn + 99999, 0, SYN)))))
        elif kind < 0.9:  # UDP exchange, sometimes reused after a gap past the UDP timeout
            ts = start
            for _ in range(rnd.randrange(1, 6)):
                q = ipv4(c, s, 17, udp(cp, sp, b"x" * rnd.randrange(20, 200)))
                frames.append((ts, eth(q)))
                if rnd.random() < 0.15:  # port unreachable from the server
                    frames.append((ts + 300, eth(ipv4(s, c, 1, icmp_unreachable(q)))))
                else:
                    frames.append((ts + 900, eth(ipv4(s, c, 17, udp(sp, cp, b"y" * rnd.randrange(20, 900))))))
                ts += rnd.choice([1_000_000, 5_000_000, 61_000_000, 90_000_000])
        else:  # fragmented UDP datagram: first fragment with ports, later ones without
            ident = rnd.randrange(1 << 16)
            body = udp(cp, sp, b"f" * 1200)
            frames.append((start, eth(ipv4(c, s, 17, body[:800], ident, 0x2000))))
            frames.append((start + 10, eth(ipv4(c, s, 17, body[800:], ident, 100))))
            if rnd.random() < 0.2:  # an ICMP error quoting the first fragment
                frames.append((start + 20, eth(ipv4(s, c, 1, icmp_unreachable(ipv4(c, s, 17, body[:800], ident, 0x2000))))))
    # An ICMP error quoting a flow never seen.
    frames.append((t + 1000, eth(ipv4(host(5), host(6), 1, icmp_unreachable(ipv4(host(6), host(5), 17, udp(1, 2, b"zz")))))))
    frames.sort(key=lambda f: f[0])
    # Time going backwards: swap a few neighbours.
    for _ in range(30):
        k = rnd.randrange(1, len(frames))
        frames[k - 1], frames[k] = frames[k], frames[k - 1]
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in frames:
            out.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    return len(frames)


checked = 0
for path, rel in shared_captures(pcaps):
    compare(path, rel)
    checked += 1
check(checked >= 50, "--threads 2 and 3 agree with --threads 1 on %d shared captures" % checked)

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "many-flows.pcap")
    frames = generate(path)
    doc = compare(path, "generated")
    n = doc["totals"]["conversations"]
    reasons = {c["end_reason"] for c in doc["conversations"]}
    check(n > 2500 and doc["totals"]["icmp_errors"] > 50 and
          {"closed", "idle_timeout", "end_of_input"} <= reasons and
          doc["anomalies"]["time_went_backwards"] > 0,
          "--threads 2 and 3 agree with 1 on a generated capture (%d frames, %d conversations)"
          % (frames, n))
