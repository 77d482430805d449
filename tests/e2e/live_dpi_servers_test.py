#!/usr/bin/python3
"""Live deep inspection against the real Debian servers, field by field against tshark.

The server namespace runs nginx (nginx-light), dnsmasq, sshd (openssh-server) and
`openssl s_server`; the client namespace runs curl --http1.1, dig, the ssh client and
`openssl s_client`, with `netscope snapshot` on the client's veth and tcpdump on the same
interface. tshark's dissection of that capture is the oracle for every field:

  http_host, http_method,        http.host, http.request.method, http.request.uri,
  http_path, http_status         http.response.code (GET 200, GET 404, POST 405)
  DNS events                     dns.qry.name, dns.qry.type, dns.flags.rcode, the answer
                                 section's dns.a / dns.aaaa / dns.cname, dns.time
                                 (A, AAAA, CNAME, NXDOMAIN, REFUSED, and `dig +tcp`)
  ssh_client, ssh_server         ssh.protocol of each side
  state of an open SSH session   the message codes tshark sees in the clear: NEWKEYS
                                 from both sides -> SSH_AUTHENTICATION (heuristic, since
                                 the login never completes), KEXINIT -> SSH_KEYEXCHANGE
  sni, alpn, ja3, tls_version    the ClientHello's and ServerHello's tls.handshake.*, one
                                 ClientHello padded past 1500 bytes (several segments)
and every connection and DNS event must carry the pid of the client that made it. Then
`netscope analyze` of the same capture must give each conversation the same fields (and
the User-Agent, tshark's http.user_agent), the held session's app_state, and tshark's
count of DNS transactions per rcode.

Each client but the held ssh session runs while its server is stopped (SIGSTOP) until
half a second after its request arrived (held_client): between namespaces on one host a
dig or curl is over within a millisecond, sooner than any /proc lookup can find its
socket, and this test is about the fields, not that race.
"""
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (Capture, Namespaces, analyze_json, capture_complete_run, check,  # noqa
                    fail, need_root_and_netns, run, tmpdir)
from live_common import Netscope, connections, load_snapshot, wait_ready  # noqa

TAG = 73
HTTP_PORT, SSH_PORT, TLS_PORT = 8080, 2222, 4433
HTTP_HOST = "web.example.test"

SERVERS = {"nginx": "/usr/sbin/nginx", "dnsmasq": "/usr/sbin/dnsmasq",
           "sshd": "/usr/sbin/sshd"}
CLIENTS = ["curl", "dig", "ssh", "ssh-keygen", "openssl", "tcpdump", "tshark"]

# (method, path, extra curl arguments): nginx serves the first, has no second, and
# refuses a POST to a static file (405).
HTTP_REQUESTS = [("GET", "/site/index.html?run=1", []),
                 ("GET", "/site/missing.html", []),
                 ("POST", "/site/form.html", ["--data", "a=1"])]

# (name, qtype, extra dig arguments). dnsmasq: --host-record names, a --cname, the
# --local domain answers NXDOMAIN for other names, and with no upstream it refuses the rest.
DNS_QUERIES = [("both.dns.test", "A", []),
               ("both.dns.test", "AAAA", []),
               ("alias.dns.test", "A", []),
               ("nx.dns.test", "A", []),
               ("outside.example", "A", []),
               ("tcp.dns.test", "A", ["+tcp"])]

QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
          33: "SRV", 65: "HTTPS"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TLS_VERSIONS = {"0x0304": "TLS 1.3", "0x0303": "TLS 1.2"}
# IANA names of the suites a ServerHello here may choose (tshark gives the number).
TLS_CIPHERS = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
               0x1303: "TLS_CHACHA20_POLY1305_SHA256",
               0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
               0xc030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
PRIVSEP_DIR = "/run/sshd"
made_privsep_dir = [False]
SSH_STATES = ("SSH_BANNER", "SSH_KEYEXCHANGE", "SSH_AUTHENTICATION", "SSH_ESTABLISHED")

