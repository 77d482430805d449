#!/usr/bin/python3
"""The SQLite event log (--db) on real traffic between two namespaces, read back with the
sqlite3 CLI:

- three sequential curl runs against a python3 http.server that answers after 300 ms -> three connection rows with
  each curl's own pid, process "curl", its command line and user, a close reason, and the
  IP bytes each way that tcpdump saw on the server's side of the veth;
- a client asking a small DNS server (an A and an AAAA that exist, a name that does not,
  over UDP and TCP) and dig -> one dns_queries row per transaction with the query, type,
  rcode, answers, latency and the client's pid;
- the time columns: RFC 3339 text and integer microseconds that say the same instant;
- the README's example queries run and answer as they should ("every NXDOMAIN by
  process"); PRAGMA integrity_check is ok; the meta table holds the schema version.
"""
import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (SLOW_HTTP_SERVER, Capture, Namespaces, check, fail,  # noqa
                    need_root_and_netns, run, tmpdir)
from live_common import Netscope, ip_bytes_by_flow, wait_ready  # noqa
# svc.test has A and AAAA, other names are NXDOMAIN; the client asks svc.test A, AAAA and
# nx.test A over UDP, then svc.test A over TCP, holding each socket open a moment after.
from live_dpi_test import DNS_CLIENT, DNS_SERVER  # noqa

TAG = 55


def sql(db, query):
    """Rows of `query` from the sqlite3 CLI, as lists of strings ('' for NULL)."""
    r = run(["sqlite3", "-bail", "-separator", "\t", db, query])
    if r.returncode != 0:
        fail("sqlite3 %r failed: %s" % (query, r.stderr))
    return [line.split("\t") for line in r.stdout.splitlines()]


