"""Helpers for the live-monitor end-to-end tests: netscope running inside a namespace,
its snapshot document, and the oracles (tcpdump IP lengths, senders' own counts)."""
import json
import os
import subprocess
import time

from common import fail, run


# Capability numbers (linux/capability.h) of those netscope may keep.
CAP_DAC_READ_SEARCH, CAP_NET_ADMIN, CAP_NET_RAW = 2, 12, 13
CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_NICE = 19, 21, 23
CAPTURE_CAPS = {CAP_NET_RAW, CAP_NET_ADMIN}
ATTRIBUTION_CAPS = CAPTURE_CAPS | {CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SYS_ADMIN,
                                   CAP_SYS_NICE}


def effective_caps(pid):
    """The capabilities in the effective set of any thread of `pid` (CapEff)."""
    caps = set()
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                for line in f:
                    if line.startswith("CapEff:"):
                        bits = int(line.split()[1], 16)
                        caps |= {n for n in range(64) if bits >> n & 1}
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return caps


def settled_caps(pid, want, timeout=20):
    """effective_caps(pid) once it equals `want` (the monitor drops capabilities after
    opening its handles, which a loaded machine may take a while to get to), else the
    last set seen after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        caps = effective_caps(pid)
        if caps == want or time.time() >= deadline:
            return caps
        time.sleep(0.2)


class Netscope:
    """`netscope ARGS` inside namespace `ns`, stdout to a file, stopped with SIGTERM."""

    def __init__(self, nsx, ns, netscope, args, out_path):
        self.out_path = out_path
        self.err_path = out_path + ".stderr"
        self.out = open(out_path, "w")
        self.err = open(self.err_path, "w")
        self.p = nsx.spawn(ns, [netscope] + args, stdout=self.out, stderr=self.err)

    def wait(self, timeout):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("netscope did not finish within %ds; stderr: %s" % (timeout, self.stderr()))
        self.out.close()
        self.err.close()
        return rc

    def stop(self, timeout=20):
        if self.p.poll() is None:
            self.p.terminate()
        return self.wait(timeout)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()


def wait_ready(nsx, ns, seconds=2.0):
    """The capture handles open within a few hundred ms; give them a margin."""
    time.sleep(seconds)


def load_snapshot(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != "netscope.snapshot/1":
        fail("%s: schema is %r" % (path, doc.get("schema")))
    return doc


def ip_bytes_by_flow(pcap):
    """{(proto, local_port, remote_port): sum of IP lengths} from tshark over a capture,
    keyed by the pair of ports (unordered: sorted)."""
    r = run(["tshark", "-n", "-r", pcap, "-T", "fields", "-e", "ip.len", "-e", "ip.proto",
             "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"])
    if r.returncode != 0:
        fail("tshark failed on %s: %s" % (pcap, r.stderr))
    out = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 6 or not f[0]:
            continue
        length = int(f[0].split(",")[0])
        proto = int(f[1].split(",")[0])
        ports = (f[2], f[3]) if f[2] else (f[4], f[5])
        if not ports[0]:
            continue
        key = (proto,) + tuple(sorted((int(ports[0]), int(ports[1]))))
        out[key] = out.get(key, 0) + length
    return out


def duplicate_payload(pcap, sport, dport):
    """TCP payload bytes from sport to dport that the wire carried more than once: the sum
    of the segments' lengths less the sequence space they cover. The sender counts them
    once, the wire (and netscope) each time: a starved receiver on a loaded machine makes
    the sender's RTO fire even on a veth. (tshark's tcp.analysis.retransmission flags
    missed some of those resends: 40 segments in one run.)"""
    r = run(["tshark", "-n", "-r", pcap, "-T", "fields", "-e", "tcp.seq", "-e", "tcp.len",
             "-Y", "tcp.srcport == %d && tcp.dstport == %d && tcp.len > 0" % (sport, dport)])
    if r.returncode != 0:
        fail("tshark failed on %s: %s" % (pcap, r.stderr))
    segments = [tuple(int(x) for x in l.split()) for l in r.stdout.splitlines()
                if len(l.split()) == 2]
    if not segments:
        return 0
    wire = sum(n for _, n in segments)
    covered = max(seq + n for seq, n in segments) - min(seq for seq, _ in segments)
    return wire - covered


def connections(doc, **match):
    """Connections of a snapshot document whose fields equal the given values."""
    return [c for c in doc["connections"] if all(c.get(k) == v for k, v in match.items())]


def within(value, expected, fraction):
    return abs(value - expected) <= fraction * max(expected, 1)