FIELDS = ["tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "http.request.method", "http.host", "http.request.uri", "http.response.code",
          "http.user_agent",
          "dns.flags.response", "dns.id", "dns.qry.name", "dns.qry.type", "dns.flags.rcode",
          "dns.count.answers", "dns.resp.type", "dns.a", "dns.aaaa", "dns.cname", "dns.time",
          "ssh.protocol", "ssh.message_code",
          "tls.handshake.type", "tls.handshake.length", "tls.handshake.extensions_server_name",
          "tls.handshake.extensions_alpn_str", "tls.handshake.ja3",
          "tls.handshake.extensions.supported_version", "tls.handshake.version",
          "tls.handshake.ciphersuite"]

# The askpass program of the ssh session kept open in authentication: it says it was
# asked, then never answers (the test's clean-up kills it).
ASKPASS = """#!/bin/sh
touch "%s"
exec sleep 120
"""


def write(path, text, mode=None):
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)


def first(value):
    return value.split(",")[0] if value else ""


def short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...(%d chars)" % len(text)


def nginx_config(work, srv):
    return """daemon off;
master_process off;
pid %(w)s/nginx.pid;
error_log %(w)s/nginx-error.log info;
events { worker_connections 64; }
http {
  access_log %(w)s/nginx-access.log;
  # every temporary directory in the test's own (the defaults are under /var/lib/nginx)
  client_body_temp_path %(w)s/nginx-body;
  proxy_temp_path %(w)s/nginx-proxy;
  fastcgi_temp_path %(w)s/nginx-fastcgi;
  uwsgi_temp_path %(w)s/nginx-uwsgi;
  scgi_temp_path %(w)s/nginx-scgi;
  server {
    listen %(srv)s:%(port)d;
    server_name %(host)s;
    root %(w)s/www;
  }
}
""" % {"w": work, "srv": srv, "port": HTTP_PORT, "host": HTTP_HOST}


def sshd_config(work, srv):
    return """Port %(port)d
ListenAddress %(srv)s
HostKey %(w)s/ssh_host_ed25519_key
PidFile %(w)s/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile none
StrictModes no
LoginGraceTime 60
""" % {"w": work, "srv": srv, "port": SSH_PORT}


def prepare(work):
    """Web root, TLS certificate, sshd host key and configs that do not need an address."""
    os.makedirs(os.path.join(work, "www", "site"))
    write(os.path.join(work, "www", "site", "index.html"), "<p>hello from nginx</p>\n")
    write(os.path.join(work, "www", "site", "form.html"), "<form></form>\n")
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", os.path.join(work, "key.pem"),
             "-out", os.path.join(work, "cert.pem"), "-days", "1", "-subj", "/CN=tls.test"])
    check(r.returncode == 0, "test certificate made (%s)" % r.stderr.strip()[-200:])
    r = run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "netscope-test",
             "-f", os.path.join(work, "ssh_host_ed25519_key")])
    check(r.returncode == 0, "sshd host key made (%s)" % r.stderr.strip()[-200:])
    write(os.path.join(work, "askpass"), ASKPASS % os.path.join(work, "askpass.asked"),
          stat.S_IRWXU)


