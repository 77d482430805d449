#!/usr/bin/env python3
"""IPFIX export to a real collector: netscope, in the client namespace, exports over UDP
to nfdump's `nfcapd` on that namespace's loopback while curl fetches files from
`python3 -m http.server` in the server namespace. tcpdump on the same interface is the
oracle. `nfdump -r` must show each direction of each transfer with exactly tcpdump's
packet count and IP byte count (summed over the records of the flow: IPFIX records are
unidirectional, and a long flow is reported once per active timeout).

  1. a 3 MB download at full speed;
  2. a slow download (a server that sends for ~7 s) with --ipfix-active 2: its data direction
     must be reported in several records (active timeout) that still add up exactly;
  3. nfcapd counted no sequence errors (RFC 7011 sequence numbers) and saw our
     observation domain.
"""
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time

from common import (Capture, Namespaces, capture_complete_run, check, fail,
                    need_root_and_netns, run, tmpdir)
from live_common import ATTRIBUTION_CAPS, Netscope, settled_caps, wait_ready

netscope, pcaps = sys.argv[1], sys.argv[2]
need_root_and_netns()
for tool in ("nfcapd", "nfdump", "tcpdump", "tshark", "curl"):
    if shutil.which(tool) is None:
        print("skip: needs %s" % tool)
        sys.exit(77)

PORT = 4739 + 50  # the collector's port inside the client namespace
HTTP_PORT = 8050
SLOW_PORT = 8051
DOMAIN = 50

# A slow HTTP server: answers any request with 20 chunks of 32 KiB, one every 0.35 s
# (curl --limit-rate would not do: the kernel's receive buffer takes the whole file at
# once and curl only reads it slowly).
SLOW_SERVER = r"""
import socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1)
c, _ = srv.accept()
c.recv(4096)
c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % (20 * 32768))
for i in range(20):
    c.sendall(b"s" * 32768)
    time.sleep(0.35)
c.close()
"""


def tshark_flows(pcap):
    """{(src, sport, dst, dport): [packets, ip bytes]} for TCP in a capture."""
    r = run(["tshark", "-n", "-r", pcap, "-Y", "tcp", "-T", "fields", "-e", "ip.src", "-e",
             "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "ip.len"])
    if r.returncode != 0:
        fail("tshark failed: %s" % r.stderr)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 5 or not f[4]:
            continue
        k = (f[0], int(f[1]), f[2], int(f[3]))
        v = out.setdefault(k, [0, 0])
        v[0] += 1
        v[1] += int(f[4])
    return out


def nfdump_flows(path):
    """{(src, sport, dst, dport): [packets, bytes, records]} from `nfdump -r -o csv`."""
    r = run(["nfdump", "-r", path, "-o", "csv"])
    if r.returncode != 0:
        fail("nfdump -r failed: %s" % r.stderr)
    text = r.stdout
    lines = [l for l in text.splitlines() if l.strip()]
    header_at = next((i for i, l in enumerate(lines) if l.startswith("ts,")), None)
    if header_at is None:
        fail("no CSV header in nfdump's output: %s" % text[:500])
    body = []
    for l in lines[header_at:]:
        if l.startswith("Summary"):
            break
        body.append(l)
    out = {}
    for row in csv.DictReader(io.StringIO("\n".join(body))):
        if row.get("pr", "").strip() != "TCP":
            continue
        k = (row["sa"].strip(), int(row["sp"]), row["da"].strip(), int(row["dp"]))
        v = out.setdefault(k, [0, 0, 0])
        v[0] += int(row["ipkt"])
        v[1] += int(row["ibyt"])
        v[2] += 1
    return out


def run_once(nsx, work):
    flowdir = os.path.join(work, "flows")
    shutil.rmtree(flowdir, ignore_errors=True)
    os.makedirs(flowdir)
    pcap = os.path.join(work, "oracle.pcap")
    nflog = open(os.path.join(work, "nfcapd.log"), "w")
    nfcapd = nsx.spawn(nsx.cli, ["nfcapd", "-w", flowdir, "-b", "127.0.0.1", "-p", str(PORT),
                                 "-t", "3600"], stdout=nflog, stderr=subprocess.STDOUT)
    nsx.spawn(nsx.srv, ["/usr/bin/python3", "-m", "http.server", "-b", nsx.srv_ip,
                        str(HTTP_PORT)], cwd=work)
    nsx.spawn(nsx.srv, ["/usr/bin/python3", "-c", SLOW_SERVER, nsx.srv_ip, str(SLOW_PORT)])
    nsx.wait_port(nsx.srv, HTTP_PORT)
    nsx.wait_port(nsx.srv, SLOW_PORT)
    cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
    ns = Netscope(nsx, nsx.cli, netscope,
                  ["-i", nsx.vcli, "--ipfix", "127.0.0.1:%d" % PORT, "--ipfix-active", "2",
                   "--ipfix-idle", "15", "--ipfix-domain", str(DOMAIN), "--refresh", "500",
                   "--json-lines", "-n"], os.path.join(work, "netscope.jsonl"))
    wait_ready(nsx, nsx.cli)
    # The exporter's (recorder's) thread starts before the monitor drops capabilities:
    # it must drop its own, so that no thread keeps more than attribution needs.
    caps = settled_caps(ns.p.pid, ATTRIBUTION_CAPS)
    check(caps == ATTRIBUTION_CAPS, "after start-up no thread has more than the capture's and "
          "attribution's capabilities (effective, all threads: %s)" % sorted(caps))
    url = "http://%s:%d/" % (nsx.srv_ip, HTTP_PORT)
    fast = nsx.sh(nsx.cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{local_port}",
                            url + "big.bin"], timeout=120)
    slow = nsx.sh(nsx.cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{local_port}",
                            "http://%s:%d/slow" % (nsx.srv_ip, SLOW_PORT)], timeout=120)
    time.sleep(1.5)  # the closing packets reach a tick
    rc = ns.stop()
    if rc != 0:
        fail("netscope exited %d: %s" % (rc, ns.stderr()))
    incomplete = cap.stop()
    time.sleep(0.5)
    nfcapd.send_signal(signal.SIGTERM)  # flushes and closes the current file
    nfcapd.wait(timeout=20)
    nflog.close()
    return (int(fast.stdout), int(slow.stdout), pcap, flowdir, ns), incomplete


