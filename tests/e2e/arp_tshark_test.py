#!/usr/bin/python3
"""ARP conversations (ARP_REQUEST / ARP_REPLY) against tshark.

For every shared capture in which tshark finds ARP, and for a capture of ARP corner cases
written here with scapy, the ARP conversations of `netscope analyze --json` (one and two
flow shards) and of `snapshot --read` (the live engine) must be the ones tshark's fields
describe:
  arp.opcode, arp.src.proto_ipv4, arp.dst.proto_ipv4, vlan.id, frame.time_epoch,
  arp.hw.size, arp.proto.size
grouped by the rule netscope documents (README "Conversations"): one conversation per
unordered pair of protocol addresses and innermost VLAN, a new one after 30 s without a
packet (the `arp` timeout, which tshark does not have); only requests (1) and replies (2)
count; the client is the first sender; the state is ARP_REPLY once the last packet is a
reply or a gratuitous ARP (sender address = target address), else ARP_REQUEST; the bytes
are the ARP message, 8 + 2 * (hardware size + protocol size).
"""
import json
import os
import shutil
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import analyze_json, check, fail, run, shared_captures, tmpdir  # noqa

ARP_TIMEOUT_S = 30.0

CORNER_CASES = r'''
import sys
from scapy.all import ARP, Dot1Q, Ether, wrpcap

A, B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
BC = "ff:ff:ff:ff:ff:ff"
T0 = 1_750_000_000.0
pkts = []


def add(t, op, psrc, pdst, hwsrc=A, hwdst=BC, vlan=None):
    arp = ARP(op=op, psrc=psrc, pdst=pdst, hwsrc=hwsrc,
              hwdst="00:00:00:00:00:00" if op == 1 else hwdst)
    eth = Ether(src=hwsrc, dst=hwdst)
    p = eth / Dot1Q(vlan=vlan) / arp if vlan is not None else eth / arp
    p.time = T0 + t
    pkts.append(p)


# An exchange: request then reply.
add(0.0, 1, "10.9.0.1", "10.9.0.2")
add(0.0002, 2, "10.9.0.2", "10.9.0.1", hwsrc=B, hwdst=A)
# The same pair on VLAN 42: another conversation.
add(0.5, 1, "10.9.0.1", "10.9.0.2", vlan=42)
add(0.5002, 2, "10.9.0.2", "10.9.0.1", hwsrc=B, hwdst=A, vlan=42)
# Unanswered, asked three times.
for i in range(3):
    add(1.0 + i, 1, "10.9.0.1", "10.9.0.99")
# Gratuitous: an announcement as a request and as a reply (RFC 5227 section 3).
add(4.0, 1, "10.9.0.7", "10.9.0.7")
add(4.5, 2, "10.9.0.8", "10.9.0.8", hwdst=BC)
# A probe (RFC 5227 section 2.1.1): sender 0.0.0.0.
add(5.0, 1, "0.0.0.0", "10.9.0.50")
# A reply whose request was not captured: the replier is the client.
add(6.0, 2, "10.9.0.3", "10.9.0.4", hwsrc=B, hwdst=A)
# A refresh of the first pair from the other side, answered, then asked once more and
# left unanswered: ARP_REQUEST again.
add(10.0, 1, "10.9.0.2", "10.9.0.1", hwsrc=B, hwdst=A)
add(10.0003, 2, "10.9.0.1", "10.9.0.2", hwsrc=A, hwdst=B)
add(20.0, 1, "10.9.0.2", "10.9.0.1", hwsrc=B, hwdst=A)
# After more than 30 s of silence the pair starts a new conversation.
add(60.0, 1, "10.9.0.1", "10.9.0.2")
add(60.0002, 2, "10.9.0.2", "10.9.0.1", hwsrc=B, hwdst=A)
# RARP (ethertype 0x8035, operation 3): not an ARP conversation.
rarp = Ether(src=A, dst=BC, type=0x8035) / ARP(op=3, psrc="10.9.0.1", pdst="10.9.0.2", hwsrc=A)
rarp.time = T0 + 61.0
pkts.append(rarp)
wrpcap(sys.argv[1], pkts)
'''