def start_servers(nsx, work):
    srv = nsx.srv_ip
    logs = {}

    def log(name):
        logs[name] = open(os.path.join(work, name + ".log"), "w")
        return logs[name]

    conf = os.path.join(work, "nginx.conf")
    write(conf, nginx_config(work, srv))
    r = nsx.sh(nsx.srv, [SERVERS["nginx"], "-t", "-q", "-c", conf, "-p", work, "-e",
                         os.path.join(work, "nginx-error.log")], check_rc=False)
    check(r.returncode == 0, "nginx accepts its configuration (%s)" % r.stderr.strip()[-300:])
    # `ip netns exec` execs each server, so the Popen pid is the server's own (nginx
    # without a master process is one process, as is dnsmasq; sshd forks per connection).
    servers = {}
    servers["nginx"] = nsx.spawn(nsx.srv, [SERVERS["nginx"], "-c", conf, "-p", work, "-e",
                        os.path.join(work, "nginx-error.log")], stderr=log("nginx"))
    servers["dnsmasq"] = nsx.spawn(nsx.srv, [
                        SERVERS["dnsmasq"], "--no-daemon", "--no-resolv", "--no-hosts",
                        "--bind-interfaces", "--listen-address=" + srv, "--port=53",
                        "--local=/dns.test/",
                        "--host-record=both.dns.test,10.9.8.8,fd00::53",
                        "--host-record=tcp.dns.test,10.9.8.9",
                        "--cname=alias.dns.test,both.dns.test",
                        "--pid-file=" + os.path.join(work, "dnsmasq.pid")],
              stderr=log("dnsmasq"))
    cfg = os.path.join(work, "sshd_config")
    write(cfg, sshd_config(work, srv))
    # sshd's privilege separation directory; the Debian service creates it at start, and
    # main() removes it again if this test did.
    if not os.path.isdir(PRIVSEP_DIR):
        os.makedirs(PRIVSEP_DIR, mode=0o755)
        made_privsep_dir[0] = True
    r = nsx.sh(nsx.srv, [SERVERS["sshd"], "-t", "-f", cfg], check_rc=False)
    check(r.returncode == 0, "sshd accepts its configuration (%s)" % r.stderr.strip()[-300:])
    servers["sshd"] = nsx.spawn(nsx.srv, [SERVERS["sshd"], "-D", "-e", "-f", cfg], stderr=log("sshd"))
    servers["s_server"] = nsx.spawn(nsx.srv, ["openssl", "s_server", "-accept", str(TLS_PORT), "-cert",
                        os.path.join(work, "cert.pem"), "-key", os.path.join(work, "key.pem"),
                        "-alpn", "h2,http/1.1", "-www"], stdout=log("s_server"))
    for port in (HTTP_PORT, 53, SSH_PORT, TLS_PORT):
        nsx.wait_port(nsx.srv, port)
    for f in logs.values():
        f.close()
    return {name: p.pid for name, p in servers.items()}


def request_waiting(nsx, port, udp):
    """True when a new connection waits in the accept queue of the server's listener on
    `port`, or a datagram in its UDP socket (ss: Recv-Q of the listening socket)."""
    cmd = ["ss", "-Hunl" if udp else "-Htln", "sport = :%d" % port]
    r = nsx.sh(nsx.srv, cmd, check_rc=False)
    for line in r.stdout.splitlines():
        words = line.split()
        if len(words) > 2 and words[1].isdigit() and int(words[1]) > 0:
            return True
    return False


def held_client(nsx, server_pid, port, udp, args, **kw):
    """Starts a client while its server is stopped (SIGSTOP), and lets the server answer
    (SIGCONT) half a second after the request arrived. On a veth a dig, a curl or an ssh
    to a server in the next namespace is over within a millisecond, and dig's UDP socket
    lives ~0.3 ms: closed before the capture ring hands netscope the query (its block
    timeout is 100 ms) or, on a loaded machine, before the lookup thread reads the
    client's fd table. Held, the client's socket lives as long as it does with a server
    a network away, which is what attribution is built for; the DPI fields do not change."""
    os.kill(server_pid, signal.SIGSTOP)
    try:
        p = nsx.spawn(nsx.cli, args, **kw)
        for _ in range(400):
            if request_waiting(nsx, port, udp) or p.poll() is not None:
                break
            time.sleep(0.025)
        check(request_waiting(nsx, port, udp), "%s: reached the stopped server"
              % " ".join(args))
        time.sleep(0.5)
    finally:
        os.kill(server_pid, signal.SIGCONT)
    return p


