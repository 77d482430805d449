#!/usr/bin/python3
"""--db on files it must refuse, and on a replay (no root needed):

- a database with an older netscope schema (meta.schema_version 0), one with a newer
  one, an SQLite database of another program and a text file are each refused with exit
  code 2 and a message that names --db, the file and the reason; each file is left byte
  for byte as it was, with no -wal or -shm beside it;
- --read of a capture with --db logs one connections row per TCP/UDP conversation
  tshark finds, and one dns_queries row per DNS response tshark finds, with the same
  names; a --blacklist entry marks the matching row and raises one alert.
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fail, run, tmpdir  # noqa
from db_log_test import sql  # noqa


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def refused(netscope, cap, path, reason):
    before = digest(path)
    r = run([netscope, "--read", cap, "--speed", "0", "--raw", "--db", path])
    check(r.returncode == 2, "%s: exit code 2 (got %d)" % (os.path.basename(path), r.returncode))
    check(("--db %s: " % path) in r.stderr and reason in r.stderr and
          "left as it is" in r.stderr,
          "%s: the message names the file and says %r: %r" % (os.path.basename(path), reason,
                                                              r.stderr.strip()))
    check(digest(path) == before, "%s: unchanged" % os.path.basename(path))
    check(not os.path.exists(path + "-wal") and not os.path.exists(path + "-shm"),
          "%s: no WAL or shm file left beside it" % os.path.basename(path))


def main():
    netscope, pcaps = sys.argv[1], sys.argv[2]
    for tool in ("sqlite3", "tshark"):
        if run(["sh", "-c", "command -v " + tool]).returncode != 0:
            print("skip: needs " + tool)
            sys.exit(77)
    cap = os.path.join(pcaps, "packetmancer", "captures_http.cap")
    if not os.path.exists(cap):
        fail("missing capture " + cap)
    work = tmpdir()

    older = os.path.join(work, "older.db")
    r = run(["sqlite3", older,
             "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
             "INSERT INTO meta VALUES ('schema_version', '0');"
             "CREATE TABLE connections (id INTEGER PRIMARY KEY, remote TEXT, bytes INTEGER);"
             "INSERT INTO connections (remote, bytes) VALUES ('192.0.2.1', 1234);"])
    check(r.returncode == 0, "older-schema database made")
    refused(netscope, cap, older, "schema version 0 is older than any this netscope can migrate")
    check(sql(older, "SELECT remote, bytes FROM connections") == [["192.0.2.1", "1234"]],
          "the older database still holds its row")

    newer = os.path.join(work, "newer.db")
    run(["sqlite3", newer, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                           "INSERT INTO meta VALUES ('schema_version', '9');"])
    refused(netscope, cap, newer, "schema version 9 is newer than this netscope writes (2)")

    foreign = os.path.join(work, "foreign.db")
    run(["sqlite3", foreign, "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('hi');"])
    refused(netscope, cap, foreign, "not a netscope event database")

    text = os.path.join(work, "text.db")
    with open(text, "w") as f:
        f.write("not a database at all\n" * 300)
    refused(netscope, cap, text, "not an SQLite database")

    # A replay, against tshark.
    db = os.path.join(work, "replay.db")
    listed = os.path.join(work, "list.txt")
    with open(listed, "w") as f:
        f.write("googlesyndication.com\n")
    r = run([netscope, "--read", cap, "--speed", "0", "--raw", "--db", db, "--blacklist", listed])
    check(r.returncode == 0, "replay with --db exits 0: %s" % r.stderr)
    t = run(["tshark", "-n", "-r", cap, "-q", "-z", "conv,tcp", "-z", "conv,udp"])
    convs = [l for l in t.stdout.splitlines() if "<->" in l]
    rows = sql(db, "SELECT count(*) FROM connections")[0][0]
    check(int(rows) == len(convs), "one row per conversation: %s rows, tshark %d" %
          (rows, len(convs)))
    t = run(["tshark", "-n", "-r", cap, "-Y", "dns.flags.response == 1", "-T", "fields", "-e",
             "dns.qry.name"])
    names = sorted(l for l in t.stdout.splitlines() if l)
    got = sorted(r[0] for r in sql(db, "SELECT query FROM dns_queries"))
    check(got == names, "one dns_queries row per DNS response: %r vs tshark %r" % (got, names))
    host = sql(db, "SELECT http_host, alert FROM connections WHERE alert IS NOT NULL")
    check(host == [["pagead2.googlesyndication.com", "googlesyndication.com"]],
          "the HTTP Host under the listed domain is marked: %r" % host)
    alerts = sql(db, "SELECT kind, subject FROM alerts ORDER BY id")
    check(sorted(alerts) == [["domain", "pagead2.googlesyndication.com"]] * 2,
          "one alert for the connection and one for the DNS query: %r" % alerts)
    print("PASS")


if __name__ == "__main__":
    main()
