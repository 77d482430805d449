#!/usr/bin/python3
"""Prometheus export, checked against the real server: netscope --headless --prometheus
runs in the client namespace while a real `prometheus` (Debian's) scrapes it every second
over that namespace's loopback, and an iperf3 transfer of a known size runs between the
two namespaces. Then, through Prometheus's HTTP API (/api/v1/query):
- the iperf3 process series (netscope_process_bytes_total{process="iperf3"}, up + down)
  grew by the transfer's IP bytes, within 2%, as counted by tcpdump on the same interface
  (the oracle; IP bytes on both sides, Conventions);
- the sender's own byte count (iperf3 -J, payload) is below those IP bytes by no more than
  the TCP/IP headers of the packets tcpdump saw;
- Prometheus saw no counter reset in any netscope series (resets() over the run is 0) and
  its target was up;
and `promtool check metrics` accepts a scrape, and every query of the Grafana dashboard
(contrib/grafana-dashboard.json) runs in that Prometheus on metrics netscope exports.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (Capture, Namespaces, check, fail, need_root_and_netns, run,  # noqa
                    tmpdir)
from live_common import Netscope, ip_bytes_by_flow, within  # noqa

TAG = 45
EXPORTER_PORT = 9145
PROMETHEUS_PORT = 9146
IPERF_PORT = 5245
TRANSFER_BYTES = 40 * 1024 * 1024

PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: netscope
    static_configs:
      - targets: ["127.0.0.1:%d"]
""" % EXPORTER_PORT


def query(nsx, expr):
    """Runs an instant query in Prometheus; the result vector (list of samples)."""
    r = nsx.sh(nsx.cli, ["curl", "-sS", "--max-time", "10",
                         "http://127.0.0.1:%d/api/v1/query" % PROMETHEUS_PORT,
                         "--data-urlencode", "query=" + expr], check_rc=False)
    if r.returncode != 0:
        return None
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        return None
    if doc.get("status") != "success":
        fail("query %r failed: %s" % (expr, r.stdout[:500]))
    return doc["data"]["result"]


def scalar(nsx, expr):
    """The single value of an instant query, or None when it has no sample."""
    res = query(nsx, expr)
    if not res:
        return None
    return float(res[0]["value"][1])


def wait_for(what, fn, attempts=120, delay=0.5):
    for _ in range(attempts):
        v = fn()
        if v is not None:
            return v
        time.sleep(delay)
    fail("timed out waiting for " + what)


def settled(nsx, expr, attempts=60):
    """The value of `expr` once two consecutive scrapes agree (the transfer is over and
    netscope has folded its last packets into a tick that Prometheus scraped)."""
    last = None
    same = 0
    for _ in range(attempts):
        v = scalar(nsx, expr)
        if v is not None and v == last:
            same += 1
            if same >= 3:
                return v
        else:
            same = 0
        last = v
        time.sleep(1.0)
    fail("%s did not settle (last %r)" % (expr, last))