def run_clients(nsx, work, servers):
    """Runs every client once; returns {what: pid}, the held ssh session's included."""
    srv = nsx.srv_ip
    pids = {}

    def finish(p, what, ok=(0,)):
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail("%s did not finish" % what)
        if rc not in ok:
            fail("%s exited %d" % (what, rc))

    for name, qtype, extra in DNS_QUERIES:
        p = held_client(nsx, servers["dnsmasq"], 53, "+tcp" not in extra,
                        ["dig", "@" + srv, "+tries=1", "+time=5", *extra, name, qtype])
        finish(p, "dig %s %s" % (name, qtype))
        pids[("dns", name, qtype)] = p.pid
    for method, path, extra in HTTP_REQUESTS:
        p = held_client(nsx, servers["nginx"], HTTP_PORT, False,
                        ["curl", "--http1.1", "-s", "-o", "/dev/null", "-X", method,
                         "-H", "Host: " + HTTP_HOST, *extra,
                         "http://%s:%d%s" % (srv, HTTP_PORT, path)])
        finish(p, "curl %s %s" % (method, path))
        pids[("http", method, path)] = p.pid
    big_alpn = ",".join(["h2"] + ["protocol-%03d" % i for i in range(250)])
    for sni, alpn in (("small.tls.test", "h2,http/1.1"), ("big.tls.test", big_alpn)):
        # s_client reads its (empty) input only once the handshake is done, then quits.
        p = held_client(nsx, servers["s_server"], TLS_PORT, False,
                        ["openssl", "s_client", "-connect", "%s:%d" % (srv, TLS_PORT),
                         "-servername", sni, "-alpn", alpn], stdin=subprocess.DEVNULL)
        finish(p, "openssl s_client -servername " + sni)
        pids[("tls", sni)] = p.pid
    ssh_opts = ["-p", str(SSH_PORT), "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"]
    # Banner exchange, key exchange, then the login fails (no key, no password): 255.
    p = held_client(nsx, servers["sshd"], SSH_PORT, False,
                    ["ssh", "-o", "BatchMode=yes", *ssh_opts, "nobody@" + srv, "true"])
    finish(p, "ssh (BatchMode)", ok=(255,))
    pids[("ssh", "batch")] = p.pid
    # A session held open in authentication: the password prompt goes to an askpass
    # program that never answers.
    env = dict(os.environ, SSH_ASKPASS=os.path.join(work, "askpass"),
               SSH_ASKPASS_REQUIRE="force")
    env.pop("DISPLAY", None)
    held = nsx.spawn(nsx.cli, ["ssh", "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
                               "-o", "PreferredAuthentications=password", *ssh_opts,
                               "nobody@" + srv, "true"], env=env, stdin=subprocess.DEVNULL)
    asked = os.path.join(work, "askpass.asked")
    for _ in range(200):
        if os.path.exists(asked) or held.poll() is not None:
            break
        time.sleep(0.05)
    check(os.path.exists(asked), "the held ssh session reached the password prompt")
    pids[("ssh", "held")] = held.pid
    # The kernel's word on which connection is the held one: its local port.
    r = nsx.sh(nsx.cli, ["ss", "-Htn", "state", "established", "dport = :%d" % SSH_PORT])
    held_ports = [int(line.split()[2].rsplit(":", 1)[1]) for line in r.stdout.splitlines()]
    check(len(held_ports) == 1, "ss shows the held session's socket (%r)" % r.stdout)
    pids[("ssh", "held_port")] = held_ports[0]
    return pids


