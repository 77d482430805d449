#!/usr/bin/python3
"""Live, DNS through a local stub resolver while loopback traffic is hidden (the default):
a process asks dnsmasq on 127.0.0.53, which forwards to an upstream dnsmasq in the other
namespace. netscope (default interfaces, one named by -i, or "any"; no --show-localhost)
must show the query on
loopback attributed to the process that asked, and the resolver's own upstream query
attributed to the resolver, while no loopback connection is listed.
Oracles: the client's and the stub dnsmasq's pids (Popen)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Namespaces, check, need_root_and_netns, run, tmpdir  # noqa
from live_common import Netscope, load_snapshot, wait_ready  # noqa

NAME = "stub.test"

# One question on a UDP socket that stays open a moment after the answer (as a resolver
# library's does), so that the asking process can be found through its socket.
CLIENT = r"""
import random, socket, struct, sys, time
qid = random.randrange(65536)
q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in sys.argv[1].split(".")) + b"\0"
q += struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, ("127.0.0.53", 53))
a = s.recv(512)
time.sleep(1.5)
print(len(a))
"""


def check_variant(nsx, netscope, work, stub_pid, label, args):
    print("-- %s" % label)
    tag = label.replace(" ", "_").replace("-", "")
    snap_path = os.path.join(work, "snapshot-%s.json" % tag)
    ns = Netscope(nsx, nsx.cli, netscope,
                  ["snapshot", "--duration", "600", "-n", "--output", snap_path] + args,
                  os.path.join(work, "netscope-%s.out" % tag))
    wait_ready(nsx, nsx.cli)
    script = os.path.join(work, "client.py")
    with open(script, "w") as f:
        f.write(CLIENT)
    p = subprocess.Popen(["ip", "netns", "exec", nsx.cli, "python3", script, NAME],
                         stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate(timeout=30)
    check(p.returncode == 0 and int(out) > 12, "the client got an answer through the stub")
    time.sleep(1.5)
    rc = ns.stop()
    check(rc == 0, "netscope exits 0 (stderr: %s)" % ns.stderr().strip()[-300:])
    doc = load_snapshot(snap_path)
    events = [d for d in doc["dns"] if d["query"] == NAME]
    asked = [d for d in events if d["server"] == "127.0.0.53"]
    check(len(asked) == 1, "the query to the stub on loopback is seen (%s)" % events)
    check(asked[0]["pid"] == p.pid and asked[0]["process"] == "python3",
          "and attributed to the client %d: %s/%s" % (p.pid, asked[0]["process"],
                                                      asked[0]["pid"]))
    check(asked[0]["rcode"] == "NOERROR" and asked[0]["answers"] == ["10.9.8.7"],
          "with its answer (%s %s)" % (asked[0]["rcode"], asked[0]["answers"]))
    upstream = [d for d in events if d["server"] == nsx.srv_ip]
    check(len(upstream) == 1 and upstream[0]["pid"] == stub_pid and
          upstream[0]["process"] == "dnsmasq",
          "the resolver's upstream query is the resolver's (%d): %s" % (stub_pid, upstream))
    loop = [c for c in doc["connections"] if c["local_addr"].startswith("127.")]
    check(not loop, "loopback connections stay hidden (%d listed)" % len(loop))


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    if run(["sh", "-c", "command -v dnsmasq"]).returncode != 0:
        print("skip: needs dnsmasq")
        sys.exit(77)
    work = tmpdir()
    with Namespaces(36) as nsx:
        nsx.spawn(nsx.srv, ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                            "--bind-interfaces", "--listen-address=" + nsx.srv_ip,
                            "--address=/%s/10.9.8.7" % NAME, "--pid-file="])
        # `ip netns exec` execs dnsmasq: the Popen pid is dnsmasq's.
        stub = nsx.spawn(nsx.cli, ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                            "--bind-interfaces", "--listen-address=127.0.0.53",
                            "--server=" + nsx.srv_ip, "--cache-size=0",
                            # upstream queries from one long-lived socket (by default each
                            # goes from a socket of its own, gone within a millisecond)
                            "--query-port=1053",
                            "--pid-file="])
        # The default interfaces, one named by -i, and "any": each must see the stub's
        # query on loopback.
        for label, args in (("default interfaces", []), ("-i " + nsx.vcli, ["-i", nsx.vcli]),
                            ("-i any", ["-i", "any"])):
            check_variant(nsx, netscope, work, stub.pid, label, args)
    print("PASS")


if __name__ == "__main__":
    main()
