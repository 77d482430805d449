#!/usr/bin/python3
"""Per-process pcapng recording between two namespaces, checked with tshark/capinfos
against a tcpdump capture of the same interface:
- `--record-process '^curl$'`: one file per curl process, capture_curl_<pid>_<time>.pcapng,
  mode 0600, holding exactly that curl's packets (the tcpdump packets of the local port
  curl itself reports, from the SYN on) and nothing of a python client fetching the same
  server at the same time; every packet carries the comment "process=curl pid=<pid>"; the
  section header names the host and netscope's version. The curls are short-lived: most
  of their packets arrive before attribution and wait in the pre-attribution buffers.
- `--record-pid` with `--pcap-max-mb`: the recording rotates over several files that
  together hold exactly the process's packets.
- a full disk (a 300 KB tmpfs as --pcap-dir) stops the recording with an ALERT while the
  monitor keeps running and exits 0.
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Capture, Namespaces, check, fail, need_root_and_netns, run, tmpdir  # noqa
from live_common import ATTRIBUTION_CAPS, Netscope, settled_caps, wait_ready  # noqa

CAP_DAC_OVERRIDE = 1

FIELDS = ["tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.len"]
PY_CLIENT = """
import sys, urllib.request
for _ in range(3):
    urllib.request.urlopen(sys.argv[1]).read()
