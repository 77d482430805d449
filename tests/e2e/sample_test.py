#!/usr/bin/env python3
"""The shipped sample (samples/netscope-sample.pcap, made by scripts/make-sample from real
traffic between namespaces) gives the diagnosis it was made to show: a lossy download
scored for its retransmissions (counts equal tshark's), clean downloads scored NONE, one
refused connection, one unanswered SYN, one ICMP port unreachable tied to its UDP flow."""
import os
import sys

from common import analyze_json, check, run

netscope = sys.argv[1]
sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples",
                      "netscope-sample.pcap")

rc, doc, err = analyze_json(netscope, sample)
check(rc == 0, "the sample is analyzed")
convs = doc["conversations"]
by_port = {}
for c in convs:
    if c["proto"] in ("tcp", "udp"):
        by_port.setdefault(c["server"]["port"], []).append(c)

lossy = by_port[8080][0]
tshark = run(["tshark", "-n", "-r", sample, "-Y",
              "tcp.port == 8080 && (tcp.analysis.retransmission || "
              "tcp.analysis.fast_retransmission)", "-T", "fields", "-e", "frame.number"])
expected = len(tshark.stdout.split())
check(lossy["s2c"]["retransmissions"] == expected and expected > 0,
      "lossy download: %d retransmissions, as tshark counts" % expected)
check(lossy["score"]["level"] in ("LOW", "MEDIUM"), "lossy download scored %s" %
      lossy["score"]["level"])
check(all(c["score"]["level"] == "NONE" for c in by_port[8081]),
      "the clean downloads (IPv4 and IPv6) score NONE")
check(any(":" in c["client"]["addr"] for c in by_port[8081]), "the IPv6 download is there")

kinds = sorted(p["kind"] for p in doc["problems"])
check(kinds == ["icmp_unreachable", "refused", "syn_unanswered"], "problems: %s" % kinds)
refused = by_port[7][0]
check(refused["score"]["level"] == "HIGH", "refused connection is HIGH")
silent = by_port[9999][0]
check(silent["score"]["level"] == "HIGH" and silent["c2s"]["packets"] >= 2,
      "unanswered SYN is HIGH, with its re-sent SYNs")
udp = by_port[5555][0]
check(udp["icmp_errors"] is not None and udp["icmp_errors"]["type"] == 3 and
      udp["icmp_errors"]["code"] == 3, "ICMP port unreachable tied to the UDP flow")

r = run([netscope, "analyze", sample, "--no-color", "--top", "5"])
check(r.returncode == 0 and "SYN never answered" in r.stdout and
      "connection refused" in r.stdout, "the human report names the problems")
