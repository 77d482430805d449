#!/usr/bin/env python3
"""Many network namespaces: attribution holds sock_diag sockets in each one processes
live in (4-5 open files per namespace), so their number follows the open-file limit.

- With a soft limit below the hard one, netscope raises it to the hard one at start-up
  (/proc/<pid>/limits) and enters every namespace (its netlink sockets, counted in
  /proc/<pid>/fd, grow with them).
- With a hard limit of 200 it enters at most 16 (namespace_capacity's floor), says so
  once on stderr, keeps its open files under the limit and keeps publishing ticks.

Oracle: the kernel's view of the process (/proc/<pid>/limits, /proc/<pid>/fd).

usage: live_namespaces_test.py NETSCOPE PCAPS_DIR   (root; namespaces nsfd58-*)
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fail, need_root_and_netns, run, tmpdir  # noqa: E402

NETSCOPE = os.path.abspath(sys.argv[1])
PREFIX = "nsfd58-"
COUNT = 40
LISTENER = ("import socket, time\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "time.sleep(600)\n")


def sockets(pid):
    """Sockets among the open files of `pid`. (The sock_diag sockets made inside other
    namespaces are listed in those namespaces' /proc/net/netlink, not ours: so all
    sockets are counted. Besides those, netscope holds a handful: captures, netlink
    route and its own namespace's sock_diag.)"""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:[")
        except OSError:
            pass
    return n


def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def ticks(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_netscope(out, name, limits):
    path = os.path.join(out, name + ".jsonl")
    err = open(os.path.join(out, name + ".stderr"), "w")
    p = subprocess.Popen(["prlimit", "--nofile=" + limits, NETSCOPE, "-i", "lo", "--json-lines",
                          "--refresh", "500", "--top", "1", "-n"],
                         stdout=open(path, "w"), stderr=err)
    return p, path, err


def settle(p, path, want_sockets=None, seconds=20):
    """Waits for ticks (and, if asked, that many sockets); the last count read."""
    deadline = time.time() + seconds
    n = 0
    while time.time() < deadline:
        if p.poll() is not None:
            fail("netscope exited early (%s)" % p.returncode)
        n = sockets(p.pid)
        if len(ticks(path)) >= 3 and (want_sockets is None or n >= want_sockets):
            break
        time.sleep(0.5)
    return n


def stop(p, err):
    p.terminate()
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("netscope did not stop on SIGTERM")
    err.close()
    return rc


def main():
    need_root_and_netns()
    if subprocess.run(["which", "prlimit"], capture_output=True).returncode != 0:
        print("skip: needs prlimit (util-linux)")
        sys.exit(77)
    out = tmpdir()
    names = [PREFIX + str(i) for i in range(COUNT)]
    holders = []
    try:
        for n in names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
            check(run(["ip", "netns", "add", n]).returncode == 0, "ip netns add " + n)
            run(["ip", "-n", n, "link", "set", "lo", "up"])
            holders.append(subprocess.Popen(["ip", "netns", "exec", n, "python3", "-c", LISTENER]))
        time.sleep(1)

        # A soft limit below the hard one: raised, and every namespace entered.
        p, path, err = run_netscope(out, "raised", "1024:20000")
        n_all = settle(p, path, want_sockets=2 * COUNT)
        check(soft_nofile(p.pid) == 20000, "the soft open-file limit was raised to the hard "
              "one (%s)" % soft_nofile(p.pid))
        check(n_all >= 2 * COUNT, "every namespace entered: %d sockets for %d namespaces"
              % (n_all, COUNT))
        check(stop(p, err) == 0, "netscope exits 0")
        with open(os.path.join(out, "raised.stderr")) as f:
            check("namespaces are in use" not in f.read(), "no capacity warning when it fits")

        # A hard limit of 200: at most 16 namespaces (the own one included).
        p, path, err = run_netscope(out, "capped", "200:200")
        time.sleep(3)
        n_capped = settle(p, path)
        fds = len(os.listdir("/proc/%d/fd" % p.pid))
        before = len(ticks(path))
        time.sleep(2)
        check(len(ticks(path)) > before, "ticks keep coming at the bound")
        check(n_capped <= 2 * 16 + 8, "at most 16 namespaces entered: %d sockets" % n_capped)
        check(fds < 200, "open files stay under the limit (%d)" % fds)
        check(stop(p, err) == 0, "netscope exits 0")
        with open(os.path.join(out, "capped.stderr")) as f:
            msg = f.read()
        check(msg.count("more network namespaces are in use than the 16") == 1,
              "one warning names the bound: %r" % msg[-400:])
    finally:
        for h in holders:
            h.kill()
        for h in holders:
            h.wait()
        for n in names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
    print("PASS")


if __name__ == "__main__":
    main()
