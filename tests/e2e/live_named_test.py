#!/usr/bin/python3
"""Live monitor, named processes: real iperf3 (TCP and UDP), curl against
python3 -m http.server, and a plain UDP sender between two namespaces, with netscope
(`snapshot`) in the client namespace. Checked against independent oracles:
- the process name and pid of each connection against the pids we started;
- payload bytes against what the senders report (within 1%);
- IP bytes against the sum of IP lengths in a tcpdump capture of the same traffic;
- remote addresses and TCP states.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (Capture, Namespaces, capture_complete_run, check, fail,  # noqa
                    need_root_and_netns, run, tmpdir)
from live_common import (Netscope, connections, ip_bytes_by_flow, load_snapshot,  # noqa
                         duplicate_payload, wait_ready, within)

UDP_SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 41234))
for i in range(500):
    s.sendto(b"x" * 1000, (sys.argv[1], 9999))
    if i % 50 == 0:
        time.sleep(0.01)
"""


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    # A loaded machine can make the kernel drop packets before netscope or tcpdump reads
    # them; that says nothing about netscope's counting, so such a run is repeated.
    capture_complete_run(3, lambda: run_once(netscope))
    print("PASS")


def run_once(netscope):
    work = tmpdir()
    with Namespaces(31) as nsx:
        web = os.path.join(work, "www")
        os.makedirs(web)
        with open(os.path.join(web, "blob"), "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        nsx.spawn(nsx.srv, ["iperf3", "-s", "-p", "5201"])
        nsx.spawn(nsx.srv, ["python3", "-m", "http.server", "8080", "--bind", nsx.srv_ip,
                            "--directory", web])
        # A UDP sink, so that the sender's datagrams are not answered with ICMP errors.
        nsx.spawn(nsx.srv, ["python3", "-c", "import socket\ns=socket.socket(2,2)\n"
                            "s.bind(('0.0.0.0',9999))\nwhile True: s.recv(65535)"])
        nsx.wait_port(nsx.srv, 5201)
        nsx.wait_port(nsx.srv, 8080)

        pcap = os.path.join(work, "oracle.pcap")
        cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
        snap_path = os.path.join(work, "snapshot.json")
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["snapshot", "-i", nsx.vcli, "--duration", "14", "--refresh", "500",
                       "-n", "--output", snap_path], os.path.join(work, "netscope.out"))
        wait_ready(nsx, nsx.cli)

        tcp = nsx.spawn(nsx.cli, ["iperf3", "-c", nsx.srv_ip, "-p", "5201", "-t", "2", "-J",
                                  "-b", "100M"], stdout=subprocess_pipe())
        tcp_out, _ = tcp.communicate(timeout=60)
        udp = nsx.spawn(nsx.cli, ["iperf3", "-c", nsx.srv_ip, "-p", "5201", "-u", "-b", "20M",
                                  "-t", "2", "-J"], stdout=subprocess_pipe())
        udp_out, _ = udp.communicate(timeout=60)
        curl = nsx.spawn(nsx.cli, ["curl", "-s", "-o", "/dev/null", "-w",
                                   "%{local_port} %{size_download} %{size_header}",
                                   "http://%s:8080/blob" % nsx.srv_ip], stdout=subprocess_pipe())
        curl_out, _ = curl.communicate(timeout=60)
        sender = nsx.spawn(nsx.cli, ["python3", "-c", UDP_SENDER, nsx.srv_ip])
        sender.wait(timeout=60)

        rc = ns.wait(60)
        incomplete = cap.stop()
        check(rc == 0, "netscope snapshot exits 0 (stderr: %s)" % ns.stderr().strip()[-500:])
        doc = load_snapshot(snap_path)
        oracle = ip_bytes_by_flow(pcap)
        drops = sum(i["drops"] for i in doc["interfaces"])
        if drops:
            return None, "netscope reports %d kernel drops" % drops
        if incomplete:
            return None, incomplete

        # iperf3 TCP: the data connection is the one whose local port iperf3 reports.
        tj = json.loads(tcp_out)
        data_port = tj["start"]["connected"][0]["local_port"]
        sent = tj["end"]["sum_sent"]["bytes"]
        cs = connections(doc, local_port=data_port, remote_port=5201, proto="tcp")
        check(len(cs) == 1, "iperf3 TCP data connection found (port %d)" % data_port)
        c = cs[0]
        check(c["process"] == "iperf3" and c["pid"] == tcp.pid,
              "iperf3 TCP attributed to iperf3 pid %d: %s/%s (%s)" %
              (tcp.pid, c["process"], c["pid"], c["attribution"]))
        check(c["attribution"] == "exact", "iperf3 TCP attribution is exact")
        check(c["remote_addr"] == nsx.srv_ip, "remote address is the server")
        # The wire carries resent bytes again; iperf3 counts them once.
        again = duplicate_payload(pcap, data_port, 5201)
        check(within(c["payload_bytes_up"] - again, sent, 0.01),
              "TCP payload up %d (%d sent again) within 1%% of iperf3's %d" %
              (c["payload_bytes_up"], again, sent))
        check(c["closed"] and c["state"] in ("CLOSED", "TIME_WAIT", "FIN_WAIT2", "LAST_ACK"),
              "finished TCP connection is closed (state %s)" % c["state"])
        key = (6,) + tuple(sorted((data_port, 5201)))
        check(c["bytes_up"] + c["bytes_down"] == oracle[key],
              "TCP IP bytes %d equal tcpdump's %d" % (c["bytes_up"] + c["bytes_down"], oracle[key]))

        # iperf3 UDP.
        uj = json.loads(udp_out)
        usent = uj["end"]["sum"]["bytes"]
        us = [c for c in connections(doc, remote_port=5201, proto="udp")]
        check(len(us) == 1, "one iperf3 UDP flow")
        u = us[0]
        check(u["process"] == "iperf3" and u["pid"] == udp.pid,
              "iperf3 UDP attributed to pid %d: %s/%s" % (udp.pid, u["process"], u["pid"]))
        check(within(u["payload_bytes_up"], usent, 0.01),
              "UDP payload up %d within 1%% of iperf3's %d" % (u["payload_bytes_up"], usent))

        # curl: the body plus the response headers.
        port, size, header = (int(x) for x in curl_out.split())
        cc = connections(doc, local_port=port, remote_port=8080)
        check(len(cc) == 1, "curl connection found")
        k = cc[0]
        check(k["process"] == "curl" and k["pid"] == curl.pid,
              "curl attributed to pid %d: %s/%s" % (curl.pid, k["process"], k["pid"]))
        again = duplicate_payload(pcap, 8080, port)
        check(within(k["payload_bytes_down"] - again, size + header, 0.01),
              "curl payload down %d (%d sent again) within 1%% of %d" %
              (k["payload_bytes_down"], again, size + header))
        key = (6,) + tuple(sorted((port, 8080)))
        check(k["bytes_up"] + k["bytes_down"] == oracle[key], "curl IP bytes equal tcpdump's")

        # The plain UDP sender: 500 datagrams of 1000 bytes, exactly.
        ss = connections(doc, local_port=41234, remote_port=9999)
        check(len(ss) == 1, "UDP sender flow found")
        s = ss[0]
        check(s["process"] == "python3" and s["pid"] == sender.pid,
              "UDP sender attributed to python3 pid %d: %s/%s (%s)" %
              (sender.pid, s["process"], s["pid"], s["attribution"]))
        check(s["payload_bytes_up"] == 500 * 1000 and s["packets_up"] == 500,
              "UDP sender payload is exactly 500 x 1000 bytes")
        check(s["bytes_up"] == 500 * 1028, "UDP sender IP bytes are 500 x 1028")

        # Process records: iperf3 and curl are known, with totals and exited set.
        procs = {p["pid"]: p for p in doc["processes"] if p["pid"] is not None}
        check(tcp.pid in procs and procs[tcp.pid]["name"] == "iperf3", "iperf3 process listed")
        check(procs[curl.pid]["exited"] is True, "curl is marked exited")
        check(procs[curl.pid]["bytes_down"] >= size, "curl process bytes_down >= body size")
        check(doc["totals"]["bytes_up"] > 0 and doc["totals"]["bytes_down"] > 0, "totals filled")
    return None, None


def subprocess_pipe():
    import subprocess
    return subprocess.PIPE


if __name__ == "__main__":
    main()
