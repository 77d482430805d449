#!/usr/bin/env python3
"""The TUI on a live capture between two network namespaces, driven through tmux: a real
client process (python3) resolves a name at a real dnsmasq and fetches pages from a real
http.server. The process detail view must name the process (pid, command line), list
its DNS queries and its connection, and `x` + `y` must deliver SIGTERM to it.

Oracles: the client's own pid and exit status (Popen), the names it asked for (its log),
and the server's port.

usage: tui_live_test.py NETSCOPE PCAPS_DIR   (root; namespace tag 40)
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SKIP, Namespaces, check, fail, need_root_and_netns, run, tmpdir  # noqa: E402
from live_common import ATTRIBUTION_CAPS  # noqa: E402

NETSCOPE = os.path.abspath(sys.argv[1])
SOCKET = "netscope-tui-41"
TAG = 40
HTTP_PORT = 8040
NAME = "tui40.test"

CLIENT = r'''
import random, socket, struct, sys, time, urllib.request
server, port, name, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def query(qname):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in qname.split(".")) + b"\0"
    q += struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.sendto(q, (server, 53))
    try:
        s.recv(512)
    except OSError:
        pass
    s.close()

while True:
    query(name)
    with open(log, "a") as f:
        f.write(name + "\n")
    try:
        urllib.request.urlopen("http://%s:%d/" % (server, port), timeout=2).read()
    except OSError:
        pass
    time.sleep(0.3)
'''


CAP_DAC_OVERRIDE, CAP_KILL = 1, 5


def thread_caps(pid):
    """(CapEff of the main thread, union of the other threads' CapEff) of `pid`."""
    main, others = set(), set()
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                bits = next(int(line.split()[1], 16) for line in f if line.startswith("CapEff:"))
        except (FileNotFoundError, StopIteration):
            continue
        (main if int(task) == pid else others).update(n for n in range(64) if bits >> n & 1)
    return main, others


def tmux(*args, check_rc=True):
    r = run(["tmux", "-L", SOCKET, "-f", "/dev/null"] + list(args))
    if check_rc and r.returncode != 0:
        fail("tmux %s: %s" % (" ".join(args), r.stderr))
    return r


def screen():
    return tmux("capture-pane", "-p", "-t", "live").stdout


def wait(pred, what, tries=300):
    s = ""
    for _ in range(tries):
        s = screen()
        if pred(s):
            time.sleep(0.1)
            s = screen()
            if pred(s):
                return s
        time.sleep(0.1)
    fail("%s; screen was:\n%s" % (what, s))


def keys(*k):
    tmux("send-keys", "-t", "live", *k)


def main():
    need_root_and_netns()
    if shutil.which("tmux") is None or shutil.which("dnsmasq") is None:
        print("skip: needs tmux and dnsmasq")
        sys.exit(SKIP)
    out = tmpdir()
    tmux("kill-server", check_rc=False)
    try:
        with Namespaces(TAG) as nsx:
            nsx.spawn(nsx.srv, ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                                "--bind-interfaces", "--listen-address=" + nsx.srv_ip,
                                "--address=/%s/%s" % (NAME, nsx.srv_ip), "--pid-file="])
            nsx.spawn(nsx.srv, ["python3", "-m", "http.server", str(HTTP_PORT),
                                "--bind", nsx.srv_ip, "--directory", out])
            nsx.wait_port(nsx.srv, HTTP_PORT)
            script = os.path.join(out, "tui40_client.py")
            with open(script, "w") as f:
                f.write(CLIENT)
            log = os.path.join(out, "client.log")
            client = nsx.spawn(nsx.cli, ["python3", script, nsx.srv_ip, str(HTTP_PORT), NAME, log])
            rec = os.path.join(out, "rec")
            os.makedirs(rec)
            cmd = ("ip netns exec %s env LANG=C.UTF-8 %s -i %s --refresh 500 --window 2 "
                   "--pcap-dir %s; "
                   "echo EXIT=$?; stty -a | tr '\\n' ' '; echo; echo STTY-DONE; sleep 600"
                   % (nsx.cli, NETSCOPE, nsx.vcli, rec))
            tmux("new-session", "-d", "-s", "live", "-x", "160", "-y", "48", cmd)

            s = wait(lambda s: "python3" in s and "Processes (" in s,
                     "the client process never showed")
            check(True, "the live overview shows the client process (python3)")
            # Capabilities are per thread. The UI thread keeps CAP_KILL (`x` signals a
            # process of any user) and CAP_DAC_OVERRIDE (`e` exports) besides what the
            # monitor's threads keep; every other thread has at most the monitor's (the
            # preparer none), and the recorder's writer CAP_DAC_OVERRIDE.
            pids = run(["pgrep", "-f", "^%s -i %s " % (NETSCOPE, nsx.vcli)]).stdout.split()
            check(len(pids) == 1, "one netscope process (%s)" % pids)
            main_caps, other_caps = thread_caps(int(pids[0]))
            check(main_caps == ATTRIBUTION_CAPS | {CAP_KILL, CAP_DAC_OVERRIDE},
                  "the UI thread keeps the monitor's capabilities, CAP_KILL and "
                  "CAP_DAC_OVERRIDE only: %s" % sorted(main_caps))
            # The recorder's writer (--pcap-dir) keeps CAP_DAC_OVERRIDE for its files.
            check(other_caps == ATTRIBUTION_CAPS | {CAP_DAC_OVERRIDE},
                  "the other threads keep the monitor's capabilities and the recorder's "
                  "CAP_DAC_OVERRIDE only: %s" % sorted(other_caps))
            keys("Tab")  # the processes view
            wait(lambda s: "Processes (" in s and "Remotes (" not in s, "no processes view")
            keys("/")
            tmux("send-keys", "-t", "live", "-l", "process:python3")
            keys("Enter")
            wait(lambda s: re.search(r"Processes \(1 of \d+\)", s) is not None,
                 "the filter process:python3 did not keep one process")
            keys("Enter")
            s = wait(lambda s: "DNS queries (" in s and NAME in s and "tui40_client.py" in s,
                     "the process detail lacks its DNS queries or command line")
            check(re.search(r"pid: %d\b" % client.pid, s) is not None,
                  "the process detail shows the client's pid %d" % client.pid)
            with open(log) as f:
                asked = set(f.read().split())
            check(asked == {NAME} and NAME in s,
                  "its DNS history shows the name it asked for (%s)" % NAME)
            check("%s:%d" % (nsx.srv_ip, HTTP_PORT) in s or "%s:%d" % (NAME, HTTP_PORT) in s,
                  "its connections list the server's port %d" % HTTP_PORT)
            # R in the process detail records the process (--pcap-dir armed the recorder).
            keys("R")
            wait(lambda s: "recording python3 (%d)" % client.pid in s, "R did not start recording")
            time.sleep(3)  # the client fetches a page every 0.3 s
            keys("R")
            wait(lambda s: "stopped recording python3 (%d)" % client.pid in s,
                 "a second R did not stop the recording")
            keys("Escape")
            wait(lambda s: "DNS queries (" not in s, "Esc did not close the detail")

            # x names the process and asks; y sends SIGTERM.
            keys("x")
            s = wait(lambda s: "Send SIGTERM to %d (python3)? y/n" % client.pid in s,
                     "x did not ask about the client")
            check(client.poll() is None, "nothing is sent before the answer")
            keys("y")
            try:
                rc = client.wait(timeout=20)
            except subprocess.TimeoutExpired:
                fail("the client did not get SIGTERM")
            check(rc == -signal.SIGTERM, "x then y delivers SIGTERM to the client (%d)" % rc)

            keys("q")
            keys("q")
            s = wait(lambda s: "STTY-DONE" in s, "netscope did not quit")
            m = re.search(r"EXIT=(\d+)\s*\n(.*)STTY-DONE", s, re.S)
            stty = " " + m.group(2).replace("\n", " ") + " "
            check(m.group(1) == "0" and " icanon " in stty and " echo " in stty,
                  "quit: exit 0 and the terminal restored")
            files = [f for f in os.listdir(rec) if f.startswith("capture_python3_%d_" % client.pid)]
            check(len(files) == 1, "R wrote one recording of the client: %s" % os.listdir(rec))
            path = os.path.join(rec, files[0])
            check(os.stat(path).st_mode & 0o777 == 0o600, "the recording is mode 0600")
            r = run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "tcp.port", "-e",
                     "udp.port", "-e", "frame.comment"])
            rows = [l.split("\t") for l in r.stdout.splitlines() if l.strip()]
            check(r.returncode == 0 and len(rows) > 10,
                  "tshark reads the recording (%d packets)" % len(rows))
            ports = {str(HTTP_PORT), "53"}
            check(all(ports & set((row[0] + "," + row[1]).split(",")) for row in rows),
                  "every recorded packet is the client's HTTP or DNS traffic")
            check(all("pid=%d" % client.pid in row[2] for row in rows),
                  "every packet carries the client's pid in its comment")
    finally:
        tmux("kill-server", check_rc=False)
        shutil.rmtree(out, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
