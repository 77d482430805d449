#!/usr/bin/python3
"""Crash safety of the event log: netscope --db is killed with SIGKILL while it logs
hundreds of connections and DNS queries a second. Afterwards, read with the sqlite3 CLI:

- PRAGMA integrity_check is ok;
- every row a reader could see well before the kill (counted with the sqlite3 CLI while
  netscope was writing) is still there, unchanged in number;
- a marker DNS query that netscope published (in its --json-lines output) 3 s before the
  kill is there: commits come at least once a second after a snapshot is handed over;
- netscope opens the killed database again (its WAL is recovered) and appends to it.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Namespaces, check, fail, need_root_and_netns, run, tmpdir  # noqa
from live_common import Netscope, wait_ready  # noqa
from live_dpi_test import DNS_SERVER  # noqa
from db_log_test import sql  # noqa

TAG = 56

# Accepts connections and answers each with one byte, then closes.
CHURN_SERVER = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9000)); s.listen(512)
def serve(c):
    try:
        c.recv(16); c.sendall(b"y")
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# Opens short TCP connections, a few hundred a second.
CHURN_CLIENT = r"""
import socket, sys, time
while True:
    time.sleep(0.002)
    try:
        c = socket.create_connection((sys.argv[1], 9000), timeout=5)
        c.sendall(b"x"); c.recv(16); c.close()
    except OSError:
        pass
"""

# Asks for a new name every time, on a new socket every 200 queries (DPI parses a bounded
# number of messages per flow); a name given on stdin goes out next (the marker), and its
# line is echoed once the answer is in.
DNS_FLOOD = r"""
import select, socket, struct, sys, time
srv = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
def ask(tid, name):
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    u.sendto(struct.pack(">HHHHHH", tid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1),
             (srv, 53))
    try:
        u.recvfrom(512)
    except OSError:
        pass
n = 0
while True:
    n += 1
    if n % 200 == 0:
        u.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
    if select.select([sys.stdin], [], [], 0)[0]:
        name = sys.stdin.readline().strip()
        ask(n & 0xffff, name)
        print(name, flush=True)
        continue
    ask(n & 0xffff, "q%d.load.test" % n)
    time.sleep(0.001)
"""


def counts(db):
    out = {}
    for table in ("connections", "dns_queries"):
        n, top = sql(db, "SELECT count(*), coalesce(max(id), 0) FROM %s" % table)[0]
        out[table] = (int(n), int(top))
    return out


def main():
    netscope = sys.argv[1]
    pcaps = sys.argv[2] if len(sys.argv) > 2 else None
    need_root_and_netns()
    if run(["sh", "-c", "command -v sqlite3"]).returncode != 0:
        print("skip: needs sqlite3")
        sys.exit(77)
    work = tmpdir()
    db = os.path.join(work, "events.db")
    with Namespaces(TAG) as nsx:
        srv = nsx.srv_ip
        nsx.spawn(nsx.srv, ["python3", "-c", CHURN_SERVER, srv])
        nsx.spawn(nsx.srv, ["python3", "-c", DNS_SERVER, srv])
        for port in (9000, 53):
            nsx.wait_port(nsx.srv, port)
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["-i", nsx.vcli, "--json-lines", "-p", "--refresh", "250", "--db", db],
                      os.path.join(work, "netscope.out"))
        wait_ready(nsx, nsx.cli)
        nsx.spawn(nsx.cli, ["python3", "-c", CHURN_CLIENT, srv])
        flood = nsx.spawn(nsx.cli, ["python3", "-c", DNS_FLOOD, srv], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE)
        time.sleep(5)
        before = counts(db)
        print("rows visible to a reader 5 s in: %r" % before)
        check(before["connections"][0] > 50 and before["dns_queries"][0] > 500,
              "heavy logging under way: %r" % before)
        # The marker is asked again every half second until netscope has published it (a
        # loaded machine may drop a capture packet); once its tick's JSON line is out, the
        # event log has it queued, and 3 s later it must be committed.
        deadline = time.time() + 90
        while b"marker.crash.test" not in open(ns.out_path, "rb").read():
            if time.time() > deadline:
                fail("netscope never published the marker query")
            flood.stdin.write(b"marker.crash.test\n")
            flood.stdin.flush()
            check(flood.stdout.readline().strip() == b"marker.crash.test", "the marker was asked")
            time.sleep(0.5)
        time.sleep(3)
        mid = counts(db)
        os.kill(ns.p.pid, signal.SIGKILL)
        ns.wait(20)
        print("rows visible just before the kill: %r" % mid)
        check(mid["connections"][0] > before["connections"][0] and
              mid["dns_queries"][0] > before["dns_queries"][0], "still logging at the kill")

    check(sql(db, "PRAGMA integrity_check") == [["ok"]], "integrity_check is ok after SIGKILL")
    after = counts(db)
    print("rows after the kill: %r" % after)
    for table in ("connections", "dns_queries"):
        n, top = before[table]
        kept = int(sql(db, "SELECT count(*) FROM %s WHERE id <= %d" % (table, top))[0][0])
        check(kept == n, "%s: all %d rows a reader saw well before the kill are there (%d)" %
              (table, n, kept))
        check(after[table][0] >= mid[table][0],
              "%s: nothing seen just before the kill is lost (%d >= %d)" %
              (table, after[table][0], mid[table][0]))
    marker = int(sql(db, "SELECT count(*) FROM dns_queries WHERE query = 'marker.crash.test'")[0][0])
    check(marker >= 1, "the marker query, published 3 s before the kill, was committed (%d)" %
          marker)

    if pcaps:
        cap = os.path.join(pcaps, "packetmancer", "captures_http.cap")
        if os.path.exists(cap):
            r = run([netscope, "--read", cap, "--speed", "0", "--raw", "--db", db])
            check(r.returncode == 0, "netscope reopens the killed database: %s" % r.stderr)
            check(counts(db)["dns_queries"][0] == after["dns_queries"][0] + 1,
                  "and appends to it")
            check(sql(db, "PRAGMA integrity_check") == [["ok"]], "still ok")
    print("PASS")


if __name__ == "__main__":
    main()