def tshark_oracle(pcap):
    """Rows of tshark's fields for every HTTP, DNS, SSH and TLS handshake packet."""
    # tshark picks dissectors by port; netscope needs no hint (it reads the banner).
    args = ["tshark", "-n", "-r", pcap, "-d", "tcp.port==%d,ssh" % SSH_PORT,
            "-d", "tcp.port==%d,tls" % TLS_PORT, "-Y",
            "http.request || http.response || dns || ssh || tls.handshake.type", "-T", "fields",
            "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        args += ["-e", f]
    r = run(args)
    if r.returncode != 0:
        fail("tshark on %s: %s" % (pcap, r.stderr))
    return [dict(zip(FIELDS, line.split("\t"))) for line in r.stdout.splitlines()]


def answer_section(v):
    """The answer section's A, AAAA and CNAME records in order: tshark lists the values of
    each type separately, and dns.resp.type gives each record's type in order."""
    values = {"1": v["dns.a"].split(","), "28": v["dns.aaaa"].split(","),
              "5": v["dns.cname"].split(",")}
    used = {"1": 0, "28": 0, "5": 0}
    out = []
    count = int(first(v["dns.count.answers"]) or 0)
    for rtype in (v["dns.resp.type"].split(",")[:count] if v["dns.resp.type"] else []):
        if rtype in values:
            out.append(values[rtype][used[rtype]])
            used[rtype] += 1
    return out


def one_run(netscope, work):
    pcap = os.path.join(work, "oracle.pcap")
    snap_path = os.path.join(work, "snapshot.json")
    for path in (pcap, snap_path, os.path.join(work, "askpass.asked")):
        if os.path.exists(path):
            os.remove(path)
    with Namespaces(TAG) as nsx:
        servers = start_servers(nsx, work)
        cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["snapshot", "-i", nsx.vcli, "--duration", "300", "--refresh", "500",
                       "-n", "--output", snap_path], os.path.join(work, "netscope.out"))
        wait_ready(nsx, nsx.cli)
        pids = run_clients(nsx, work, servers)
        time.sleep(1.5)  # the held session's last packets reach a tick
        rc = ns.stop()
        check(rc == 0, "netscope snapshot exits 0 on SIGTERM (stderr: %s)" %
              ns.stderr().strip()[-500:])
        incomplete = cap.stop()
        result = (load_snapshot(snap_path), pids, nsx.srv_ip)
    return result, incomplete


def analyze_conversations(netscope, pcap):
    """`netscope analyze` of the capture: its document and {(server port, client port):
    conversation}."""
    rc, doc, err = analyze_json(netscope, pcap)
    if rc != 0 or doc is None:
        fail("netscope analyze of the capture: exit %d, %s" % (rc, err[-300:]))
    convs = {}
    for c in doc["conversations"]:
        if c["proto"] == "tcp" or c["proto"] == "udp":
            convs.setdefault((c["server"]["port"], c["client"]["port"]), c)
    return doc, convs


def same_in_analyze(convs, server_port, client_port, want):
    """The conversation of `netscope analyze` has tshark's values too; returns the count."""
    c = convs.get((server_port, client_port))
    check(c is not None, "analyze: a conversation %d -> %d" % (client_port, server_port))
    got = {k: c.get(k) for k in want}
    check(got == want, "analyze, %d -> %d: %s" % (client_port, server_port, "; ".join(
        "%s %s, tshark %s" % (k, short(got[k]), short(want[k])) for k in want)))
    return len(want)


def check_http(doc, convs, rows, pids, srv):
    fields = 0
    seen = {}
    for v in rows:
        if v["http.request.method"]:
            seen.setdefault(int(first(v["tcp.srcport"])), {}).update(
                http_method=first(v["http.request.method"]), http_host=first(v["http.host"]),
                http_path=first(v["http.request.uri"]),
                http_user_agent=first(v["http.user_agent"]))
        elif v["http.response.code"]:
            seen.setdefault(int(first(v["tcp.dstport"])), {}).setdefault(
                "http_status", int(first(v["http.response.code"])))
    check(len(seen) == len(HTTP_REQUESTS) and
          sorted(w.get("http_status") for w in seen.values()) == [200, 404, 405],
          "tshark sees the three HTTP exchanges, answered 200, 404 and 405: %r" % seen)
    for port, want in sorted(seen.items()):
        cs = connections(doc, proto="tcp", remote_addr=srv, remote_port=HTTP_PORT, local_port=port)
        check(len(cs) == 1, "HTTP connection from port %d found" % port)
        c = cs[0]
        got = {k: c[k] for k in want}
        check(got == want, "HTTP from port %d: %r, tshark %r" % (port, got, want))
        fields += len(want)
        fields += same_in_analyze(convs, HTTP_PORT, port, want)
        pid = pids[("http", want["http_method"], want["http_path"])]
        check(c["app"] == "HTTP" and c["process"] == "curl" and c["pid"] == pid,
              "HTTP from port %d: app HTTP, curl pid %d (%s %s %s)" %
              (port, pid, c["app"], c["process"], c["pid"]))
    return fields


