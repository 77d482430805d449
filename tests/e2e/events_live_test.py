#!/usr/bin/env python3
"""--json-lines --events on real traffic between two namespaces: curl fetches a page from
`python3 -m http.server` and dig asks dnsmasq, both in the server namespace, while
netscope watches the client's interface with its stdout on a pipe, as a log shipper
would read it.

  1. streaming: every line is one complete JSON object with a netscope schema, and the
     lines arrive while netscope runs (flushed every tick), not at exit;
  2. curl's connection gives exactly one connection_open and one connection_close event,
     the close carrying its final counters: its IP bytes equal tcpdump's for the
     connection's packets up to the close;
  3. dig's query gives a dns event with the query, NOERROR and dnsmasq's answer;
  4. with --blacklist naming the server's address and the queried name, exactly one alert
     event for curl's connection and one for the query, however many ticks show them.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

from common import (Capture, Namespaces, check, fail, need_root_and_netns, run, tmpdir)

netscope, pcaps = sys.argv[1], sys.argv[2]
need_root_and_netns()
for tool in ("curl", "dig", "dnsmasq", "tcpdump", "tshark"):
    if shutil.which(tool) is None:
        print("skip: needs %s" % tool)
        sys.exit(77)

HTTP_PORT = 8052
NAME, ANSWER = "events.test", "10.9.8.7"


class LineReader:
    """Reads a pipe line by line on a thread, noting when each line arrived."""

    def __init__(self, pipe):
        self.lines = []  # (monotonic time, text)
        self.partial = b""
        self.t = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self.t.start()

    def _run(self, pipe):
        for raw in iter(pipe.readline, b""):
            if not raw.endswith(b"\n"):
                self.partial = raw
                break
            self.lines.append((time.monotonic(), raw.decode("utf-8")))

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(l) for _, l in list(self.lines)):
                return True
            time.sleep(0.1)
        return False


work = tmpdir()
try:
    with open(os.path.join(work, "index.html"), "w") as f:
        f.write("<html>" + "x" * 20000 + "</html>\n")
    with Namespaces(51) as nsx:
        nsx.spawn(nsx.srv, ["/usr/bin/python3", "-m", "http.server", "-b", nsx.srv_ip,
                            str(HTTP_PORT)], cwd=work)
        nsx.spawn(nsx.srv, ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                            "--bind-interfaces", "--listen-address=" + nsx.srv_ip,
                            "--address=/%s/%s" % (NAME, ANSWER),
                            "--pid-file=" + os.path.join(work, "dnsmasq.pid")])
        nsx.wait_port(nsx.srv, HTTP_PORT)
        pcap = os.path.join(work, "oracle.pcap")
        cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
        blacklist = os.path.join(work, "blacklist.txt")
        with open(blacklist, "w") as f:
            f.write("# the events test\n%s\n%s\n" % (nsx.srv_ip, NAME))
        p = nsx.spawn(nsx.cli, [netscope, "-i", nsx.vcli, "--json-lines", "--events",
                                "--refresh", "500", "-n", "--blacklist", blacklist],
                      stdout=subprocess.PIPE)
        reader = LineReader(p.stdout)
        check(reader.wait_for(lambda l: '"netscope.tick/1"' in l, 15),
              "tick lines arrive while netscope runs")
        r = nsx.sh(nsx.cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{local_port}",
                             "http://%s:%d/index.html" % (nsx.srv_ip, HTTP_PORT)])
        port = int(r.stdout)
        d = None
        for _ in range(20):  # dnsmasq may take a moment to listen
            d = nsx.sh(nsx.cli, ["dig", "+tries=1", "+time=1", "@" + nsx.srv_ip, NAME, "A"],
                       check_rc=False)
            if d.returncode == 0 and ANSWER in d.stdout:
                break
            time.sleep(0.25)
        check(d is not None and ANSWER in d.stdout, "dnsmasq answered dig")
        key = '"local_port":%d' % port
        streamed = reader.wait_for(lambda l: '"connection_close"' in l and key in l, 20) and \
            reader.wait_for(lambda l: '"event":"dns"' in l and NAME in l, 20)
        check(streamed, "curl's close and dig's query were streamed before netscope stopped")
        p.terminate()
        rc = p.wait(timeout=30)
        reader.t.join(timeout=10)
        check(rc == 0, "netscope exited 0 on SIGTERM")
        cap.stop()

        check(reader.partial == b"", "no partial line at the end of the stream")
        events, ticks = [], 0
        for _, line in reader.lines:
            try:
                obj = json.loads(line)
            except ValueError:
                fail("not one JSON object per line: %r" % line[:200])
            if obj.get("schema") == "netscope.tick/1":
                ticks += 1
            elif obj.get("schema") == "netscope.event/1":
                events.append(obj)
            else:
                fail("line without a netscope schema: %r" % line[:200])
        check(ticks >= 2 and events, "%d tick lines and %d event lines, all valid JSON" %
              (ticks, len(events)))

        mine = [e for e in events if e.get("proto") == "tcp" and e.get("local_port") == port]
        kinds = [e["event"] for e in mine]
        check(kinds == ["connection_open", "connection_close"],
              "curl's connection: one open, one close (%s)" % kinds)
        opened, closed = mine
        check(opened["remote_addr"] == nsx.srv_ip and opened["remote_port"] == HTTP_PORT,
              "the open event names the server")
        check(closed["closed"] is True and closed["close_reason"] == "closed",
              "the close event: closed by FIN (%s)" % closed["close_reason"])
        r = run(["tshark", "-n", "-r", pcap, "-Y", "tcp.port == %d" % port, "-T", "fields",
                 "-e", "ip.src", "-e", "ip.len", "-e", "frame.time_epoch"])
        last_seen = closed["last_seen"]
        up = down = 0
        for line in r.stdout.splitlines():
            src, length, _ = line.split("\t")
            if src == nsx.cli_ip:
                up += int(length)
            else:
                down += int(length)
        # The close is reported when both FINs are seen; the final ACK may follow it.
        check(closed["bytes_down"] == down and up - 52 <= closed["bytes_up"] <= up,
              "close event bytes up %d / down %d == tcpdump's %d / %d (up minus at most the "
              "final ACK)" % (closed["bytes_up"], closed["bytes_down"], up, down))
        check(last_seen >= opened["first_seen"], "close time after open time")

        dns = [e for e in events if e["event"] == "dns" and e.get("query") == NAME]
        check(len(dns) >= 1, "a dns event for %s" % NAME)
        q = dns[-1]
        check(q["rcode"] == "NOERROR" and ANSWER in (q["answers"] or []) and q["qtype"] == "A",
              "dns event: %s %s -> %s" % (q["qtype"], q["rcode"], q["answers"]))
        check(q["server"] == nsx.srv_ip, "dns event server %s" % q["server"])

        alerts = [e for e in events if e["event"] == "alert"]
        conn_alerts = [e for e in alerts if e["source"] == "connection" and
                       e["connection"]["local_port"] == port and e["connection"]["proto"] == "tcp"]
        check(len(conn_alerts) == 1 and conn_alerts[0]["alert"] == nsx.srv_ip,
              "one alert for curl's connection (%s)" % [a["alert"] for a in conn_alerts])
        dns_alerts = [e for e in alerts if e["source"] == "dns" and e["dns"]["query"] == NAME]
        check(len(dns_alerts) == 1 and dns_alerts[0]["alert"] == NAME,
              "one alert for the query of %s, %d dns events (%s)" %
              (NAME, len(dns), [a["alert"] for a in dns_alerts]))
        check(ticks >= 2 and sum('"alert":"%s"' % nsx.srv_ip in l for _, l in reader.lines) >= 1,
              "tick lines mark the connection with the alert too")
finally:
    shutil.rmtree(work, ignore_errors=True) if not os.environ.get("KEEP") else print(work)
