#!/usr/bin/env python3
"""IPFIX messages decoded by an independent implementation (tshark's cflow dissector),
without root: shared captures are replayed (`netscope -r FILE --speed 0 --ipfix ...`) to
a UDP socket of this test, the datagrams are written into a pcap and tshark decodes
them. For every capture:

  1. every message is IPFIX version 10 in our observation domain, and its sequence number
     is the count of data records in the messages before it (RFC 7011 §3.1);
  2. both templates (256 IPv4, 257 IPv6) are there, with the enterprise-specific fields
     under PEN 32473;
  3. summed per direction (source and destination address and port, protocol), the
     records' octetDeltaCount and packetDeltaCount equal tshark's own IP lengths and
     packet counts on the replayed capture, for every TCP and UDP flow;
  4. the HTTP capture's records carry applicationName "HTTP" (an enterprise field);
  5. flowEndReason: both connections of http_ip4and6 end with FINs in the capture: the
     IPv4 one well before the file ends (3, with FIN in tcpControlBits); the IPv6 one in
     its last packets, so 3 with FIN, or 4 (end of input) if the file ended first.
"""
import json
import os
import shutil
import socket
import struct
import sys

from common import check, fail, run, tmpdir

netscope, pcaps = sys.argv[1], sys.argv[2]
if shutil.which("tshark") is None:
    print("skip: needs tshark")
    sys.exit(77)

DOMAIN = 52
CAPTURES = [
    ("chrissanders/http_ip4and6.pcapng", []),
    ("packetmancer/captures_http.cap", []),
    ("packetmancer/captures_tcp-ecn-sample.pcap", []),
    ("chrissanders/dns_tcp.pcapng", []),
    ("tcpdump/quic_handshake.pcap", ["--show-localhost"]),  # IPv6 loopback, UDP
]


def export(path, extra, work):
    """Replays `path` with --ipfix to a socket of ours; returns the datagrams."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    port = sock.getsockname()[1]
    r = run([netscope, "-r", path, "--speed", "0", "-n", "--ipfix", "127.0.0.1:%d" % port,
             "--ipfix-domain", str(DOMAIN), "--raw"] + extra)
    if r.returncode != 0:
        fail("netscope -r %s exited %d: %s" % (path, r.returncode, r.stderr))
    sock.settimeout(1.0)
    msgs = []
    try:
        while True:
            msgs.append(sock.recv(65535))
    except socket.timeout:
        pass
    sock.close()
    return msgs, port


def write_pcap(path, payloads, port):
    """LINKTYPE_RAW IPv4/UDP packets carrying the payloads to `port`."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for i, p in enumerate(payloads):
            udp = struct.pack("!HHHH", 40000, port, 8 + len(p), 0) + p
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
            f.write(struct.pack("<IIII", 1, i, len(ip), len(ip)) + ip)


def as_list(v):
    return v if isinstance(v, list) else [v]


def decode(pcap, port):
    """tshark's view: [(header dict, [record dicts], [template ids])] per message."""
    r = run(["tshark", "-n", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T", "json",
             "--no-duplicate-keys"])
    if r.returncode != 0:
        fail("tshark failed: %s" % r.stderr)
    out = []
    for pkt in json.loads(r.stdout):
        cf = pkt["_source"]["layers"].get("cflow")
        if cf is None:
            fail("tshark did not decode a message as IPFIX")
        records, templates, pens = [], [], []
        for key, val in cf.items():
            if not key.startswith("Set "):
                continue
            for s in as_list(val):
                for k, v in s.items():
                    if k.startswith("Flow "):
                        records.extend(as_list(v))
                    if k.startswith("Template (Id"):
                        for t in as_list(v):
                            templates.append(int(t["cflow.template_id"]))
                            for fk, fv in t.items():
                                if fk.startswith("Field ("):
                                    for field in as_list(fv):
                                        if "cflow.template_ipfix_field_pen" in field:
                                            pens.append(int(field["cflow.template_ipfix_field_pen"]))
        out.append((cf, records, templates, pens))
    return out


def enterprise_strings(rec):
    out = []
    for v in as_list(rec.get("cflow.enterprise_private_entry", [])):
        try:
            out.append(bytes.fromhex(v.replace(":", "")).decode("utf-8", "replace"))
        except ValueError:
            pass
    return out


