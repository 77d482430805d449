#!/usr/bin/python3
"""The threat blacklist (--blacklist) on real traffic between two namespaces, with the
event log (--db, read back with the sqlite3 CLI) and the --json-lines ticks as witnesses:

- two curl runs to a blacklisted address of the server's namespace -> one alert each
  (kind address); curl to the server's other address -> none;
- openssl s_client with a blacklisted SNI (a subdomain of the listed domain) -> one alert
  (kind domain); with another SNI -> none;
- two dig queries for subdomains of a blacklisted domain -> one alert per query; the DNS
  flow itself (to an address not listed) -> none;
- a bad line in the list is reported as FILE:LINE and the other lines still load;
- SIGHUP reloads the list: a domain added to the file alerts after the signal, and
  netscope keeps running.
Every alert appears exactly once in the alerts table, however many ticks the connection
lives through, and the JSON records carry "alert": the entry, or null.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Namespaces, check, fail, need_root_and_netns, run, tmpdir  # noqa
from live_common import ATTRIBUTION_CAPS, Netscope, settled_caps, wait_ready  # noqa
from live_dpi_test import DNS_SERVER  # noqa
from db_log_test import sql  # noqa

TAG = 57


def s_client(nsx, addr, name):
    p = nsx.spawn(nsx.cli, ["openssl", "s_client", "-connect", addr + ":4433", "-servername",
                            name], stdin=subprocess.PIPE)
    p.communicate(input=b"", timeout=30)


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    for tool in ("sqlite3", "curl", "dig", "openssl"):
        if run(["sh", "-c", "command -v " + tool]).returncode != 0:
            print("skip: needs " + tool)
            sys.exit(77)
    work = tmpdir()
    db = os.path.join(work, "events.db")
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    r = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
             "-out", cert, "-days", "1", "-subj", "/CN=test"])
    check(r.returncode == 0, "test certificate made")

    with Namespaces(TAG) as nsx:
        srv = nsx.srv_ip
        bad_addr = srv.rsplit(".", 1)[0] + ".3"
        nsx.sh(nsx.srv, ["ip", "addr", "add", bad_addr + "/24", "dev", nsx.vsrv])
        listed = os.path.join(work, "blacklist.txt")
        with open(listed, "w") as f:
            f.write("# e2e threat list\n"
                    "%s   # the server's second address\n"
                    "evil-sni.example.test\n"
                    "evil-dns.test\n"
                    "this is not an entry\n"
                    "192.0.2.0/24\n" % bad_addr)
        nsx.spawn(nsx.srv, ["python3", "-m", "http.server", "8080", "--directory", work])
        nsx.spawn(nsx.srv, ["openssl", "s_server", "-accept", "4433", "-cert", cert, "-key", key,
                            "-www"])
        nsx.spawn(nsx.srv, ["python3", "-c", DNS_SERVER, srv])
        for port in (8080, 4433, 53):
            nsx.wait_port(nsx.srv, port)

        ticks_path = os.path.join(work, "ticks.jsonl")
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["-i", nsx.vcli, "--json-lines", "--refresh", "500", "--db", db,
                       "--blacklist", listed], ticks_path)
        wait_ready(nsx, nsx.cli)
        # The reloader's and the event log's threads start before the monitor's drop: they
        # drop their own, so that no thread keeps more than attribution needs.
        caps = settled_caps(ns.p.pid, ATTRIBUTION_CAPS)
        check(caps == ATTRIBUTION_CAPS, "no thread has more than the capture's and "
              "attribution's capabilities (effective, all threads: %s)" % sorted(caps))

        for i in range(2):
            check(nsx.spawn(nsx.cli, ["curl", "-s", "-o", "/dev/null",
                                      "http://%s:8080/" % bad_addr]).wait(timeout=30) == 0,
                  "curl %d to the listed address" % i)
        check(nsx.spawn(nsx.cli, ["curl", "-s", "-o", "/dev/null",
                                  "http://%s:8080/" % srv]).wait(timeout=30) == 0,
              "curl to the unlisted address")
        s_client(nsx, srv, "www.evil-sni.example.test")
        s_client(nsx, srv, "good.example.test")
        for name in ("a.evil-dns.test", "b.evil-dns.test", "fine.test"):
            nsx.spawn(nsx.cli, ["dig", "@" + srv, name, "A", "+tries=1", "+time=5"]).wait(
                timeout=30)
        time.sleep(1.5)

        # Reload: a new domain, and SIGHUP.
        with open(listed, "a") as f:
            f.write("late.example.test\n")
        os.kill(ns.p.pid, signal.SIGHUP)
        deadline = time.time() + 10
        while "SIGHUP: blacklist" not in ns.stderr() and time.time() < deadline:
            time.sleep(0.1)
        check("SIGHUP: blacklist: 5 entries from 1 file (1 bad line skipped)" in ns.stderr(),
              "SIGHUP reloaded the list: %r" % ns.stderr()[-600:])
        check(ns.p.poll() is None, "netscope still runs after SIGHUP")
        s_client(nsx, srv, "late.example.test")
        time.sleep(2)
        rc = ns.stop()
        check(rc == 0, "netscope exits 0 (stderr: %s)" % ns.stderr().strip()[-500:])

    err = ns.stderr()
    check("%s:5: \"this is not an entry\": one address, CIDR or domain per line" % listed in err,
          "the bad line is reported with its file and line: %r" % err[:600])
    check("blacklist: 4 entries from 1 file (1 bad line skipped)" in err,
          "the other lines loaded")

    alerts = sql(db, "SELECT kind, subject, entry, severity, connection_id, dns_query_id "
                     "FROM alerts ORDER BY id")
    by_kind = {}
    for a in alerts:
        by_kind.setdefault((a[0], a[2]), []).append(a)
    addr = by_kind.get(("address", bad_addr), [])
    check(len(addr) == 2 and len({a[4] for a in addr}) == 2 and all(a[1] == bad_addr for a in addr),
          "one alert per connection to the listed address, two connections: %r" % addr)
    sni = by_kind.get(("domain", "evil-sni.example.test"), [])
    check(len(sni) == 1 and sni[0][1] == "www.evil-sni.example.test" and sni[0][4] != "",
          "one alert for the blacklisted SNI: %r" % sni)
    dns = by_kind.get(("domain", "evil-dns.test"), [])
    check(sorted(a[1] for a in dns) == ["a.evil-dns.test", "b.evil-dns.test"] and
          all(a[5] != "" for a in dns), "one alert per blacklisted DNS query: %r" % dns)
    late = by_kind.get(("domain", "late.example.test"), [])
    check(len(late) == 1, "the domain added before SIGHUP alerts once: %r" % late)
    check(len(alerts) == 6, "six alerts in all, no duplicates: %r" % alerts)
    check(all(a[3] == "HIGH" for a in alerts), "severity HIGH")
    flagged = sql(db, "SELECT remote_addr, sni, alert FROM connections WHERE alert IS NOT NULL "
                      "ORDER BY id")
    check(len(flagged) == 4, "four connection rows carry their alert: %r" % flagged)
    check(sql(db, "SELECT query FROM dns_queries WHERE alert IS NOT NULL ORDER BY id") ==
          [["a.evil-dns.test"], ["b.evil-dns.test"]], "the two DNS rows carry their alert")

    # The JSON ticks mark the same records, and only those.
    conns, events = {}, []
    with open(ticks_path) as f:
        for line in f:
            tick = json.loads(line)
            for c in tick.get("connections", []):
                k = (c["proto"], c["local_port"], c["remote_addr"], c["remote_port"])
                if c.get("alert") is not None or k not in conns:
                    conns[k] = c.get("alert")
                check("alert" in c, "every connection record has the alert key")
            events += tick.get("dns", [])
    marked = sorted(v for v in conns.values() if v is not None)
    check(marked == sorted([bad_addr, bad_addr, "evil-sni.example.test", "late.example.test"]),
          "JSON connection records marked: %r" % marked)
    check(sorted(e["alert"] for e in events if e["alert"] is not None) ==
          ["evil-dns.test", "evil-dns.test"] and
          all(e["alert"] is None for e in events if e["query"] == "fine.test"),
          "JSON DNS events marked once each: %r" % [(e["query"], e["alert"]) for e in events])
    print("PASS")


if __name__ == "__main__":
    main()