def us_of(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000000 + t.microsecond


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    for tool in ("sqlite3", "curl", "dig", "tcpdump", "tshark"):
        if run(["sh", "-c", "command -v " + tool]).returncode != 0:
            print("skip: needs " + tool)
            sys.exit(77)
    work = tmpdir()
    db = os.path.join(work, "events.db")
    web = os.path.join(work, "www")
    os.makedirs(web)
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<p>%s</p>\n" % ("hello " * 2000))

    with Namespaces(TAG) as nsx:
        srv = nsx.srv_ip
        # Each curl must be attributed to be logged with its pid: the server answers after
        # 300 ms, so a loaded machine cannot make curl exit before its socket is looked up.
        nsx.spawn(nsx.srv, ["python3", "-c", SLOW_HTTP_SERVER, srv, "8080", web])
        nsx.spawn(nsx.srv, ["python3", "-c", DNS_SERVER, srv])
        for port in (8080, 53):
            nsx.wait_port(nsx.srv, port)
        cap = Capture(nsx, nsx.srv, nsx.vsrv, os.path.join(work, "srv.pcap"))
        started_us = int(time.time() * 1e6)
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["-i", nsx.vcli, "--json-lines", "--refresh", "500", "--db", db],
                      os.path.join(work, "netscope.out"))
        wait_ready(nsx, nsx.cli)

        curls = []
        for i in range(3):
            p = nsx.spawn(nsx.cli, ["curl", "-s", "-o", "/dev/null",
                                    "http://%s:8080/index.html?run=%d" % (srv, i)])
            if p.wait(timeout=30) != 0:
                fail("curl %d failed" % i)
            curls.append(p.pid)
            time.sleep(0.5)
        client = nsx.spawn(nsx.cli, ["python3", "-c", DNS_CLIENT, srv])
        if client.wait(timeout=30) != 0:
            fail("the DNS client failed")
        # dig closes its UDP socket as soon as the answer is in: the row is logged, but its
        # process can only be known if the socket is still there when netscope asks.
        dig = nsx.spawn(nsx.cli, ["dig", "@" + srv, "dig-only.test", "A", "+tries=1", "+time=5"])
        if dig.wait(timeout=30) != 0:
            fail("dig failed")
        time.sleep(2)
        rc = ns.stop()
        stopped_us = int(time.time() * 1e6)
        check(rc == 0, "netscope exits 0 on SIGTERM (stderr: %s)" % ns.stderr().strip()[-500:])
        incomplete = cap.stop()
        if incomplete:
            print("note: " + incomplete)

    check(sql(db, "PRAGMA integrity_check") == [["ok"]], "integrity_check is ok")
    check(sql(db, "SELECT value FROM meta WHERE key='schema_version'") == [["2"]],
          "meta holds schema version 2")

    rows = sql(db, "SELECT pid, process, cmdline, user, local_port, bytes_up, bytes_down, "
                   "packets_up + packets_down, close_reason, first_seen, first_seen_us, "
                   "last_seen, last_seen_us, remote_addr, app, http_host "
                   "FROM connections WHERE remote_port = 8080 ORDER BY first_seen_us")
    check(len(rows) == 3, "three connection rows for the three curl runs (got %d: %r)" %
          (len(rows), rows))
    got_pids = [int(r[0]) if r[0] else None for r in rows]
    check(got_pids == curls, "each row has its curl's pid, in order: %r vs %r" % (got_pids, curls))
    truth = None if incomplete else ip_bytes_by_flow(cap.path)
    for i, r in enumerate(rows):
        (pid, process, cmdline, user, lport, up, down, packets, reason, fs, fs_us, ls, ls_us,
         raddr, app, host) = r
        check(process == "curl", "row %d: process curl (%r)" % (i, process))
        check("run=%d" % i in cmdline and cmdline.startswith("curl"),
              "row %d: the command line of that curl (%r)" % (i, cmdline))
        check(user == "root", "row %d: user root (%r)" % (i, user))
        check(raddr == srv, "row %d: remote address %s" % (i, raddr))
        check(app == "HTTP" and host == "%s:8080" % srv,
              "row %d: app HTTP, http_host %r" % (i, host))
        check(reason != "", "row %d: closed, with a close reason (%r)" % (i, reason))
        check(us_of(fs) == int(fs_us) and us_of(ls) == int(ls_us),
              "row %d: the text and microsecond times agree (%s %s, %s %s)" %
              (i, fs, fs_us, ls, ls_us))
        check(started_us <= int(fs_us) <= int(ls_us) <= stopped_us,
              "row %d: first and last seen fall inside the run" % i)
        if truth is not None:
            want = truth.get((6,) + tuple(sorted((int(lport), 8080))))
            check(want == int(up) + int(down),
                  "row %d: IP bytes up+down %s+%s equal tcpdump's %r" % (i, up, down, want))
        check(int(down) > 12000, "row %d: the page came down (%s bytes)" % (i, down))

    dns = sql(db, "SELECT query, type, rcode, answers, pid, process, server, latency_ms, "
                  "time, time_us FROM dns_queries WHERE server = '%s' ORDER BY time_us" % srv)
    got = [(r[0], r[1], r[2]) for r in dns]
    want = [("svc.test", "A", "NOERROR"), ("svc.test", "AAAA", "NOERROR"),
            ("nx.test", "A", "NXDOMAIN"), ("svc.test", "A", "NOERROR"),
            ("dig-only.test", "A", "NXDOMAIN")]
    check(got == want, "dns_queries rows, one per transaction: %r" % got)
    for r in dns[:4]:
        query, qtype, rcode, answers, pid, process, server, latency, t, t_us = r
        check(pid != "" and int(pid) == client.pid and process == "python3",
              "%s %s asked by the client, pid %d (row: %r %r)" % (query, qtype, client.pid,
                                                                  pid, process))
    for r in dns:
        query, qtype, rcode, answers, pid, process, server, latency, t, t_us = r
        check(latency != "" and float(latency) >= 0, "%s %s has a latency" % (query, qtype))
        check(us_of(t) == int(t_us), "%s %s: time text and microseconds agree" % (query, qtype))
        check(started_us <= int(t_us) <= stopped_us, "%s %s: inside the run" % (query, qtype))
    if dns[4][4] == "":
        print("note: dig's query is logged without its process (its socket closed at once)")
    else:
        check(int(dns[4][4]) == dig.pid and dns[4][5] == "dig", "dig's query: dig's pid")
    check(json.loads(dns[0][3]) == [srv], "the A answer is the server's address: %s" % dns[0][3])
    check(json.loads(dns[1][3]) == ["fd00::53"], "the AAAA answer: %s" % dns[1][3])
    check(json.loads(dns[2][3]) == [], "NXDOMAIN has no answers: %s" % dns[2][3])

    # README "Event database" examples.
    nx = sql(db, "SELECT process, pid, count(*) FROM dns_queries WHERE rcode = 'NXDOMAIN' "
                 "GROUP BY process, pid ORDER BY count(*) DESC")
    check(["python3", str(client.pid), "1"] in nx and sum(int(r[2]) for r in nx) == 2,
          "every NXDOMAIN by process: %r" % nx)
    talked = sql(db, "SELECT DISTINCT process FROM connections WHERE remote_addr = '%s' AND "
                     "remote_port = 8080 AND first_seen_us >= (strftime('%%s', 'now', '-1 day') "
                     "* 1000000)" % srv)
    check(talked == [["curl"]], "which processes talked to the server: %r" % talked)
    check(sql(db, "SELECT count(*) FROM alerts") == [["0"]], "no blacklist, no alerts")
    print("PASS")


if __name__ == "__main__":
    main()