def check_dns(doc, analysis, rows, pids, srv):
    fields = 0
    want = {}
    ports = {}
    for v in rows:
        if not v["dns.qry.name"]:
            continue
        tcp = bool(v["tcp.srcport"])
        if v["dns.flags.response"].startswith("1"):
            port = int(first(v["tcp.dstport"] or v["udp.dstport"]))
            key = (first(v["dns.qry.name"]), QTYPES[int(first(v["dns.qry.type"]))])
            check(key not in want, "one response per question: %s %s" % key)
            rcode_code = int(first(v["dns.flags.rcode"]))
            want[key] = {"rcode": RCODES[rcode_code], "rcode_code": rcode_code,
                         "answers": answer_section(v),
                         "latency_ms": float(first(v["dns.time"])) * 1000.0,
                         "tcp": tcp}
            ports[key] = (tcp, port)
    asked = [(n, t) for n, t, _ in DNS_QUERIES]
    check(sorted(want) == sorted(asked), "tshark sees one response for each dig: %r" %
          sorted(want))
    # The oracle covers what the issue asks for.
    check(want[("nx.dns.test", "A")]["rcode"] == "NXDOMAIN" and
          want[("both.dns.test", "AAAA")]["answers"] == ["fd00::53"] and
          want[("tcp.dns.test", "A")]["tcp"] and
          want[("alias.dns.test", "A")]["answers"][0] == "both.dns.test",
          "tshark: an NXDOMAIN, an AAAA answer, a CNAME chain and DNS over TCP")
    events = [e for e in doc["dns"] if e["server"] == srv]
    for (name, qtype), w in sorted(want.items()):
        es = [e for e in events if e["query"] == name and e["qtype"] == qtype]
        check(len(es) == 1, "one DNS event for %s %s (%d)" % (name, qtype, len(es)))
        e = es[0]
        got = (e["rcode"], e["rcode_code"], e["answers"] or [])
        check(got == (w["rcode"], w["rcode_code"], w["answers"]),
              "%s %s: rcode %s (%d), answers %r; tshark %s (%d), %r" %
              (name, qtype, got[0], got[1], got[2], w["rcode"], w["rcode_code"], w["answers"]))
        # Both handles see the same packets. A UDP response and every query get one
        # timestamp in the kernel, shared by all capture sockets: allow for rounding to the
        # microsecond. An arriving TCP segment does not: its skb still holds the sender's
        # monotonic departure time (TCP's EDT), so each capture socket stamps it on its own
        # when its turn comes, newest socket first. netscope's socket opened after tcpdump's
        # and stamps the response earlier: 0.1-40 us on 572 of 572 arriving segments
        # measured here, 63-139 us in three failed runs. So over TCP the latency may read
        # up to 2 ms short, never long: a later packet (the client's ACK) still fails.
        slack = 2.0 if w["tcp"] else 0.01
        got_ms = e["latency_ms"]
        check(got_ms is not None and w["latency_ms"] - slack <= got_ms <= w["latency_ms"] + 0.01,
              "%s %s: latency %r ms, tshark dns.time %.3f ms" %
              (name, qtype, got_ms, w["latency_ms"]))
        fields += 5  # query, qtype, rcode (name and number), answers, latency
        pid = pids[("dns", name, qtype)]
        check(e["pid"] == pid and e["process"] == "dig",
              "%s %s: asked by dig pid %d (%s %s)" % (name, qtype, pid, e["process"], e["pid"]))
        tcp, port = ports[(name, qtype)]
        cs = connections(doc, proto="tcp" if tcp else "udp", remote_addr=srv, remote_port=53,
                         local_port=port)
        check(len(cs) == 1 and cs[0]["app"] == "DNS" and cs[0]["pid"] == pid,
              "%s %s: its %s flow from port %d is DNS, dig's (%r)" %
              (name, qtype, "TCP" if tcp else "UDP", port,
               [(c["app"], c["pid"], c["state"]) for c in cs]))
        if not tcp:
            check(cs[0]["state"] == "DNS_RESPONSE", "%s %s: state DNS_RESPONSE (%s)" %
                  (name, qtype, cs[0]["state"]))
    by_rcode = {}
    for w in want.values():
        by_rcode[w["rcode"]] = by_rcode.get(w["rcode"], 0) + 1
    got = analysis["dns"]
    check(got["transactions"] == len(want) and got["by_rcode"] == by_rcode and
          got["unanswered"] == 0,
          "analyze: %d DNS transactions by rcode %r, tshark %d %r" %
          (got["transactions"], got["by_rcode"], len(want), by_rcode))
    fields += 1
    return fields


