#!/usr/bin/python3
"""GeoIP/ASN decoration on replayed captures: every remote and connection record of
`--read FILE --json-lines` (and of `snapshot --read`) carries the country, ASN and
organisation that mmdblookup (Debian mmdb-bin) finds for its address in the same
databases; private and reserved addresses are labelled as such, with no ASN.

Databases: ones written for the test by MaxMind's writer (every public address of the
captures gets a value, so nothing can pass by being empty on both sides), then the ones
scripts/setup installed, when present. Without any database the run still works."""
import ipaddress
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, fail, run, tmpdir  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = ["zeek/wikipedia.pcap", "chrissanders/http_espn_fail.pcapng",
            "packetmancer/captures_http.cap", "chrissanders/http_ip4and6.pcapng",
            "zeek/ipv6-http-atomic-frag.pcap", "zeek/tls_chrome-34-google.pcap",
            "zeek/mixed-vlan-mpls.pcap"]
PRIVATE = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10")]


def capture_addresses(path):
    # ARP requests and replies are connections too (flow/arp.hpp): their addresses count.
    r = run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
             "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "arp.src.proto_ipv4",
             "-e", "arp.dst.proto_ipv4"])
    if r.returncode != 0:
        fail("tshark %s: %s" % (path, r.stderr))
    out = set()
    for field in r.stdout.replace("\t", "\n").replace(",", "\n").split():
        out.add(str(ipaddress.ip_address(field)))
    return out


def make_db(path, spec):
    r = run(["perl", os.path.join(HERE, "geoip_make_mmdb.pl"), path], input=json.dumps(spec))
    if r.returncode != 0:
        fail("geoip_make_mmdb.pl: " + r.stderr)


def oracle(db, addr, key):
    """What mmdblookup prints for key (None when nothing): a string's text, an integer."""
    r = run(["mmdblookup", "--file", db, "--ip", addr] + key.split())
    text = r.stdout.strip()
    if " <" not in text:
        return None
    value, kind = text.rsplit(" <", 1)
    if kind.startswith("utf8_string"):
        return value[1:-1]
    return int(value)


def is_public(addr):
    """Python's is_global, less multicast, which netscope labels "reserved" (RFC 5771)."""
    a = ipaddress.ip_address(addr)
    return a.is_global and not a.is_multicast


def label(addr):
    a = ipaddress.ip_address(addr)
    if any(a in n for n in PRIVATE if n.version == a.version):
        return "private"
    return "reserved"


def geo_by_address(docs):
    """{addr: (country, asn, asn_org)} from remote and connection records, failing when
    two records of one address disagree."""
    seen = {}

    def note(addr, rec, where):
        v = (rec["country"], rec["asn"], rec["asn_org"])
        if seen.setdefault(addr, v) != v:
            fail("%s: %s has %r here and %r elsewhere" % (where, addr, v, seen[addr]))

    for d in docs:
        for r in d.get("remotes", []):
            note(r["addr"], r, "remote")
        for c in d.get("connections", []):
            note(c["remote_addr"], c, "connection")
    return seen


def replay(netscope, path, extra, env=None):
    r = run([netscope, "--read", path, "--speed", "0", "--json-lines", "-n", "-p", "-c", "-a",
             "--show-localhost"] + extra, env=env)
    if r.returncode != 0:
        fail("%s %s: exit %d: %s" % (path, extra, r.returncode, r.stderr))
    return [json.loads(l) for l in r.stdout.splitlines()]


def compare(name, got, country_db, asn_db, require_values):
    checked = 0
    for addr, (country, asn, org) in sorted(got.items()):
        if is_public(addr):
            want = (oracle(country_db, addr, "country_code") if country_db else None,
                    oracle(asn_db, addr, "autonomous_system_number") if asn_db else None,
                    oracle(asn_db, addr, "autonomous_system_organization") if asn_db else None)
            if require_values and None in want:
                fail("%s: the test database has no entry for %s" % (name, addr))
        else:
            want = (label(addr), None, None)
        if (country, asn, org) != want:
            fail("%s: %s is %r, mmdblookup says %r" % (name, addr, (country, asn, org), want))
        checked += 1
    return checked


