#!/usr/bin/env python3
"""Writes the capture that bench/live/run.sh replays into a veth: small frames (64-128
bytes on the wire, no FCS) of many concurrent TCP and UDP flows, addressed to the
receiving end so that it takes them as its own traffic.

  gen_replay.py --out FILE --packets N --flows N --src-mac MAC --dst-mac MAC
                --dst4 ADDR --dst6 ADDR [--seed N]
  gen_replay.py --version   prints the generator version (part of run.sh's cache key)

Sources come from the benchmarking ranges, 198.18.0.0/15 (RFC 2544 App. C) and
2001:2::/48 (RFC 5180 §8), one address per flow, so every flow is a distinct 5-tuple
and the receiver has no route back: it answers nothing (no RST, no ICMP) and the only
packets on the link are the replayed ones. Each flow has a fixed frame size and a TCP
sequence number that advances by its payload, so a tracker sees in-order data, not
retransmissions. TCP/UDP checksums are 0, as in a capture taken with checksum offload;
the IPv4 header checksum is valid. Packets of different flows are interleaved in a
fixed pseudo-random order, so the output is the same for the same options.

Built with struct from per-flow templates rather than with scapy, so that 1.5 million
packets take seconds (about 3 s here), not many minutes.
"""

import argparse
import ipaddress
import struct
import sys

VERSION = 1

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
TCP_ACK_PSH = 0x18
SRC4_BASE = int(ipaddress.IPv4Address("198.18.0.0"))
SRC4_SPAN = 1 << 17  # 198.18.0.0/15
SRC6_BASE = int(ipaddress.IPv6Address("2001:2::"))
# No DNS/NTP/... ports: their payloads would be parsed per datagram as the protocol, and
# this patterned payload is not one. The DPI of the others gives up after a few packets.
SERVICE_PORTS = (443, 80, 5201, 8080, 3306, 22, 9000, 6379)


def ipv4_checksum(header: bytes) -> int:
    # RFC 791 §3.1: one's complement of the one's complement sum of 16-bit words.
    total = sum(struct.unpack("!10H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(text: str) -> bytes:
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError(f"bad MAC address: {text}")
    return bytes(int(p, 16) for p in parts)


class Flow:
    """One flow's frame, split around the TCP sequence number (the only field that
    changes from packet to packet)."""

    def __init__(self, index, args, rng):
        v6 = index % 10 == 9  # 10 % IPv6
        udp = index % 10 in (0, 3, 6)  # 30 % UDP
        frame_len = 64 + rng.next() % 65  # 64..128 bytes on the wire
        sport = 1024 + (index * 7919) % 60000
        dport = SERVICE_PORTS[index % len(SERVICE_PORTS)]
        proto = 17 if udp else 6
        l4_len = 8 if udp else 20
        ip_len = 40 if v6 else 20
        payload_len = max(frame_len - 14 - ip_len - l4_len, 1 if not udp else 0)
        self.payload_len = payload_len
        self.udp = udp
        self.seq = rng.next()
        eth = args.dst_mac + args.src_mac + struct.pack("!H", ETH_IPV6 if v6 else ETH_IPV4)
        if v6:
            src = (SRC6_BASE + index + 1).to_bytes(16, "big")
            ip = struct.pack("!IHBB", 6 << 28, l4_len + payload_len, proto, 64) + src + args.dst6
        else:
            src = struct.pack("!I", SRC4_BASE + index % SRC4_SPAN)
            head = struct.pack("!BBHHHBBH", 0x45, 0, 20 + l4_len + payload_len, 0, 0x4000, 64,
                               proto, 0) + src + args.dst4
            ip = head[:10] + struct.pack("!H", ipv4_checksum(head)) + head[12:]
        payload = bytes((index + i) & 0xFF for i in range(payload_len))
        if udp:
            self.head = eth + ip + struct.pack("!HHHH", sport, dport, 8 + payload_len, 0) + payload
            self.tail = b""
        else:
            self.head = eth + ip + struct.pack("!HH", sport, dport)
            # ack, data offset 5, ACK|PSH, window, checksum 0, urgent 0
            self.tail = struct.pack("!IBBHHH", 1, 5 << 4, TCP_ACK_PSH, 502, 0, 0) + payload

    def frame(self) -> bytes:
        if self.udp:
            return self.head
        seq = self.seq
        self.seq = (seq + self.payload_len) & 0xFFFFFFFF
        return self.head + struct.pack("!I", seq) + self.tail


class Lcg:
    """64-bit LCG (Knuth's MMIX constants): fixed output for a seed, and fast."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return self.state >> 33


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--packets", type=int, default=1_500_000)
    ap.add_argument("--flows", type=int, default=10_000)
    ap.add_argument("--src-mac", type=mac_bytes)
    ap.add_argument("--dst-mac", type=mac_bytes)
    ap.add_argument("--dst4", type=lambda s: ipaddress.IPv4Address(s).packed)
    ap.add_argument("--dst6", type=lambda s: ipaddress.IPv6Address(s).packed)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.version:
        print(VERSION)
        return 0
    for name in ("out", "src_mac", "dst_mac", "dst4", "dst6"):
        if getattr(args, name) is None:
            ap.error(f"--{name.replace('_', '-')} is required")
    if args.flows <= 0 or args.flows > SRC4_SPAN or args.packets < args.flows:
        ap.error(f"need 0 < --flows <= {SRC4_SPAN} and --packets >= --flows")

    rng = Lcg(args.seed)
    flows = [Flow(i, args, rng) for i in range(args.flows)]
    wire_bytes = 0
    with open(args.out, "wb") as out:
        # Classic pcap, µs timestamps, LINKTYPE_ETHERNET.
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        records = []
        ts_us = 1_767_225_600 * 1_000_000  # 2026-01-01T00:00:00Z, 1 µs apart
        for n in range(args.packets):
            # Every flow once first (each is then tracked), then a random interleaving.
            f = flows[n] if n < args.flows else flows[rng.next() % args.flows]
            frame = f.frame()
            ts = ts_us + n
            records.append(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame),
                                       len(frame)))
            records.append(frame)
            wire_bytes += len(frame)
            if len(records) >= 65536:
                out.write(b"".join(records))
                records.clear()
        out.write(b"".join(records))
    print(f"gen_replay: {args.packets} packets, {args.flows} flows, "
          f"{wire_bytes / args.packets:.1f} bytes/frame on average", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
