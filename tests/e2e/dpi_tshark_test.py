#!/usr/bin/python3
"""Deep inspection through the whole binary, checked against tshark on shared captures.

Each capture is run through `netscope --read FILE --speed 0 --json-lines -n` (the live
engine) and `netscope analyze FILE --json -`; the per-connection DPI fields of both must
equal what tshark dissects on the same packets:

  sni, alpn, ja3   tls.handshake.extensions_server_name / _alpn_str / ja3 (first ClientHello)
  tls_version      the ServerHello's supported_version, else its version
  http_*           http.request.method / .uri / http.host (first request),
                   http.response.code (first response)
  ssh_client/server  ssh.protocol of each side
  quic_version     quic.version
  dns events       per response: dns.qry.name, dns.flags.rcode, dns.a / dns.aaaa / dns.cname,
                   dns.time (latency_ms)

Then: --no-dpi leaves every DPI key null and no DNS events, and without -n the names
learnt from DNS answers name the remote hosts.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import analyze_json, check, fail, run  # noqa

CAPTURES = [
    "zeek/tls_chrome-34-google.pcap",
    "zeek/tls_certificate-with-sct.pcap",
    "zeek/tls_tls12-decryption.pcap",
    "zeek/tls_chrome-1250-tls-x25519-kyber.pcap",
    "packetmancer/captures_http.cap",
    "chrissanders/http_google.pcapng",
    "chrissanders/http_ip4and6.pcapng",
    "zeek/wikipedia.pcap",
    "chrissanders/dns_lab.pcapng",
    "chrissanders/dns_tcp.pcapng",
    "chrissanders/dns_query_nonexistent.pcapng",
    "chrissanders/stranded_clientside.pcapng",
    "zeek/dns_long-connection.pcap",
    "zeek/ssh_single-conn.pcap",
    "zeek/ssh_ssh-on-port-80.pcap",  # tshark is told (DECODE_AS); we find it by its banner
    "zeek/quic_chromium-115.0.5790.110-api-cirrus-com.pcap",
    "zeek/quic_quicv2-http3-443.pcap",
]

FIELDS = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
          "tcp.dstport", "udp.srcport", "udp.dstport", "tls.handshake.type",
          "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
          "tls.handshake.ja3", "tls.handshake.extensions.supported_version",
          "tls.handshake.version", "http.request.method", "http.request.uri", "http.host",
          "http.response.code", "ssh.protocol", "quic.version", "dns.flags.response",
          "dns.qry.name", "dns.flags.rcode", "dns.count.answers", "dns.resp.type", "dns.a",
          "dns.aaaa", "dns.cname", "dns.time"]

TLS_VERSIONS = {"0x0304": "TLS 1.3", "0x0303": "TLS 1.2", "0x0302": "TLS 1.1",
                "0x0301": "TLS 1.0", "0x0300": "SSL 3.0"}
# tshark picks dissectors by port; our recognisers do not need the hint.
DECODE_AS = {"zeek/ssh_ssh-on-port-80.pcap": ["-d", "tcp.port==80,ssh"]}
QUIC_VERSIONS = {"0x00000001": "v1", "0x6b3343cf": "v2"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
DPI_KEYS = ["app", "sni", "alpn", "tls_version", "ja3", "ja4", "http_host", "http_method",
            "http_path", "http_status", "ssh_client", "ssh_server", "quic_version"]


def flow_key(proto, a, pa, b, pb):
    x, y = (a, int(pa)), (b, int(pb))
    return (proto,) + tuple(sorted([x, y]))


def first(value):
    return value.split(",")[0] if value else ""


def answer_section(v):
    """The A, AAAA and CNAME records of the answer section: tshark's dns.a/aaaa/cname list
    the records of every section, in order, and dns.resp.type gives each record's type."""
    values = {"1": v["dns.a"].split(","), "28": v["dns.aaaa"].split(","),
              "5": v["dns.cname"].split(",")}
    used = {"1": 0, "28": 0, "5": 0}
    out = []
    count = int(first(v["dns.count.answers"]) or 0)
    for rtype in v["dns.resp.type"].split(",")[:count] if v["dns.resp.type"] else []:
        if rtype in values:
            out.append(values[rtype][used[rtype]])
            used[rtype] += 1
    return sorted(out)