def main(work):
    netscope, pcaps = sys.argv[1], sys.argv[2]
    files = [os.path.join(pcaps, c) for c in CAPTURES if os.path.exists(os.path.join(pcaps, c))]
    check(len(files) >= 4, "%d captures with public addresses" % len(files))

    # Test databases: one value per public address of the captures; 10.0.0.0/8 is in
    # them too, and must still come out "private".
    public = sorted({a for f in files for a in capture_addresses(f)
                     if is_public(a)})
    countries, asns = [], []
    for i, a in enumerate(public):
        countries.append([a, a, {"country_code": ["DE", "JP", "BR", "US", "ZA"][i % 5]}])
        asns.append([a, a, {"autonomous_system_number": 64500 + i,
                            "autonomous_system_organization": 'Org %d "quoted", Ltd.' % i}])
    countries.append(["10.0.0.0", "10.255.255.255", {"country_code": "ZZ"}])
    country_db, asn_db = os.path.join(work, "country.mmdb"), os.path.join(work, "asn.mmdb")
    make_db(country_db, {"ip_version": 6, "database_type": "test-country",
                         "types": {"country_code": "utf8_string"}, "records": countries})
    make_db(asn_db, {"ip_version": 6, "database_type": "GeoLite2-ASN",
                     "types": {"autonomous_system_number": "uint32",
                               "autonomous_system_organization": "utf8_string"},
                     "records": asns})

    total = 0
    kinds = set()
    for f in files:
        got = geo_by_address(replay(netscope, f, ["--geoip", country_db, "--asn-db", asn_db]))
        total += compare(os.path.basename(f), got, country_db, asn_db, True)
        kinds.update("public" if is_public(a) else label(a) for a in got)
    check(total >= 20 and "public" in kinds and "private" in kinds,
          "%d addresses agree with mmdblookup on the test databases (%s)" %
          (total, ", ".join(sorted(kinds))))

    # The whole-run document of `snapshot --read` is decorated too.
    out = os.path.join(work, "snap.json")
    r = run([netscope, "snapshot", "--read", files[0], "--speed", "0", "-n", "--output", out,
             "--geoip", country_db, "--asn-db", asn_db])
    check(r.returncode == 0, "snapshot --read exits 0: " + r.stderr)
    with open(out) as fh:
        doc = json.load(fh)
    n = compare("snapshot", geo_by_address([doc]), country_db, asn_db, True)
    check(n >= 10, "snapshot --read: %d addresses agree with mmdblookup" % n)

    # The databases scripts/setup installs, through the default paths.
    data = os.environ.get("NETSCOPE_DATA_DIR") or os.path.join(HERE, "..", "..", "data")
    real_country, real_asn = os.path.join(data, "country.mmdb"), os.path.join(data, "asn.mmdb")
    if os.path.exists(real_country) and os.path.exists(real_asn):
        total = 0
        known = 0
        for f in files:
            got = geo_by_address(replay(netscope, f, []))
            total += compare(os.path.basename(f), got, real_country, real_asn, False)
            known += sum(1 for v in got.values() if v[1] is not None)
        check(total >= 20 and known >= 10,
              "%d addresses (%d with an ASN) agree with mmdblookup on the installed databases"
              % (total, known))
    else:
        print("note: %s not installed (scripts/setup); skipped that part" % data)

    # No database at all: still runs; public addresses unknown (null), private labelled.
    empty = os.path.join(work, "empty")
    os.mkdir(empty)
    env = dict(os.environ, NETSCOPE_DATA_DIR=empty)
    got = geo_by_address(replay(netscope, files[2], [], env=env))
    ok = all(v == ((None, None, None) if is_public(a)
                   else (label(a), None, None)) for a, v in got.items())
    check(ok and len(got) >= 3, "without databases: public addresses null, private labelled")

    # An explicit database that cannot be opened is a usage error naming the option.
    r = run([netscope, "--read", files[0], "--speed", "0", "--raw", "--geoip",
             os.path.join(work, "missing.mmdb")])
    check(r.returncode == 2 and "--geoip" in r.stderr and "missing.mmdb" in r.stderr,
          "--geoip with a missing file exits 2 naming it: " + r.stderr.strip())
    junk = os.path.join(work, "junk.mmdb")
    with open(junk, "w") as fh:
        fh.write("not a database\n")
    r = run([netscope, "--read", files[0], "--speed", "0", "--raw", "--asn-db", junk])
    check(r.returncode == 2 and "--asn-db" in r.stderr and "junk.mmdb" in r.stderr,
          "--asn-db with a damaged file exits 2 naming it: " + r.stderr.strip())
    print("PASS")


if __name__ == "__main__":
    scratch = tmpdir()
    try:
        main(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