def check_ssh(doc, convs, rows, pids, srv):
    fields = 0
    sides = {}
    for v in rows:
        if not v["tcp.srcport"]:
            continue
        sport, dport = int(first(v["tcp.srcport"])), int(first(v["tcp.dstport"]))
        if SSH_PORT not in (sport, dport):
            continue
        client = dport if sport == SSH_PORT else sport
        s = sides.setdefault(client, {"codes": {0: set(), 1: set()}})
        d = 1 if sport == SSH_PORT else 0
        if v["ssh.protocol"]:
            s["ssh_server" if d else "ssh_client"] = v["ssh.protocol"].strip()
        for code in v["ssh.message_code"].split(",") if v["ssh.message_code"] else []:
            s["codes"][d].add(int(code))
    check(len(sides) == 2, "tshark sees two SSH connections (%r)" % sorted(sides))
    for port, s in sorted(sides.items()):
        cs = connections(doc, proto="tcp", remote_addr=srv, remote_port=SSH_PORT, local_port=port)
        check(len(cs) == 1, "SSH connection from port %d found" % port)
        c = cs[0]
        check(s.get("ssh_client", "").startswith("SSH-2.0-OpenSSH") and
              s.get("ssh_server", "").startswith("SSH-2.0-OpenSSH"),
              "tshark: both OpenSSH banners (%r %r)" % (s.get("ssh_client"), s.get("ssh_server")))
        got = (c["app"], c["ssh_client"], c["ssh_server"])
        check(got == ("SSH", s["ssh_client"], s["ssh_server"]),
              "SSH from port %d: %r, tshark ssh.protocol %r / %r" %
              (port, got, s["ssh_client"], s["ssh_server"]))
        fields += 2
        fields += same_in_analyze(convs, SSH_PORT, port, {"ssh_client": s["ssh_client"],
                                                           "ssh_server": s["ssh_server"]})
        open_now = port == pids[("ssh", "held_port")]
        pid = pids[("ssh", "held" if open_now else "batch")]
        check(c["process"] == "ssh" and c["pid"] == pid,
              "SSH from port %d: attributed to its ssh client, pid %d (%s %s)" %
              (port, pid, c["process"], c["pid"]))
        if not open_now:
            # README: SSH_* only while the TCP connection is open; the failed login's is not.
            check(not c["state"].startswith("SSH_"),
                  "the failed login's closed connection shows its TCP state (%s)" % c["state"])
            continue
        codes = s["codes"]
        if 21 in codes[0] and 21 in codes[1]:
            want = "SSH_AUTHENTICATION"  # the password is never given: not ESTABLISHED
        elif 20 in codes[0] or 20 in codes[1]:
            want = "SSH_KEYEXCHANGE"
        else:
            want = "SSH_BANNER"
        check(want == "SSH_AUTHENTICATION",
              "tshark: both sides sent NEWKEYS on the held session (%r)" % codes)
        check(c["state"] in SSH_STATES and c["state"] == want and
              c["state_heuristic"] is True,
              "the held session: state %s (heuristic %s), tshark's messages say %s" %
              (c["state"], c["state_heuristic"], want))
        fields += 1
        fields += same_in_analyze(convs, SSH_PORT, port, {"app_state": want,
                                                           "app_state_heuristic": True})
    return fields


