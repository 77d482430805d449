#!/usr/bin/env python3
"""Real TCP transfers between two network namespaces, captured at the sender with
offloads off, then `netscope analyze`d and checked against independent oracles:

  1. a clean transfer by a sender that counts what it sends and closes gracefully (iperf3
     ends its test while data is still queued and resets the data connection, so its
     sent count is not what crossed the wire): netscope's client->server payload bytes
     equal the sender's count, the server->client ones the receiver's 8-byte reply, the
     IP bytes equal tshark's, and nothing is flagged;
  2. the same transfer with ~1.6% loss on the receiver's ingress (nftables netdev rule,
     as this kernel has no netem): the counters equal tshark's on the same capture, the
     retransmissions are within the sender kernel's own count (iperf3 reports
     tcpi_total_retrans), and the conversation is scored above NONE for the right reason.
"""
import json
import os
import shutil
import sys

from common import (Capture, Namespaces, analyze_json, capture_complete_run, check, fail,
                    need_root_and_netns, run, tmpdir)

netscope, pcaps = sys.argv[1], sys.argv[2]
need_root_and_netns()
if shutil.which("iperf3") is None or shutil.which("tcpdump") is None:
    print("skip: needs iperf3 and tcpdump")
    sys.exit(77)

TRANSFER = 8 * 1024 * 1024

# Receiver: reads until EOF, answers with the byte count (8 bytes), closes.
RECEIVER = r"""
import socket, struct, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 6000)); srv.listen(1)
c, _ = srv.accept(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    n += len(b)
c.sendall(struct.pack("!Q", n)); c.close()
"""
# Sender: sends N bytes, half-closes, waits for the count, prints what it sent.
SENDER = r"""
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 6000))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1200)
chunk = b"n" * 65536; left = int(sys.argv[2]); sent = 0
while left > 0:
    k = s.send(chunk[:min(left, len(chunk))]); sent += k; left -= k
s.shutdown(socket.SHUT_WR)
reply = b""
while len(reply) < 8:
    b = s.recv(8 - len(reply))
    if not b: break
    reply += b
s.close()
print(sent, struct.unpack("!Q", reply)[0])
"""


def counted_transfer(nsx, work):
    """The clean transfer: returns (pcap, bytes the sender sent, bytes the receiver read)."""
    def once():
        pcap = os.path.join(work, "clean.pcap")
        server = nsx.spawn(nsx.srv, ["/usr/bin/python3", "-c", RECEIVER, nsx.srv_ip])
        nsx.wait_port(nsx.srv, 6000)
        cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
        r = nsx.sh(nsx.cli, ["/usr/bin/python3", "-c", SENDER, nsx.srv_ip, str(TRANSFER)],
                   timeout=120)
        incomplete = cap.stop()
        server.wait(timeout=30)
        sent, received = (int(x) for x in r.stdout.split())
        return (pcap, sent, received), incomplete
    return capture_complete_run(3, once)

TSHARK_FIELDS = {
    "retransmissions": "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
                       "tcp.analysis.spurious_retransmission",
    "fast_retransmissions": "tcp.analysis.fast_retransmission",
    "out_of_order": "tcp.analysis.out_of_order",
    "dup_acks": "tcp.analysis.duplicate_ack",
}


def tshark_count(path, flt):
    r = run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number"])
    return len(r.stdout.split())


def transfer(nsx, work, name, loss_per_1024):
    """One iperf3 run captured at the sender; retried if the capture missed packets."""
    def once():
        pcap = os.path.join(work, name + ".pcap")
        if loss_per_1024:
            nsx.loss(nsx.srv, nsx.vsrv, loss_per_1024, "tcp dport 5201")
        server = nsx.spawn(nsx.srv, ["iperf3", "-s", "-1", "-B", nsx.srv_ip])
        nsx.wait_port(nsx.srv, 5201)
        cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
        r = nsx.sh(nsx.cli, ["iperf3", "-c", nsx.srv_ip, "-n", str(TRANSFER), "-M", "1200",
                             "-J"], timeout=120)
        incomplete = cap.stop()
        server.wait(timeout=30)
        if loss_per_1024:
            nsx.sh(nsx.srv, ["nft", "delete", "table", "netdev", "loss"])
        report = json.loads(r.stdout)
        return (pcap, report["end"]["sum_sent"]), incomplete
    return capture_complete_run(3, once)


def data_conversation(doc):
    convs = [c for c in doc["conversations"] if c["proto"] == "tcp" and c["server"]["port"] == 5201]
    if len(convs) != 2:
        fail("expected iperf3's control and data connections, got %d" % len(convs))
    return max(convs, key=lambda c: c["c2s"]["payload_bytes"])


