#!/usr/bin/python3
"""Live ARP: two namespaces with empty neighbour caches, one ping, and `netscope snapshot`
running in each namespace. Each snapshot must show the ARP exchange as one connection in
state ARP_REPLY, with its own namespace's address as local_addr and the peer's as
remote_addr, no process (the kernel answers ARP: attribution unknown:kernel), and packet
and byte counts equal to what tcpdump captured of the same run (bytes: 28 per ARP message).
"""
import calendar
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (Capture, Namespaces, capture_complete_run, check, fail,  # noqa
                    need_root_and_netns, run, tmpdir)
from live_common import Netscope, connections, load_snapshot, wait_ready  # noqa

# Upper bound of each snapshot; they are stopped (SIGTERM) once the exchange is over.
MAX_DURATION_S = 60


def tcpdump_arp(pcap):
    """What tcpdump saw: [(time, opcode, sender, target)] of ARP requests and replies."""
    r = run(["tshark", "-n", "-r", pcap, "-Y", "arp.opcode == 1 || arp.opcode == 2", "-T",
             "fields", "-e", "frame.time_epoch", "-e", "arp.opcode", "-e", "arp.src.proto_ipv4",
             "-e", "arp.dst.proto_ipv4"])
    if r.returncode != 0:
        fail("tshark failed on %s: %s" % (pcap, r.stderr))
    frames = []
    for line in r.stdout.splitlines():
        t, op, src, dst = line.split("\t")
        frames.append((float(t), int(op), src, dst))
    return frames


def check_side(name, doc, frames, local, remote):
    arps = connections(doc, proto="arp")
    check(len(arps) == 1, "%s: one ARP connection (%d)" % (name, len(arps)))
    c = arps[0]
    check(c["local_addr"] == local and c["remote_addr"] == remote,
          "%s: local %s, remote %s" % (name, c["local_addr"], c["remote_addr"]))
    check(c["local_port"] is None and c["remote_port"] is None, "%s: no ports" % name)
    check(c["state"] == "ARP_REPLY", "%s: state %s" % (name, c["state"]))
    check(c["pid"] is None and c["process"] is None and c["attribution"] == "unknown:kernel",
          "%s: no process, attribution %s" % (name, c["attribution"]))
    # The oracle: the ARP messages tcpdump captured during the snapshot.
    up = [f for f in frames if f[2] == local and f[3] == remote]
    down = [f for f in frames if f[2] == remote and f[3] == local]
    check(c["packets_up"] == len(up) and c["packets_down"] == len(down),
          "%s: packets up/down %d/%d, tcpdump %d/%d" %
          (name, c["packets_up"], c["packets_down"], len(up), len(down)))
    check(c["bytes_up"] == 28 * len(up) and c["bytes_down"] == 28 * len(down),
          "%s: bytes up/down %d/%d = 28 per ARP message" % (name, c["bytes_up"], c["bytes_down"]))
    check(any(f[1] == 1 for f in frames) and any(f[1] == 2 for f in frames),
          "%s: tcpdump saw the request and the reply" % name)
    check(frames[-1][1] == 2, "%s: tcpdump's last ARP message is a reply too" % name)
    unknown = [p for p in doc["processes"] if p["name"] == "<UNKNOWN>"]
    check(len(unknown) == 1 and unknown[0]["bytes_up"] + unknown[0]["bytes_down"] >=
          c["bytes_up"] + c["bytes_down"], "%s: its bytes are <UNKNOWN>'s" % name)


def run_once(netscope):
    work = tmpdir()
    try:
        with Namespaces(70) as nsx:
            for ns, dev in ((nsx.cli, nsx.vcli), (nsx.srv, nsx.vsrv)):
                nsx.sh(ns, ["ip", "neigh", "flush", "dev", dev])
            pcap = os.path.join(work, "arp.pcap")
            cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
            snaps = {}
            for side, ns, dev in (("client", nsx.cli, nsx.vcli), ("server", nsx.srv, nsx.vsrv)):
                path = os.path.join(work, side + ".json")
                snaps[side] = (path, Netscope(nsx, ns, netscope,
                                              ["--no-config", "snapshot", "-i", dev,
                                               "--duration", str(MAX_DURATION_S), "--refresh",
                                               "500", "-n", "--output", path],
                                              os.path.join(work, side + ".out")))
            wait_ready(nsx, nsx.cli)
            neigh = nsx.sh(nsx.cli, ["ip", "neigh", "show", "dev", nsx.vcli]).stdout
            check(nsx.srv_ip not in neigh or "FAILED" in neigh,
                  "the client does not know the server's address yet: %r" % neigh.strip())
            nsx.sh(nsx.cli, ["ping", "-c", "1", "-W", "5", nsx.srv_ip])
            # The server learnt the client's address from its request (STALE); answering
            # the ping moves it to DELAY, and 5 s later the server checks it with a
            # unicast request (PROBE) that the client answers (REACHABLE). Stop once that
            # second exchange is over, so that no snapshot ends in the middle of one.
            for _ in range(100):
                entry = nsx.sh(nsx.srv, ["ip", "neigh", "show", nsx.cli_ip, "dev", nsx.vsrv],
                               check_rc=False).stdout
                if "REACHABLE" in entry:
                    break
                time.sleep(0.2)
            print("server's neighbour entry for the client: %s" % entry.strip())
            time.sleep(0.5)
            docs = {}
            for side, (path, ns) in snaps.items():
                rc = ns.stop(60)
                check(rc == 0, "%s snapshot exits 0 (%s)" % (side, ns.stderr().strip()[-300:]))
                docs[side] = load_snapshot(path)
            incomplete = cap.stop()
            drops = sum(i["drops"] for d in docs.values() for i in d["interfaces"])
            if drops:
                return None, "netscope reports %d kernel drops" % drops
            if incomplete:
                return None, incomplete
            frames = tcpdump_arp(pcap)
            # tcpdump ran longer than either netscope: compare with what it saw up to the
            # end of each snapshot (both read the kernel's packet timestamps).
            for side, local, remote in (("client", nsx.cli_ip, nsx.srv_ip),
                                        ("server", nsx.srv_ip, nsx.cli_ip)):
                end = epoch(docs[side]["ended"])
                check_side(side, docs[side], [f for f in frames if f[0] <= end], local, remote)
            return True, None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def epoch(rfc3339):
    """Seconds since the epoch of "2026-11-21T23:45:01.123456Z" (microseconds kept)."""
    date, frac = rfc3339.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1e6


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    capture_complete_run(3, lambda: run_once(netscope))
    print("PASS")


if __name__ == "__main__":
    main()