def check_tls(doc, convs, rows, pids, srv):
    fields = 0
    want = {}
    for v in rows:
        types = v["tls.handshake.type"].split(",") if v["tls.handshake.type"] else []
        if not types or not v["tcp.srcport"]:
            continue
        sport, dport = int(first(v["tcp.srcport"])), int(first(v["tcp.dstport"]))
        if "1" in types and dport == TLS_PORT:
            w = want.setdefault(sport, {})
            w.update(sni=first(v["tls.handshake.extensions_server_name"]),
                     alpn=v["tls.handshake.extensions_alpn_str"],
                     ja3=first(v["tls.handshake.ja3"]))
            w["length"] = int(v["tls.handshake.length"].split(",")[types.index("1")])
            # The highest version offered, GREASE values left out.
            offered = [x for x in v["tls.handshake.extensions.supported_version"].split(",")
                       if x in TLS_VERSIONS]
            w["tls_offered"] = TLS_VERSIONS[max(offered)] if offered else None
        if "2" in types and sport == TLS_PORT:
            sv = first(v["tls.handshake.extensions.supported_version"])
            want.setdefault(dport, {})["tls_version"] = TLS_VERSIONS.get(
                sv or v["tls.handshake.version"].split(",")[types.index("2")])
            suite = int(first(v["tls.handshake.ciphersuite"]), 0)
            want[dport]["tls_cipher"] = TLS_CIPHERS.get(suite, "unlisted 0x%04x" % suite)
    check(len(want) == 2 and any(w.get("length", 0) > 1500 for w in want.values()),
          "tshark: two ClientHellos, one of %r bytes" % [w.get("length") for w in want.values()])
    for port, w in sorted(want.items()):
        w.pop("length", None)
        cs = connections(doc, proto="tcp", remote_addr=srv, remote_port=TLS_PORT, local_port=port)
        check(len(cs) == 1, "TLS connection from port %d found" % port)
        c = cs[0]
        got = {k: c[k] for k in w}
        check(got == w, "TLS from port %d: %s" % (port, "; ".join(
            "%s %s, tshark %s" % (k, short(got[k]), short(w[k])) for k in w)))
        fields += len(w)
        fields += same_in_analyze(convs, TLS_PORT, port, w)
        pid = pids[("tls", w["sni"])]
        check(c["app"] == "TLS" and c["process"] == "openssl" and c["pid"] == pid,
              "TLS %s: app TLS, openssl pid %d (%s %s)" % (w["sni"], pid, c["process"], c["pid"]))
    return fields


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    for name, path in SERVERS.items():
        if not os.access(path, os.X_OK):
            print("skip: needs %s (%s; scripts/setup installs it)" % (name, path))
            sys.exit(77)
    for tool in CLIENTS:
        if shutil.which(tool) is None:
            print("skip: needs %s (scripts/setup installs it)" % tool)
            sys.exit(77)
    work = tmpdir()
    os.chmod(work, 0o755)
    try:
        prepare(work)
        doc, pids, srv = capture_complete_run(3, lambda: one_run(netscope, work))
        pcap = os.path.join(work, "oracle.pcap")
        rows = tshark_oracle(pcap)
        analysis, convs = analyze_conversations(netscope, pcap)
        n_http = check_http(doc, convs, rows, pids, srv)
        n_dns = check_dns(doc, analysis, rows, pids, srv)
        n_ssh = check_ssh(doc, convs, rows, pids, srv)
        n_tls = check_tls(doc, convs, rows, pids, srv)
        check(doc["totals"]["dns_dropped"] == 0, "no DNS event dropped")
        print("ok: %d fields equal tshark's, live and in analyze (HTTP %d, DNS %d, SSH %d, "
              "TLS %d)" %
              (n_http + n_dns + n_ssh + n_tls, n_http, n_dns, n_ssh, n_tls))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made_privsep_dir[0]:
            try:
                os.rmdir(PRIVSEP_DIR)
            except OSError:
                pass
    print("PASS")


if __name__ == "__main__":
    main()
