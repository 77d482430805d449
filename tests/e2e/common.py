"""Shared helpers for netscope's end-to-end tests (stdlib only, run with /usr/bin/python3).

Network namespaces: `Namespaces` creates a client and a server namespace joined by a
veth pair and removes them on exit, even when the test fails.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77  # ctest SKIP_RETURN_CODE


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


def analyze_json(netscope, path, *extra):
    """Runs `netscope analyze PATH --json -` and returns (exit code, document, stderr)."""
    r = run([netscope, "analyze", path, "--json", "-", "--no-color", *extra])
    doc = None
    if r.stdout.strip():
        doc = json.loads(r.stdout)
    return r.returncode, doc, r.stderr


def tshark_count(path, display_filter):
    r = run(["tshark", "-n", "-r", path, "-Y", display_filter, "-T", "fields", "-e", "frame.number"])
    if r.returncode != 0:
        fail("tshark failed on %s: %s" % (path, r.stderr))
    return len([l for l in r.stdout.splitlines() if l.strip()])


def need_root_and_netns():
    if os.geteuid() != 0:
        print("skip: needs root for network namespaces")
        sys.exit(SKIP)
    if shutil.which("ip") is None or shutil.which("nft") is None:
        print("skip: needs iproute2 and nftables")
        sys.exit(SKIP)


class Namespaces:
    """Client and server namespaces joined by a veth pair; offloads off."""

    def __init__(self, tag):
        self.tag = tag
        net = tag % 250 + 1
        self.cli, self.srv = "nscli-%d" % tag, "nssrv-%d" % tag
        self.vcli, self.vsrv = "vc%d" % tag, "vs%d" % tag
        self.cli_ip, self.srv_ip = "10.78.%d.1" % net, "10.78.%d.2" % net
        self.procs = []

    def sh(self, ns, cmd, check_rc=True, **kw):
        r = run(["ip", "netns", "exec", ns] + cmd, **kw)
        if check_rc and r.returncode != 0:
            fail("%s in %s failed (%d): %s" % (" ".join(cmd), ns, r.returncode, r.stderr))
        return r

    def spawn(self, ns, cmd, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, **kw)
        self.procs.append(p)
        return p

    def __enter__(self):
        self.down()
        for ns in (self.cli, self.srv):
            run(["ip", "netns", "add", ns], check=True)
        run(["ip", "link", "add", self.vcli, "type", "veth", "peer", "name", self.vsrv], check=True)
        run(["ip", "link", "set", self.vcli, "netns", self.cli], check=True)
        run(["ip", "link", "set", self.vsrv, "netns", self.srv], check=True)
        for ns, dev, ip in ((self.cli, self.vcli, self.cli_ip), (self.srv, self.vsrv, self.srv_ip)):
            self.sh(ns, ["ip", "addr", "add", ip + "/24", "dev", dev])
            self.sh(ns, ["ip", "link", "set", "lo", "up"])
            self.sh(ns, ["ip", "link", "set", dev, "up"])
            self.sh(ns, ["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off",
                         "tx", "off", "rx", "off"], check_rc=False)
        return self

    def loss(self, ns, dev, per_1024, match=""):
        """Drops per_1024/1024 of matching packets arriving on dev (nftables netdev ingress)."""
        rules = """table netdev loss {
  chain ingress {
    type filter hook ingress device "%s" priority 0; policy accept;
    %s meta random & 1023 < %d drop
  }
}
""" % (dev, match, per_1024)
        self.sh(ns, ["nft", "-f", "-"], input=rules)

    def wait_port(self, ns, port, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.sh(ns, ["ss", "-ltn", "sport = :%d" % port], check_rc=False)
            if "LISTEN" in r.stdout:
                return
            time.sleep(0.05)
        fail("nothing listening on port %d in %s" % (port, ns))

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []
        for ns in (self.cli, self.srv):
            pids = run(["ip", "netns", "pids", ns]).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            run(["ip", "netns", "del", ns])

    def __exit__(self, *exc):
        self.down()
        return False


# An HTTP server (python3 -c SLOW_HTTP_SERVER ADDR PORT DIR) that answers each GET after
# 300 ms, so that each client lives that long: for tests about what is logged or shown
# for a client, not about racing a process that exits within milliseconds on a loaded
# machine (live_short_lived's subject).
SLOW_HTTP_SERVER = """
import functools, http.server, sys, time
class Slow(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.3)
        super().do_GET()
    def log_message(self, *args):
        pass
handler = functools.partial(Slow, directory=sys.argv[3])
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), handler).serve_forever()
"""


class Capture:
    """tcpdump on an interface inside a namespace, writing a pcap."""

    def __init__(self, nsx, ns, dev, path, snaplen=262144):
        self.path = path
        self.p = nsx.spawn(ns, ["tcpdump", "-i", dev, "-s", str(snaplen), "-B", "131072",
                                "--immediate-mode", "-U", "-w", path], stderr=subprocess.PIPE)
        # tcpdump prints "listening on ..." once the socket is ready.
        deadline = time.time() + 10
        line = b""
        while time.time() < deadline and b"listening" not in line:
            line = self.p.stderr.readline()
            if not line and self.p.poll() is not None:
                fail("tcpdump exited early")
        time.sleep(0.2)

    def stop(self):
        """Stops tcpdump once it has written everything it captured. Returns None when the
        capture is complete, else tcpdump's own account of what it missed (a loaded
        machine can make the kernel drop packets before tcpdump reads them)."""
        # Wait until the file stops growing: tcpdump may lag behind the traffic.
        last, stable, deadline = -1, 0, time.time() + 20
        while stable < 3 and time.time() < deadline:
            time.sleep(0.2)
            size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
            stable = stable + 1 if size == last else 0
            last = size
        self.p.terminate()
        self.p.wait(timeout=10)
        tail = self.p.stderr.read().decode(errors="replace")
        counts = {}
        for line in tail.splitlines():
            words = line.split()
            if len(words) >= 3 and words[0].isdigit():
                counts[" ".join(words[1:])] = int(words[0])
        captured = counts.get("packets captured", 0)
        received = counts.get("packets received by filter", captured)
        dropped = counts.get("packets dropped by kernel", 0)
        if dropped or captured < received:
            return "tcpdump captured %d of %d packets (%d dropped by the kernel)" % (
                captured, received, dropped)
        return None


def capture_complete_run(attempts, run_once):
    """Runs run_once() (which returns (result, incomplete_reason)) until its capture is
    complete, at most `attempts` times: real traffic on a loaded machine may overrun the
    capture, which says nothing about netscope."""
    reason = None
    for i in range(attempts):
        result, reason = run_once()
        if reason is None:
            return result
        print("capture incomplete (%s), trying again" % reason)
    fail("the capture stayed incomplete after %d attempts: %s" % (attempts, reason))


def shared_captures(pcaps):
    """(path, "dir/name") for every capture under ../shared/pcaps, in a stable order."""
    for sub in sorted(os.listdir(pcaps)):
        d = os.path.join(pcaps, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path) and not name.endswith(".md"):
                yield path, sub + "/" + name


def tmpdir():
    return tempfile.mkdtemp(prefix="netscope-e2e-")
