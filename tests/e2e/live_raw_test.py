#!/usr/bin/python3
"""`netscope --raw`: bandwhich's raw text format, line for line, parsed strictly. Real
iperf3 and curl traffic between two namespaces; netscope runs in the client namespace
and is stopped with SIGTERM (exit 0). Every line of stdout must be one of the documented
forms, blocks start with "Refreshing:" and end with a blank line, and the iperf3
transfer shows up as a process, a connection and a remote address."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Namespaces, check, fail, need_root_and_netns, tmpdir  # noqa
from live_common import Netscope, wait_ready  # noqa

PROCESS = re.compile(r'^process: <(\d+)> "(.*)" up/down Bps: (\d+)/(\d+) connections: (\d+)$')
CONNECTION = re.compile(r'^connection: <(\d+)> <([^>]+)>:(\d+) => (\S+):(\d+) \(([a-z0-9]+)\) '
                        r'up/down Bps: (\d+)/(\d+) process: "(.*)"$')
REMOTE = re.compile(r'^remote_address: <(\d+)> (\S+) up/down Bps: (\d+)/(\d+) connections: (\d+)$')


def parse_blocks(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    blocks, cur = [], None
    for n, line in enumerate(lines, 1):
        if line == "Refreshing:":
            if cur is not None:
                fail("line %d: block not ended by a blank line" % n)
            cur = []
        elif line == "":
            if cur is None:
                fail("line %d: blank line outside a block" % n)
            blocks.append(cur)
            cur = None
        elif cur is None:
            fail("line %d: %r outside a block" % (n, line))
        elif line == "<NO TRAFFIC>":
            cur.append(("none",))
        elif PROCESS.match(line):
            cur.append(("process",) + PROCESS.match(line).groups())
        elif CONNECTION.match(line):
            cur.append(("connection",) + CONNECTION.match(line).groups())
        elif REMOTE.match(line):
            cur.append(("remote",) + REMOTE.match(line).groups())
        else:
            fail("line %d does not match the raw format: %r" % (n, line))
    return blocks


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    work = tmpdir()
    with Namespaces(34) as nsx:
        nsx.spawn(nsx.srv, ["iperf3", "-s", "-p", "5201"])
        nsx.wait_port(nsx.srv, 5201)
        start = int(time.time())
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["--raw", "-i", nsx.vcli, "-n", "--refresh", "500"],
                      os.path.join(work, "raw.out"))
        wait_ready(nsx, nsx.cli)
        ip = nsx.spawn(nsx.cli, ["iperf3", "-c", nsx.srv_ip, "-p", "5201", "-t", "3",
                                 "-b", "80M"])
        ip.wait(timeout=60)
        time.sleep(1)
        rc = ns.stop()
        end = int(time.time()) + 1
        check(rc == 0, "netscope --raw exits 0 on SIGTERM")
        blocks = parse_blocks(ns.stdout())
        check(len(blocks) >= 6, "%d refresh blocks at 500 ms" % len(blocks))
        for b in blocks:
            if not b:
                fail("an empty block must say <NO TRAFFIC>")
            if ("none",) in b and len(b) != 1:
                fail("<NO TRAFFIC> with other lines: %r" % b)
            for entry in b:
                if entry[0] != "none" and not start <= int(entry[1]) <= end:
                    fail("timestamp %s outside the run [%d, %d]" % (entry[1], start, end))
        procs = [e for b in blocks for e in b if e[0] == "process" and e[2] == "iperf3"]
        check(procs, "iperf3 appears as a process")
        best = max(int(e[3]) for e in procs)
        check(best > 5_000_000, "iperf3 up rate peaks at %d B/s (80 Mbit/s sent)" % best)
        conns = [e for b in blocks for e in b if e[0] == "connection" and e[5] == "5201"]
        check(conns, "the iperf3 connections appear")
        check(all(e[2] == nsx.vcli and e[4] == nsx.srv_ip and e[6] == "tcp" and e[9] == "iperf3"
                  for e in conns), "connection lines name the interface, remote, proto, process")
        remotes = [e for b in blocks for e in b if e[0] == "remote" and e[2] == nsx.srv_ip]
        check(remotes, "the server appears as a remote address")
    print("PASS")


if __name__ == "__main__":
    main()
