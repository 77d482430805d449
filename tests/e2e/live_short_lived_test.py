#!/usr/bin/python3
"""Live monitor, short-lived connections: 100 sequential curl processes, each fetching a
small file from python3 -m http.server in the other namespace. Every connection must be
attributed to curl with the right pid (curl reports its own local port, so each
connection is matched to the process that made it). nethogs managed 0 of 50 here; less
than 99% fails the test.

netscope runs with --log-level debug: for a miss, the test prints the attribution
thread's lines about that connection (when its request was served, when the socket and
the owner were found), which tell which step lost the race."""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Namespaces, check, fail, need_root_and_netns, tmpdir  # noqa
from live_common import Netscope, connections, load_snapshot, wait_ready  # noqa

RUNS = 100


def log_lines(path, port):
    """The attribution debug lines about a connection from local port `port`."""
    needle = ":%d " % port
    try:
        with open(path) as f:
            return [l.rstrip() for l in f if needle in l]
    except OSError:
        return []


def scheduling(pid):
    """The scheduling class of each netscope thread (ps: TS normal, FF SCHED_FIFO), for
    the log: the SYN-watch and lookup threads run real-time when allowed."""
    r = subprocess.run(["ps", "-L", "-o", "comm=,cls=", "-p", str(pid)],
                       capture_output=True, text=True)
    return " ".join("%s:%s" % tuple(l.split()[:2]) for l in r.stdout.splitlines()
                    if len(l.split()) >= 2)


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    # ctest's timeout sends SIGTERM: leave through the `with` so that the namespaces and
    # the processes in them are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))
    work = tmpdir()
    log_path = os.path.join(work, "netscope.log")
    with Namespaces(80) as nsx:
        web = os.path.join(work, "www")
        os.makedirs(web)
        with open(os.path.join(web, "small"), "wb") as f:
            f.write(b"s" * 2048)
        nsx.spawn(nsx.srv, ["python3", "-m", "http.server", "8080", "--bind", nsx.srv_ip,
                            "--directory", web])
        nsx.wait_port(nsx.srv, 8080)
        snap_path = os.path.join(work, "snapshot.json")
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["snapshot", "-i", nsx.vcli, "--duration", "600", "-n",
                       "--output", snap_path, "--log-level", "debug", "--log-file", log_path],
                      os.path.join(work, "netscope.out"))
        wait_ready(nsx, nsx.cli)
        print("threads: " + scheduling(ns.p.pid))
        runs = []
        for _ in range(RUNS):
            p = nsx.spawn(nsx.cli, ["curl", "-s", "-o", "/dev/null", "-w", "%{local_port}",
                                    "http://%s:8080/small" % nsx.srv_ip], stdout=subprocess.PIPE)
            out, _ = p.communicate(timeout=30)
            if p.returncode != 0:
                fail("curl failed (%d)" % p.returncode)
            runs.append((p.pid, int(out)))
        rc = ns.stop()
        check(rc == 0, "netscope snapshot exits 0 on SIGTERM (stderr: %s)" %
              ns.stderr().strip()[-300:])
        doc = load_snapshot(snap_path)
        good = 0
        # The kernel may give two of the curls the same client port (the same 5-tuple, a
        # new connection): the connections of a port, oldest first, pair with its curls
        # in the order they ran.
        by_port = {}
        for pid, port in runs:
            by_port.setdefault(port, []).append(pid)
        for port, pids in by_port.items():
            cs = sorted(connections(doc, local_port=port, remote_port=8080, proto="tcp"),
                        key=lambda c: c["first_seen"])
            if len(pids) > 1:
                print("port %d was used by %d curls (pids %s)" % (port, len(pids), pids))
            for i, pid in enumerate(pids):
                c = cs[i] if len(cs) == len(pids) else None
                if c is not None and c["pid"] == pid and c["process"] == "curl":
                    good += 1
                    continue
                print("miss: curl pid %d port %d -> %s" % (
                    pid, port, [(c["pid"], c["process"], c["attribution"]) for c in cs]))
                for line in log_lines(log_path, port):
                    print("  " + line)
        check(good >= RUNS * 99 // 100,
              "%d of %d short-lived curl connections attributed to the right curl pid" %
              (good, RUNS))
    shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