def oracle(path):
    """{(src, sport, dst, dport, proto): [packets, IP bytes]} from tshark on the capture."""
    flt = "(tcp || udp) && !(ip.flags.mf == 1) && !(ip.frag_offset > 0) && !icmp && !icmpv6"
    r = run(["tshark", "-n", "-r", path, "-Y", flt,
             "-T", "fields", "-E", "occurrence=f", "-e", "ip.src", "-e", "ip.dst", "-e",
             "ip.len", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ipv6.plen", "-e",
             "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"])
    if r.returncode != 0:
        fail("tshark failed on %s: %s" % (path, r.stderr))
    out = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if f[0]:
            src, dst, length = f[0], f[1], int(f[2])
        else:
            src, dst, length = f[3], f[4], int(f[5]) + 40
        if f[6]:
            key = (src, int(f[6]), dst, int(f[7]), 6)
        else:
            key = (src, int(f[8]), dst, int(f[9]), 17)
        v = out.setdefault(key, [0, 0])
        v[0] += 1
        v[1] += length
    return out


work = tmpdir()
try:
    for name, extra in CAPTURES:
        path = os.path.join(pcaps, name)
        msgs, port = export(path, extra, work)
        check(len(msgs) >= 1, "%s: %d IPFIX messages received" % (name, len(msgs)))
        out_pcap = os.path.join(work, os.path.basename(name) + ".ipfix.pcap")
        write_pcap(out_pcap, msgs, port)
        decoded = decode(out_pcap, port)
        seq, ours, templates, pens, apps, reasons = 0, {}, set(), set(), set(), {}
        for cf, records, tids, pen in decoded:
            if cf["cflow.version"] != "10" or int(cf["cflow.od_id"]) != DOMAIN:
                fail("%s: message version %s domain %s" % (name, cf["cflow.version"],
                                                         cf["cflow.od_id"]))
            if int(cf["cflow.sequence"]) != seq:
                fail("%s: sequence %s, expected %d" % (name, cf["cflow.sequence"], seq))
            seq += len(records)
            templates.update(tids)
            pens.update(pen)
            for rec in records:
                src = rec.get("cflow.srcaddr") or rec.get("cflow.srcaddrv6")
                dst = rec.get("cflow.dstaddr") or rec.get("cflow.dstaddrv6")
                key = (src, int(rec["cflow.srcport"]), dst, int(rec["cflow.dstport"]),
                       int(rec["cflow.protocol"]))
                v = ours.setdefault(key, [0, 0])
                v[0] += int(rec["cflow.packets"])
                v[1] += int(rec["cflow.octets"])
                apps.update(enterprise_strings(rec))
                reasons.setdefault("v6" if ":" in src else "v4", set()).add(
                    (int(rec["cflow.flow_end_reason"]), rec["cflow.tcpflags_tree"]["cflow.tcpflags.fin"]
                     if "cflow.tcpflags_tree" in rec else None))
        check(templates == {256, 257} and pens == {32473},
              "%s: templates %s, enterprise fields under PEN %s; sequence numbers count %d "
              "records" % (name, sorted(templates), sorted(pens), seq))
        theirs = oracle(path)
        if not theirs:
            fail("%s: tshark found no TCP/UDP flow" % name)
        for key, (packets, octets) in sorted(theirs.items()):
            got = ours.get(key)
            if got != [packets, octets]:
                fail("%s: %s: IPFIX %s != tshark %d packets %d IP bytes" %
                     (name, key, got, packets, octets))
        extra_keys = [k for k in ours if k[4] in (6, 17) and k not in theirs]
        check(not extra_keys, "%s: %d directions, packets and IP bytes equal tshark's, none "
              "extra %s" % (name, len(theirs), extra_keys))
        if name.endswith("http_ip4and6.pcapng"):
            check(reasons.get("v4") == {(3, "1")} and
                  reasons.get("v6") in ({(3, "1")}, {(4, "0")}),
                  "%s: flowEndReason/FIN %s" % (name, reasons))
        if name.endswith("captures_http.cap"):
            check("HTTP" in apps, "%s: applicationName HTTP in the enterprise fields (%s)" %
                  (name, sorted(apps)[:6]))
finally:
    shutil.rmtree(work, ignore_errors=True) if not os.environ.get("KEEP") else print(work)