def tshark_conversations(path):
    """The ARP conversations tshark's fields describe, by the rule in the docstring."""
    r = run(["tshark", "-n", "-r", path, "-Y", "arp", "-T", "fields", "-E", "separator=|",
             "-e", "frame.time_epoch", "-e", "vlan.id", "-e", "arp.opcode",
             "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "arp.hw.size",
             "-e", "arp.proto.size"])
    if r.returncode != 0:
        fail("tshark failed on %s: %s" % (path, r.stderr))
    open_convs, done = {}, []
    for line in r.stdout.splitlines():
        t, vlan, op, src, dst, hw, proto = (line.split("|") + [""] * 7)[:7]
        if op not in ("1", "2") or not src or not dst:
            continue
        t = float(t)
        vlan = int(vlan.split(",")[-1]) if vlan else 0  # innermost tag
        key = (vlan,) + tuple(sorted((src, dst)))
        c = open_convs.get(key)
        if c is not None and t - c["last"] > ARP_TIMEOUT_S:
            done.append(open_convs.pop(key))
            c = None
        if c is None:
            c = {"vlan": vlan, "client": src, "server": dst, "last": t,
                 "packets": [0, 0], "bytes": [0, 0]}
            open_convs[key] = c
        d = 0 if src == c["client"] else 1
        c["packets"][d] += 1
        c["bytes"][d] += 8 + 2 * (int(hw) + int(proto))
        c["last"] = t
        c["state"] = "ARP_REPLY" if op == "2" or src == dst else "ARP_REQUEST"
    done += open_convs.values()
    return sorted(row(c["vlan"], c["client"], c["server"], c["state"], c["packets"], c["bytes"])
                  for c in done)


def row(vlan, client, server, state, packets, nbytes):
    return (vlan, client, server, state, packets[0], packets[1], nbytes[0], nbytes[1])


def analyze_conversations(netscope, path, *extra):
    rc, doc, err = analyze_json(netscope, path, *extra)
    if rc != 0 or doc is None:
        fail("analyze %s %s: exit %d: %s" % (path, extra, rc, err))
    convs = [c for c in doc["conversations"] if c["proto"] == "arp"]
    for c in convs:
        if c["client"]["port"] is not None or c["server"]["port"] is not None:
            fail("%s: an ARP conversation has ports: %r" % (path, c))
        if c["score"]["value"] != 0:
            fail("%s: an ARP conversation is scored: %r" % (path, c))
    n = doc["totals"]["by_proto"].get("arp", {}).get("conversations", 0)
    if n != len(convs):
        fail("%s: totals.by_proto.arp.conversations %d, %d listed" % (path, n, len(convs)))
    rows = sorted(row(c["vlan"] or 0, c["client"]["addr"], c["server"]["addr"], c["state"],
                      [c["c2s"]["packets"], c["s2c"]["packets"]],
                      [c["c2s"]["bytes"], c["s2c"]["bytes"]]) for c in convs)
    return rows, doc


def snapshot_states(netscope, path):
    """(sorted address pair, state) of the ARP connections of `snapshot --read`."""
    r = run([netscope, "--no-config", "snapshot", "--read", path, "--speed", "0", "--output",
             "-", "-n", "--show-localhost"])
    if r.returncode != 0:
        fail("snapshot --read %s: exit %d: %s" % (path, r.returncode, r.stderr))
    doc = json.loads(r.stdout)
    out = []
    for c in doc["connections"]:
        if c["proto"] != "arp":
            continue
        if c["local_port"] is not None or c["remote_port"] is not None:
            fail("%s: an ARP connection has ports: %r" % (path, c))
        if c["pid"] is not None or not c["attribution"].startswith("unknown:"):
            fail("%s: an ARP connection is attributed: %r" % (path, c))
        out.append((tuple(sorted((c["local_addr"], c["remote_addr"]))), c["state"]))
    return sorted(out)