"""


def tshark_rows(path, display_filter=None):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields"] + sum((["-e", f] for f in FIELDS), [])
    if display_filter:
        cmd += ["-Y", display_filter]
    r = run(cmd)
    if r.returncode != 0:
        fail("tshark %s: %s" % (path, r.stderr))
    return sorted(l for l in r.stdout.splitlines() if l.strip())


def comments(path):
    r = run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.comment"])
    if r.returncode != 0:
        fail("tshark %s: %s" % (path, r.stderr))
    return r.stdout.splitlines()


def capinfos(path):
    r = run(["capinfos", path])
    if r.returncode != 0:
        fail("capinfos %s: %s" % (path, r.stderr))
    return r.stdout


def kernel_drops(ticks):
    """netscope's own capture drops (the last tick's totals): packets it never saw."""
    with open(ticks) as fh:
        lines = [l for l in fh.read().splitlines() if l.strip()]
    return json.loads(lines[-1])["totals"]["kernel_drops"] if lines else 0


def curl(nsx, url, rate):
    """Runs curl in the client namespace; returns (pid, local port) as curl reports them."""
    p = subprocess.Popen(["ip", "netns", "exec", nsx.cli, "curl", "-s", "-o", "/dev/null",
                          "--limit-rate", rate, "-w", "%{local_port}", url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # `ip netns exec` execs curl: the pid is curl's.
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        fail("curl %s: %d %s" % (url, p.returncode, err))
    return p.pid, int(out.strip())


def phase_process(netscope, nsx, work, url):
    pdir = os.path.join(work, "rec")
    os.mkdir(pdir)
    pcap = os.path.join(work, "oracle.pcap")
    cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
    # The directory belongs to another user (0755): root writes there only with
    # CAP_DAC_OVERRIDE, which the recorder's writer thread must have kept.
    os.chown(pdir, 65534, 65534)
    os.chmod(pdir, 0o755)
    ns = Netscope(nsx, nsx.cli, netscope,
                  ["-i", nsx.vcli, "--json-lines", "-n", "--refresh", "500",
                   "--record-process", "^curl$", "--pcap-dir", pdir, "--log-level", "debug"],
                  os.path.join(work, "ticks.jsonl"))
    wait_ready(nsx, nsx.cli)
    # The recorder's writer thread starts before the monitor drops capabilities: it drops
    # its own, keeping only CAP_DAC_OVERRIDE (files in --pcap-dir).
    want = ATTRIBUTION_CAPS | {CAP_DAC_OVERRIDE}
    caps = settled_caps(ns.p.pid, want)
    check(caps == want, "after start-up no thread has more than attribution's capabilities and "
          "the writer's CAP_DAC_OVERRIDE (effective, all threads: %s)" % sorted(caps))
    other = nsx.spawn(nsx.cli, ["python3", "-c", PY_CLIENT, url])
    curls = [curl(nsx, url, "150k") for _ in range(2)]
    other.wait(timeout=120)
    time.sleep(1.5)  # the last tick decides the last flows
    rc = ns.stop()
    incomplete = cap.stop()
    check(rc == 0, "netscope exits 0 after SIGTERM (stderr: %s)" % ns.stderr()[-400:])
    if incomplete:
        return incomplete
    if kernel_drops(os.path.join(work, "ticks.jsonl")):
        return "netscope's capture dropped packets"
    files = sorted(glob.glob(os.path.join(pdir, "*")))
    print("files:", [os.path.basename(f) for f in files])
    if len(files) != len(curls):
        # What the ticks said about each curl's connection: was it attributed at all?
        with open(os.path.join(work, "ticks.jsonl")) as fh:
            for line in fh:
                tick = json.loads(line)
                for c in tick["connections"]:
                    if c["local_port"] in [port for _, port in curls]:
                        print("tick %s: port %d %s pid %s process %s attribution %s" %
                              (tick["time"], c["local_port"], c["state"], c["pid"],
                               c["process"], c["attribution"]))
        print("netscope stderr:", ns.stderr()[-3000:])
    check(len(files) == len(curls), "one file per curl process (%d of %r) in %s" %
          (len(files), curls, work))
    for pid, port in curls:
        mine = [f for f in files if re.fullmatch(r"capture_curl_%d_\d{8}T\d{6}\.\d{6}Z\.pcapng"
                                                 % pid, os.path.basename(f))]
        check(len(mine) == 1, "curl pid %d has its file capture_curl_%d_<time>.pcapng" % (pid, pid))
        f = mine[0]
        check(os.stat(f).st_mode & 0o777 == 0o600, "%s is mode 0600" % os.path.basename(f))
        got = tshark_rows(f)
        want = tshark_rows(pcap, "tcp.port == %d" % port)
        check(len(want) > 20 and got == want,
              "pid %d: the recording holds exactly tcpdump's %d packets of port %d (got %d)"
              % (pid, len(want), port, len(got)))
        first = tshark_rows(f, "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        check(len(first) == 1, "pid %d: the recording starts with the SYN" % pid)
        c = comments(f)
        check(len(c) == len(got) and all(x == "process=curl pid=%d" % pid for x in c),
              "pid %d: every packet has the comment 'process=curl pid=%d'" % (pid, pid))
        info = capinfos(f)
        check(re.search(r"Capture application:\s+netscope \d+\.\d+\.\d+", info) is not None and
              socket.gethostname() in info,
              "the section header names netscope's version and the host")
    return None


def phase_rotation(netscope, nsx, work, url):
    pdir = os.path.join(work, "rot")
    os.mkdir(pdir)
    pcap = os.path.join(work, "oracle-rot.pcap")
    cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
    # A long-lived process of our own: a python client that fetches twice with a pause.
    client = nsx.spawn(nsx.cli, ["python3", "-c",
                                 "import sys,time,urllib.request\ntime.sleep(3)\n"
                                 "for _ in range(2):\n"
                                 "    urllib.request.urlopen(sys.argv[1]).read()\n"
                                 "    time.sleep(1)\n", url])
    ns = Netscope(nsx, nsx.cli, netscope,
                  ["-i", nsx.vcli, "--json-lines", "-n", "--refresh", "500",
                   "--record-pid", str(client.pid), "--pcap-dir", pdir, "--pcap-max-mb", "0.2"],
                  os.path.join(work, "ticks-rot.jsonl"))
    client.wait(timeout=120)
    time.sleep(1.5)
    rc = ns.stop()
    incomplete = cap.stop()
    check(rc == 0, "netscope exits 0")
    if incomplete:
        return incomplete
    if kernel_drops(os.path.join(work, "ticks-rot.jsonl")):
        return "netscope's capture dropped packets"
    files = sorted(glob.glob(os.path.join(pdir, "capture_python3_%d_*.pcapng" % client.pid)))
    check(len(files) >= 3, "--pcap-max-mb 0.2 rotated the recording over %d files" % len(files))
    check(all(os.path.getsize(f) <= 200_000 for f in files), "every file is within 0.2 MB")
    got = sorted(sum((tshark_rows(f) for f in files), []))
    ports = {int(r.split("\t")[0]) for r in got} | {int(r.split("\t")[1]) for r in got}
    local = sorted(p for p in ports if p != 8060)
    want = tshark_rows(pcap, " || ".join("tcp.port == %d" % p for p in local))
    check(len(local) == 2 and got == want,
          "the files together hold exactly tcpdump's %d packets of the process's 2 "
          "connections (got %d)" % (len(want), len(got)))
    return None


def phase_full_disk(netscope, nsx, work, url):
    pdir = os.path.join(work, "small")
    os.mkdir(pdir)
    if run(["mount", "-t", "tmpfs", "-o", "size=300k", "netscope-e2e-60", pdir]).returncode != 0:
        print("note: cannot mount a tmpfs; full-disk phase skipped")
        return
    try:
        ticks = os.path.join(work, "ticks-full.jsonl")
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["-i", nsx.vcli, "--json-lines", "-n", "--refresh", "500",
                       "--record-process", "^curl$", "--pcap-dir", pdir, "--log-level", "info"],
                      ticks)
        wait_ready(nsx, nsx.cli)
        curl(nsx, url, "400k")
        lines_at_alert = None
        for _ in range(40):
            if "ALERT" in ns.stderr():
                with open(ticks) as fh:
                    lines_at_alert = len(fh.readlines())
                break
            time.sleep(0.25)
        check(lines_at_alert is not None, "a full disk raises an ALERT: " + ns.stderr()[-300:])
        time.sleep(2)
        with open(ticks) as fh:
            later = len(fh.readlines())
        rc = ns.stop()
        check(rc == 0 and later > lines_at_alert,
              "netscope keeps running after the alert (%d -> %d ticks) and exits 0" %
              (lines_at_alert, later))
        check("stopped" in ns.stderr() and "No space left on device" in ns.stderr(),
              "the alert says the recording stopped and why")
    finally:
        run(["umount", pdir])


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    if shutil.which("capinfos") is None or shutil.which("curl") is None:
        print("skip: needs tshark's capinfos and curl")
        sys.exit(77)
    work = tmpdir()
    try:
        for attempt in range(3):
            with Namespaces(60) as nsx:
                web = os.path.join(work, "www")
                os.makedirs(web, exist_ok=True)
                with open(os.path.join(web, "blob"), "wb") as f:
                    f.write(os.urandom(400 * 1024))
                with open(os.path.join(web, "big"), "wb") as f:
                    f.write(os.urandom(1024 * 1024))
                nsx.spawn(nsx.srv, ["python3", "-m", "http.server", "8060", "--bind", nsx.srv_ip,
                                    "--directory", web])
                nsx.wait_port(nsx.srv, 8060)
                base = "http://%s:8060/" % nsx.srv_ip
                sub = os.path.join(work, "run%d" % attempt)
                os.mkdir(sub)
                reason = phase_process(netscope, nsx, sub, base + "blob")
                if reason is None:
                    reason = phase_rotation(netscope, nsx, sub, base + "blob")
                if reason is None:
                    phase_full_disk(netscope, nsx, sub, base + "big")
                    break
                print("capture incomplete (%s), trying again" % reason)
        else:
            fail("the oracle capture stayed incomplete")
    finally:
        if not os.environ.get("NETSCOPE_E2E_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