def check_dashboard(nsx, scrape):
    """Every query of contrib/grafana-dashboard.json runs in the real Prometheus, and every
    netscope metric it names is in the exposition."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib",
                        "grafana-dashboard.json")
    with open(path) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exposed = set()
    for line in scrape.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            exposed.add(name)
            if kind == "histogram":
                exposed.update(name + suffix for suffix in ("_bucket", "_sum", "_count"))
    bad = []
    for expr in exprs:
        for name in re.findall(r"\bnetscope_[a-z_]+", expr):
            if name not in exposed:
                bad.append("%s (in %s)" % (name, expr))
        q = expr.replace("$__rate_interval", "15s").replace("$instance", ".*")
        r = nsx.sh(nsx.cli, ["curl", "-sS", "--max-time", "10",
                             "http://127.0.0.1:%d/api/v1/query" % PROMETHEUS_PORT,
                             "--data-urlencode", "query=" + q], check_rc=False)
        try:
            ok = json.loads(r.stdout).get("status") == "success"
        except ValueError:
            ok = False
        if not ok:
            bad.append("%s: %s" % (q, r.stdout[:200]))
    check(len(exprs) >= 15 and not bad,
          "the Grafana dashboard's %d queries run in Prometheus on exported metrics%s" %
          (len(exprs), (": " + "; ".join(bad)) if bad else ""))


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    for tool in ("prometheus", "promtool", "iperf3", "tcpdump", "tshark", "curl"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            fail("%s is not installed (scripts/setup installs it)" % tool)
    work = tmpdir()
    with Namespaces(TAG) as nsx:
        nsx.spawn(nsx.srv, ["iperf3", "-s", "-p", str(IPERF_PORT)])
        nsx.wait_port(nsx.srv, IPERF_PORT)
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["-i", nsx.vcli, "--headless", "--no-config", "-n", "--refresh", "500",
                       "--prometheus", "127.0.0.1:%d" % EXPORTER_PORT],
                      os.path.join(work, "netscope.out"))
        nsx.wait_port(nsx.cli, EXPORTER_PORT)

        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write(PROMETHEUS_CONFIG)
        tsdb = os.path.join(work, "tsdb")
        os.makedirs(tsdb)
        prom_log = open(os.path.join(work, "prometheus.log"), "w")
        nsx.spawn(nsx.cli, ["prometheus", "--config.file=" + config,
                            "--storage.tsdb.path=" + tsdb,
                            "--web.listen-address=127.0.0.1:%d" % PROMETHEUS_PORT],
                  stderr=prom_log, stdout=prom_log)
        nsx.wait_port(nsx.cli, PROMETHEUS_PORT, timeout=60)
        wait_for("the netscope target to be up in Prometheus",
                 lambda: scalar(nsx, 'up{job="netscope"} == 1'))
        check(True, "Prometheus scrapes netscope")

        # promtool on a scrape, straight from the endpoint.
        scrape = nsx.sh(nsx.cli, ["curl", "-sS", "--max-time", "10",
                                  "http://127.0.0.1:%d/metrics" % EXPORTER_PORT]).stdout
        lint = run(["promtool", "check", "metrics"], input=scrape)
        check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
              "promtool check metrics accepts the exposition (rc %d: %s%s)" %
              (lint.returncode, lint.stdout.strip()[:300], lint.stderr.strip()[:300]))

        expr_total = 'sum(netscope_process_bytes_total{process="iperf3"})'
        expr_drops = 'sum(netscope_kernel_drops_total)'
        for attempt in range(3):
            before = scalar(nsx, expr_total) or 0.0
            drops_before = settled(nsx, expr_drops)
            pcap = os.path.join(work, "oracle-%d.pcap" % attempt)
            cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
            client = nsx.spawn(nsx.cli, ["iperf3", "-c", nsx.srv_ip, "-p", str(IPERF_PORT),
                                         "-n", str(TRANSFER_BYTES), "-b", "300M", "-J"],
                               stdout=subprocess.PIPE)
            out, _ = client.communicate(timeout=120)
            check(client.returncode == 0, "iperf3 transfer %d ran" % attempt)
            sent = json.loads(out)["end"]["sum_sent"]["bytes"]
            after = settled(nsx, expr_total)
            drops_after = settled(nsx, expr_drops)
            incomplete = cap.stop()
            if incomplete is None and drops_after > drops_before:
                incomplete = "netscope's capture lost %d packets to the kernel" % (
                    drops_after - drops_before)
            if incomplete is not None:
                print("capture incomplete (%s), trying again" % incomplete)
                continue
            flows = ip_bytes_by_flow(pcap)
            oracle = sum(v for k, v in flows.items() if k[0] == 6 and IPERF_PORT in k[1:])
            r = run(["tshark", "-n", "-r", pcap, "-Y", "tcp.port == %d" % IPERF_PORT, "-T",
                     "fields", "-e", "frame.number"])
            packets = len(r.stdout.split())
            grown = after - before
            print("iperf3 sent %d payload bytes; tcpdump: %d IP bytes in %d packets; "
                  "Prometheus: the iperf3 series grew by %d" % (sent, oracle, packets, grown))
            check(sent >= TRANSFER_BYTES, "iperf3 sent the whole transfer")
            check(oracle > sent and oracle - sent <= packets * 80,
                  "the oracle's IP bytes are the payload plus headers")
            check(within(grown, oracle, 0.02),
                  "the iperf3 process series in Prometheus grew by the transfer's IP bytes "
                  "within 2%% (%d vs %d, %.3f%%)" % (grown, oracle,
                                                     100.0 * (grown - oracle) / oracle))
            break
        else:
            fail("three transfers in a row lost packets in capture")

        up = scalar(nsx, 'sum(netscope_process_bytes_total{process="iperf3",direction="up"})')
        check(up is not None and up > TRANSFER_BYTES,
              "the upload is on the up series (%r)" % up)
        counters = [line.split()[2] for line in scrape.splitlines()
                    if line.startswith("# TYPE ") and line.endswith(" counter")]
        check(len(counters) >= 10, "the scrape has counters: %s" % ", ".join(counters))
        went_back = {}
        for name in counters:
            n = scalar(nsx, "sum(resets(%s[10m]))" % name)
            if n:
                went_back[name] = n
        check(not went_back, "no netscope counter went backwards in Prometheus: %r" % went_back)
        samples = scalar(nsx, 'count({__name__=~"netscope_process_bytes_total"})')
        check(samples is not None and samples <= 2 * 21,
              "process series stay within --prometheus-top (20) + other: %r" % samples)

        check_dashboard(nsx, scrape)

        rc = ns.stop()
        check(rc == 0, "netscope exits 0 on SIGTERM (stderr: %s)" % ns.stderr().strip()[-500:])
        check(ns.stdout() == "", "--headless writes nothing to stdout")
    print("PASS")


if __name__ == "__main__":
    main()