work = tmpdir()
try:
    with open(os.path.join(work, "big.bin"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024))
    with Namespaces(50) as nsx:
        fast_port, slow_port, pcap, flowdir, ns = capture_complete_run(
            3, lambda: run_once(nsx, work))
        check("--ipfix:" not in ns.stderr(), "no exporter warnings (dropped snapshots, send errors)")
        files = [os.path.join(flowdir, f) for f in sorted(os.listdir(flowdir))
                 if f.startswith("nfcapd.") and not f.startswith("nfcapd.current")]
        check(len(files) >= 1, "nfcapd wrote a flow file (%s)" % os.listdir(flowdir))
        theirs = tshark_flows(pcap)
        ours = {}
        for path in files:
            for k, v in nfdump_flows(path).items():
                acc = ours.setdefault(k, [0, 0, 0])
                for i in range(3):
                    acc[i] += v[i]
        cli, srv = nsx.cli_ip, nsx.srv_ip
        for name, port, sport in (("fast", fast_port, HTTP_PORT), ("slow", slow_port, SLOW_PORT)):
            for key in ((cli, port, srv, sport), (srv, sport, cli, port)):
                t = theirs.get(key)
                o = ours.get(key)
                if t is None:
                    fail("%s: tcpdump saw nothing for %s" % (name, key))
                if o is None:
                    fail("%s: nfdump has no record for %s; it has %s" % (name, key, list(ours)))
                check(o[0] == t[0] and o[1] == t[1],
                      "%s %s:%d -> %s:%d: nfdump %d packets %d bytes (%d records) == tcpdump "
                      "%d packets %d IP bytes" % ((name,) + key + (o[0], o[1], o[2], t[0], t[1])))
        down = ours[(srv, SLOW_PORT, cli, slow_port)]
        check(down[2] >= 3, "the ~7 s download was reported in %d records (active timeout 2 s)"
              % down[2])
        log = open(os.path.join(work, "nfcapd.log")).read()
        check("Sequence Errors: 0" in log and "Observation domain %d" % DOMAIN in log,
              "nfcapd: no sequence errors, observation domain %d (%s)" %
              (DOMAIN, " | ".join(l for l in log.splitlines() if "ipfix" in l.lower() or
                                  "Sequence" in l)))
finally:
    shutil.rmtree(work, ignore_errors=True) if not os.environ.get("KEEP") else print(work)