def ipfix_data_sets(netscope, path):
    """Replays `path` with --ipfix to a socket of ours; the number of data sets (RFC 7011
    section 3.3.2: set id >= 256) in the messages it received."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    r = run([netscope, "--no-config", "-r", path, "--speed", "0", "-n", "--raw", "--ipfix",
             "127.0.0.1:%d" % sock.getsockname()[1]])
    if r.returncode != 0:
        fail("netscope -r %s --ipfix exited %d: %s" % (path, r.returncode, r.stderr))
    sock.settimeout(1.0)
    data_sets = messages = 0
    try:
        while True:
            msg = sock.recv(65535)
            messages += 1
            length = struct.unpack("!H", msg[2:4])[0]
            off = 16  # the message header
            while off + 4 <= min(length, len(msg)):
                set_id, set_len = struct.unpack("!HH", msg[off:off + 4])
                data_sets += set_id >= 256
                off += max(set_len, 4)
    except socket.timeout:
        pass
    sock.close()
    return messages, data_sets


def main():
    netscope, pcaps = sys.argv[1], sys.argv[2]
    work = tmpdir()
    try:
        corner = os.path.join(work, "arp_corner_cases.pcap")
        r = run([sys.executable, "-c", CORNER_CASES, corner])
        if r.returncode != 0:
            fail("writing the corner cases: " + r.stderr)
        files = [(corner, "arp_corner_cases.pcap")]
        for path, rel in shared_captures(pcaps):
            if run(["tshark", "-n", "-r", path, "-Y", "arp"]).stdout.strip():
                files.append((path, rel))
        check(len(files) >= 4, "%d captures with ARP" % len(files))
        for path, rel in files:
            theirs = tshark_conversations(path)
            ours, doc = analyze_conversations(netscope, path)
            check(ours == theirs, "%s: %d ARP conversations agree with tshark (%s)" %
                  (rel, len(theirs), sorted({t[3] for t in theirs})) if ours == theirs else
                  "%s: analyze %r, tshark %r" % (rel, ours, theirs))
            sharded, _ = analyze_conversations(netscope, path, "--threads", "2")
            check(sharded == ours, "%s: the same with --threads 2" % rel)
            live = snapshot_states(netscope, path)
            want = sorted((tuple(sorted((t[1], t[2]))), t[3]) for t in theirs)
            check(live == want, "%s: snapshot --read shows them with the same states (%r)" %
                  (rel, live) if live == want else "%s: snapshot %r, tshark %r" % (rel, live, want))
            # The TCP health totals and severity levels ignore ARP: the same as on a copy
            # of the capture without it, but for the ARP conversations scored NONE.
            stripped = os.path.join(work, "no_arp.pcapng")
            r = run(["tshark", "-n", "-r", path, "-Y", "not arp", "-F", "pcapng", "-w", stripped])
            rc, no_arp, err = analyze_json(netscope, stripped)
            check(rc == 0 and no_arp is not None and "arp" not in no_arp["totals"]["by_proto"],
                  "%s: analyzed without its ARP" % rel)
            levels = dict(no_arp["totals"]["by_level"])
            levels["NONE"] += len(ours)
            check(no_arp["totals"]["tcp"] == doc["totals"]["tcp"] and
                  levels == doc["totals"]["by_level"],
                  "%s: TCP health and severity levels do not change with ARP" % rel)

        # The corner cases hold every state and rule; check they are really there.
        theirs = tshark_conversations(corner)
        states = [t[3] for t in theirs]
        check(len(theirs) == 8 and states.count("ARP_REPLY") == 5 and
              states.count("ARP_REQUEST") == 3,
              "corner cases: 8 conversations, 5 answered, 3 asking (%r)" % theirs)
        # --timeout arp=S: with 100 s the pair's exchanges 40 s apart are one conversation.
        rc, doc, err = analyze_json(netscope, corner, "--timeout", "arp=100")
        n = doc["totals"]["by_proto"]["arp"]["conversations"] if doc else -1
        check(rc == 0 and n == 7, "--timeout arp=100 merges the pair's exchanges: %d" % n)
        # ... and `timeout = ["arp=100"]` in a config file, read by the live engine.
        conf = os.path.join(work, "arp.toml")
        with open(conf, "w") as f:
            f.write('timeout = ["arp=100"]\n')
        for args, want in ((["--no-config"], 8), (["--config", conf], 7)):
            r = run([netscope] + args + ["snapshot", "--read", corner, "--speed", "0",
                                         "--output", "-", "-n"])
            got = len([c for c in json.loads(r.stdout)["connections"] if c["proto"] == "arp"]) \
                if r.returncode == 0 else -1
            check(got == want, "snapshot --read %s: %d ARP connections (%d)" % (args, want, got))
        # IPFIX records are IP flows: ARP conversations are not exported (README).
        sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples",
                              "netscope-sample.pcap")
        msgs, arp_only = ipfix_data_sets(netscope, corner)
        _, mixed = ipfix_data_sets(netscope, sample)
        check(msgs > 0 and arp_only == 0 and mixed > 0,
              "IPFIX: no data records for ARP (%d messages, %d data sets), records for the "
              "sample's IP flows (%d data sets)" % (msgs, arp_only, mixed))
        # The text report lists them with their states.
        r = run([netscope, "analyze", corner, "--no-color"])
        text = r.stdout
        check(r.returncode == 0 and "\nARP\n" in text and
              "8 exchanges · 5 answered (ARP_REPLY) · 3 unanswered (ARP_REQUEST)" in text and
              "10.9.0.1        -> 10.9.0.99       ARP_REQUEST  3 packets" in text,
              "the text report has an ARP section:\n" +
              text[text.find("\nARP\n"):][:600])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