work = tmpdir()
try:
    with Namespaces(os.getpid() % 1000 + 3000) as nsx:
        # 1. Clean transfer, byte-exact.
        pcap, sent, received = counted_transfer(nsx, work)
        check(sent == TRANSFER and received == TRANSFER, "the receiver read all %d bytes" % sent)
        rc, doc, err = analyze_json(netscope, pcap)
        check(rc == 0, "clean capture analyzed")
        convs = [c for c in doc["conversations"] if c["proto"] == "tcp"]
        check(len(convs) == 1, "one TCP conversation")
        data = convs[0]
        check(data["client_by"] == "syn" and data["client"]["addr"] == nsx.cli_ip,
              "client is the SYN sender")
        # Payload on the wire counts re-sent segments again (a loaded machine can make even
        # a clean veth retransmit), and tshark's rules, which netscope follows, class some
        # of them as out-of-order rather than retransmitted. So: netscope's payload equals
        # tshark's, and the sequence space tshark saw the client use equals the sender's
        # count (+1 for the SYN, +1 for the FIN).
        c2s = "tcp.srcport == %d" % data["client"]["port"]
        r = run(["tshark", "-n", "-r", pcap, "-Y", c2s, "-T", "fields", "-e", "tcp.len", "-e",
                 "tcp.nxtseq"])
        rows = [line.split("\t") for line in r.stdout.splitlines() if line.strip()]
        wire_payload = sum(int(row[0]) for row in rows)
        span = max(int(row[1]) for row in rows if len(row) > 1 and row[1]) - 2
        check(data["c2s"]["payload_bytes"] == wire_payload,
              "payload bytes c->s %d == tshark's %d" % (data["c2s"]["payload_bytes"],
                                                       wire_payload))
        check(span == sent, "sequence space used %d == the sender's count %d" % (span, sent))
        goodput = data["c2s"]["payload_bytes"] - data["c2s"]["retransmitted_bytes"]
        check(goodput >= sent, "payload %d - retransmitted %d covers the sender's count %d"
              % (data["c2s"]["payload_bytes"], data["c2s"]["retransmitted_bytes"], sent))
        if data["c2s"]["retransmissions"] == 0 and data["c2s"]["out_of_order"] == 0:
            check(goodput == sent, "with nothing re-sent, payload %d == the sender's count %d"
                  % (goodput, sent))
        check(data["s2c"]["payload_bytes"] == 8, "payload bytes s->c == the 8-byte reply")
        # A loaded machine can make the receiver stall (zero window) or the sender
        # retransmit even on a veth; without either, the score must be exactly 0.
        if data["c2s"]["retransmissions"] == 0 and data["s2c"]["zero_windows"] == 0:
            check(data["score"]["level"] == "NONE", "a clean transfer scores NONE: %s" %
                  data["reasons"])
        check(data["state"] in ("TIME_WAIT", "CLOSED") and data["end_reason"] in
              ("closed", "end_of_input"), "the connection closed (%s)" % data["state"])
        check(data["rtt"]["handshake_ms"] is not None and data["rtt"]["samples"] > 10,
              "RTT measured (%s samples)" % data["rtt"]["samples"])
        r = run(["tshark", "-n", "-r", pcap, "-Y", "tcp.port == %d" % data["client"]["port"],
                 "-T", "fields", "-e", "ip.len"])
        tshark_sum = sum(int(x) for x in r.stdout.split())
        ip_bytes = data["c2s"]["bytes"] + data["s2c"]["bytes"]
        check(ip_bytes == tshark_sum, "IP bytes %d == sum of tshark ip.len %d" %
              (ip_bytes, tshark_sum))

        # 2. Lossy transfer.
        pcap, sent = transfer(nsx, work, "lossy", 16)
        rc, doc, err = analyze_json(netscope, pcap)
        check(rc == 0, "lossy capture analyzed")
        data = data_conversation(doc)
        for key, flt in TSHARK_FIELDS.items():
            ours = doc["totals"]["tcp"][key]
            theirs = tshark_count(pcap, flt)
            check(ours == theirs, "%s: netscope %d == tshark %d" % (key, ours, theirs))
        retx = data["c2s"]["retransmissions"]
        kernel = sent["retransmits"]
        check(retx > 0 and kernel > 0, "loss caused retransmissions (netscope %d, kernel %d)" %
              (retx, kernel))
        # Every retransmission the kernel made crossed the capture point. tshark's rules
        # class a re-sent segment as out-of-order when it follows the highest segment by
        # less than an RTT (common when a loaded machine delays the sender); nothing is
        # really reordered on a veth, so those are the kernel's retransmissions too. The
        # analysis may add a few (e.g. a retransmitted FIN) but never many more.
        resent = retx + data["c2s"]["out_of_order"]
        check(kernel * 0.8 <= resent <= kernel * 1.25 + 2,
              "retransmissions %d + out-of-order %d within the sender kernel's count %d" %
              (retx, data["c2s"]["out_of_order"], kernel))
        check(data["score"]["value"] > 0 and any("retransmitted" in r for r in data["reasons"]),
              "the lossy transfer is scored for its retransmissions: %s" % data["reasons"])
        check(data["s2c"]["dup_acks"] > 0, "the receiver sent duplicate ACKs")
finally:
    shutil.rmtree(work, ignore_errors=True) if not os.environ.get("KEEP") else print(work)