def tshark_expect(path, extra):
    """{flow key: {field: expected}} and the list of DNS responses, from tshark."""
    args = ["tshark", "-n", "-r", path, "-o", "tcp.analyze_sequence_numbers:TRUE", *extra,
            "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2 || http.request || "
                  "http.response || ssh.protocol || quic || dns.flags.response == 1",
            "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        args += ["-e", f]
    r = run(args)
    if r.returncode != 0:
        fail("tshark on %s: %s" % (path, r.stderr))
    flows, dns = {}, []
    for line in r.stdout.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src = first(v["ip.src"]) or first(v["ipv6.src"])
        dst = first(v["ip.dst"]) or first(v["ipv6.dst"])
        tcp = bool(v["tcp.srcport"])
        sport = first(v["tcp.srcport"] or v["udp.srcport"])
        dport = first(v["tcp.dstport"] or v["udp.dstport"])
        if not (src and dst and sport and dport):
            continue
        key = flow_key("tcp" if tcp else "udp", src, sport, dst, dport)
        want = flows.setdefault(key, {})
        types = v["tls.handshake.type"].split(",")
        # The first ClientHello, over TCP or in a QUIC Initial (tshark decrypts v1 ones).
        if "1" in types and "sni" not in want:
            want["sni"] = first(v["tls.handshake.extensions_server_name"]) or None
            want["alpn"] = v["tls.handshake.extensions_alpn_str"] or None
            want["ja3"] = first(v["tls.handshake.ja3"]) or None
        if "2" in types and "tls_version" not in want and not v["quic.version"]:
            sv = first(v["tls.handshake.extensions.supported_version"])
            hv = v["tls.handshake.version"].split(",")[types.index("2")] \
                if len(v["tls.handshake.version"].split(",")) > types.index("2") else ""
            want["tls_version"] = TLS_VERSIONS.get(sv or hv)
        if v["http.request.method"] and "http_method" not in want:
            want["http_method"] = first(v["http.request.method"])
            want["http_path"] = first(v["http.request.uri"])
            want["http_host"] = first(v["http.host"]) or None
        if v["http.response.code"] and "http_status" not in want:
            want["http_status"] = int(first(v["http.response.code"]))
        if v["ssh.protocol"]:
            # The side that sent the lower port is the server here (22 or 80).
            side = "ssh_server" if int(sport) < int(dport) else "ssh_client"
            want.setdefault(side, v["ssh.protocol"].strip())
        if v["quic.version"] and "quic_version" not in want:
            version = first(v["quic.version"])
            if version in QUIC_VERSIONS:
                want["quic_version"] = QUIC_VERSIONS[version]
        if v["dns.flags.response"].startswith("1") and v["dns.qry.name"] and \
                "53" in (sport, dport):
            dns.append({"query": first(v["dns.qry.name"]),
                        "rcode": RCODES.get(int(first(v["dns.flags.rcode"]) or 0)),
                        "answers": answer_section(v),
                        "latency_ms": float(v["dns.time"]) * 1000 if v["dns.time"] else None})
    return flows, dns


def live_run(netscope, path, *extra):
    """Connections (last record of each flow) and DNS events of a --read run."""
    r = run([netscope, "--read", path, "--speed", "0", "--json-lines", "--show-localhost",
             *extra])
    if r.returncode != 0:
        fail("%s: --read exit %d: %s" % (path, r.returncode, r.stderr))
    conns, dns = {}, []
    for line in r.stdout.splitlines():
        tick = json.loads(line)
        for c in tick["connections"]:
            key = flow_key(c["proto"], c["local_addr"], c["local_port"] or 0,
                           c["remote_addr"], c["remote_port"] or 0)
            conns[key] = c
        dns += tick["dns"]
    return conns, dns, tick


def analyze_run(netscope, path, *extra):
    rc, doc, err = analyze_json(netscope, path, *extra)
    if rc != 0 or doc is None:
        fail("%s: analyze exit %d: %s" % (path, rc, err))
    convs = {}
    for c in doc["conversations"]:
        ported = c["client"]["port"] is not None
        key = flow_key(c["proto"], c["client"]["addr"], c["client"]["port"] if ported else 0,
                       c["server"]["addr"], c["server"]["port"] if ported else 0)
        convs.setdefault(key, c)  # the first conversation of a reused 5-tuple
    return convs, doc


def compare_flows(name, source, want_flows, got):
    agree = 0
    for key, want in want_flows.items():
        if not want:
            continue
        c = got.get(key)
        if c is None:
            fail("%s (%s): no record for %s" % (name, source, key))
        for field, value in want.items():
            if c.get(field) != value:
                fail("%s (%s): %s %s = %r, tshark says %r" % (name, source, key, field,
                                                             c.get(field), value))
            agree += 1
    return agree


def compare_dns(name, want, got):
    answered = sorted((d["query"], d["rcode"], tuple(sorted(d["answers"])))
                      for d in got if d["rcode"] is not None)
    expected = sorted((d["query"], d["rcode"], tuple(d["answers"])) for d in want)
    if answered != expected:
        fail("%s: DNS events %r, tshark %r" % (name, answered, expected))
    lat_got = sorted(round(d["latency_ms"], 3) for d in got
                     if d["rcode"] is not None and d["latency_ms"] is not None)
    lat_want = sorted(round(d["latency_ms"], 3) for d in want if d["latency_ms"] is not None)
    if len(lat_got) != len(lat_want) or any(abs(a - b) > 0.002 for a, b in
                                            zip(lat_got, lat_want)):
        fail("%s: DNS latencies %r, tshark dns.time %r" % (name, lat_got, lat_want))
    return len(expected)


def main():
    netscope, pcaps = sys.argv[1], sys.argv[2]
    total_fields = total_dns = 0
    for name in CAPTURES:
        path = os.path.join(pcaps, name)
        if not os.path.exists(path):
            fail("missing shared capture " + name)
        want_flows, want_dns = tshark_expect(path, DECODE_AS.get(name, []))
        conns, dns, _ = live_run(netscope, path, "-n")
        n = compare_flows(name, "--read", want_flows, conns)
        convs, doc = analyze_run(netscope, path)
        m = compare_flows(name, "analyze", want_flows, convs)
        d = compare_dns(name, want_dns, dns)
        check(doc["dns"]["transactions"] == len(dns),
              "%s: analyze counts %d DNS transactions, --read listed %d" % (
                  name, doc["dns"]["transactions"], len(dns)))
        print("ok: %s: %d fields (--read), %d (analyze), %d DNS responses agree with tshark"
              % (name, n, m, d))
        total_fields += n
        total_dns += d
    check(total_fields >= 40 and total_dns >= 20,
          "%d DPI fields and %d DNS responses checked in all" % (total_fields, total_dns))

    # DPI states and the service name on the live records.
    conns, _, _ = live_run(netscope, os.path.join(pcaps, "zeek/quic_quicv2-http3-443.pcap"), "-n")
    quic = [c for c in conns.values() if c["app"] == "QUIC"]
    check(quic and all(c["state"].startswith("QUIC_") for c in quic),
          "QUIC connections show QUIC states: %s" % [c["state"] for c in quic])
    check(all(c["service"] == "https" for c in quic), "UDP 443 is named https")

    # --no-dpi: every DPI key null, no DNS events, in both commands.
    http = os.path.join(pcaps, "packetmancer/captures_http.cap")
    conns, dns, last = live_run(netscope, http, "-n", "--no-dpi")
    check(all(c[k] is None for c in conns.values() for k in DPI_KEYS) and not dns
          and last["totals"]["dns_events"] == 0, "--read --no-dpi: no DPI fields, no DNS events")
    convs, doc = analyze_run(netscope, http, "--no-dpi")
    check(all(c[k] is None for c in convs.values() for k in DPI_KEYS)
          and doc["dns"]["transactions"] == 0 and doc["totals"]["dpi"]["sessions"] == 0,
          "analyze --no-dpi: no DPI fields, no DNS section")

    # Names from DNS answers: pagead2.googlesyndication.com resolved to 216.239.59.99,
    # which the capture then talks to; the name asked for beats reverse DNS.
    conns, _, last = live_run(netscope, http)
    named = [c for c in conns.values() if c["remote_addr"] == "216.239.59.99"]
    check(named and named[0]["remote_host"] == "pagead2.googlesyndication.com",
          "the remote host is the name the DNS answer was for: %r"
          % (named[0]["remote_host"] if named else None))
    print("PASS")


if __name__ == "__main__":
    main()
