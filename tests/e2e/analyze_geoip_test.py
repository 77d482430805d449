#!/usr/bin/python3
"""GeoIP/ASN in `netscope analyze`: both endpoints of every conversation in the JSON
report carry the country, ASN and organisation that mmdblookup (Debian mmdb-bin) finds
for the address in the same databases, private and reserved addresses are labelled as
such with no ASN; with one thread and with several; the flags work after and before the
subcommand's name; the text report shows the server's country and AS; without a database
public addresses are null; a database that cannot be opened is a usage error.

The databases are written for the test by MaxMind's writer (geoip_make_mmdb.pl), with a
value for every public address of the shared captures, so nothing passes by being empty
on both sides."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fail, run, tmpdir  # noqa
import geoip_replay_test as geo  # noqa  (capture_addresses, make_db, compare, is_public, label)

CAPTURES = ["zeek/wikipedia.pcap", "chrissanders/http_espn_fail.pcapng",
            "packetmancer/captures_http.cap", "zeek/tls_chrome-34-google.pcap",
            "chrissanders/http_ip4and6.pcapng"]


def analyze(netscope, args, env=None):
    r = run([netscope] + args, env=env)
    if r.returncode != 0:
        fail("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    doc = json.loads(r.stdout)
    if doc.get("schema") != "netscope.analyze/3":
        fail("schema is %r" % doc.get("schema"))
    return doc, r.stderr


def endpoints(doc):
    """{addr: (country, asn, asn_org)} over both ends of every conversation, failing when
    two endpoints with one address disagree."""
    seen = {}
    for c in doc["conversations"]:
        for side in ("client", "server"):
            e = c[side]
            v = (e["country"], e["asn"], e["asn_org"])
            if seen.setdefault(e["addr"], v) != v:
                fail("%s: %s has %r here and %r elsewhere" % (c["flow"], e["addr"], v,
                                                              seen[e["addr"]]))
    return seen


def main(work):
    netscope, pcaps = sys.argv[1], sys.argv[2]
    files = [os.path.join(pcaps, c) for c in CAPTURES if os.path.exists(os.path.join(pcaps, c))]
    check(len(files) >= 3, "%d captures with public addresses" % len(files))

    public = sorted({a for f in files for a in geo.capture_addresses(f) if geo.is_public(a)})
    countries, asns = [], []
    for i, a in enumerate(public):
        countries.append([a, a, {"country_code": ["NL", "JP", "BR", "US", "KE"][i % 5]}])
        asns.append([a, a, {"autonomous_system_number": 65000 + i,
                            "autonomous_system_organization": "Test Org %d" % i}])
    countries.append(["10.0.0.0", "10.255.255.255", {"country_code": "ZZ"}])  # still "private"
    country_db, asn_db = os.path.join(work, "country.mmdb"), os.path.join(work, "asn.mmdb")
    geo.make_db(country_db, {"ip_version": 6, "database_type": "test-country",
                             "types": {"country_code": "utf8_string"}, "records": countries})
    geo.make_db(asn_db, {"ip_version": 6, "database_type": "GeoLite2-ASN",
                         "types": {"autonomous_system_number": "uint32",
                                   "autonomous_system_organization": "utf8_string"},
                         "records": asns})
    dbs = ["--geoip", country_db, "--asn-db", asn_db]

    total, kinds = 0, set()
    for f in files:
        name = os.path.basename(f)
        for threads in ("1", "2"):
            doc, _ = analyze(netscope, ["analyze", f, "--json", "-", "--threads", threads] + dbs)
            got = endpoints(doc)
            total += geo.compare("%s --threads %s" % (name, threads), got, country_db, asn_db,
                                 True)
            kinds.update("public" if geo.is_public(a) else geo.label(a) for a in got)
    check(total >= 20 and "public" in kinds and "private" in kinds,
          "%d endpoint addresses agree with mmdblookup (%s)" % (total, ", ".join(sorted(kinds))))

    # Global options before the subcommand's name count too; the text report (stderr with
    # --json -) shows the largest conversation's server country and AS.
    f = files[0]
    doc, text = analyze(netscope, dbs + ["analyze", f, "--json", "-", "--no-color"])
    big = max(doc["conversations"],
              key=lambda c: c["c2s"]["bytes"] + c["s2c"]["bytes"])
    server = big["server"]
    want = "%s AS%d %s" % (server["country"], server["asn"], server["asn_org"]) \
        if server["asn"] is not None else server["country"]
    check(server["country"] is not None and want in text,
          "text report shows %r for the largest conversation's server" % want)
    check("WHERE (server" in text, "text report has the WHERE column")

    # Without any database: public addresses null, private and reserved labelled.
    empty = os.path.join(work, "empty")
    os.mkdir(empty)
    env = dict(os.environ, NETSCOPE_DATA_DIR=empty)
    doc, _ = analyze(netscope, ["analyze", files[2], "--json", "-"], env=env)
    got = endpoints(doc)
    ok = all(v == ((None, None, None) if geo.is_public(a) else (geo.label(a), None, None))
             for a, v in got.items())
    check(ok and len(got) >= 3, "without databases: public addresses null, private labelled")

    # An explicit database that cannot be opened: exit 2, naming the option and the file.
    r = run([netscope, "analyze", f, "--geoip", os.path.join(work, "missing.mmdb")])
    check(r.returncode == 2 and "--geoip" in r.stderr and "missing.mmdb" in r.stderr,
          "analyze --geoip with a missing file exits 2 naming it: " + r.stderr.strip())
    junk = os.path.join(work, "junk.mmdb")
    with open(junk, "w") as fh:
        fh.write("not a database\n")
    r = run([netscope, "analyze", f, "--asn-db", junk])
    check(r.returncode == 2 and "--asn-db" in r.stderr and "junk.mmdb" in r.stderr,
          "analyze --asn-db with a damaged file exits 2 naming it: " + r.stderr.strip())
    print("PASS")


if __name__ == "__main__":
    scratch = tmpdir()
    try:
        main(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
