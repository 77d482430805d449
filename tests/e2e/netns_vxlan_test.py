#!/usr/bin/env python3
"""A real VXLAN tunnel between two network namespaces (the kernel's vxlan driver), an HTTP
download through it, captured on the outer veth. netscope must decode the inner packets,
track the inner TCP connection as its own conversation with the tunnel recorded (type,
VNI, outer addresses), and count the same inner bytes as tshark's VXLAN dissection."""
import json
import os
import shutil
import sys
import time

from common import (Capture, Namespaces, analyze_json, capture_complete_run, check, fail,
                    need_root_and_netns, run, tmpdir)

netscope, pcaps = sys.argv[1], sys.argv[2]
need_root_and_netns()

VNI = 4242
work = tmpdir()
try:
    with Namespaces(os.getpid() % 1000 + 5000) as nsx:
        inner = {nsx.cli: "192.168.77.1", nsx.srv: "192.168.77.2"}
        outer_peer = {nsx.cli: nsx.srv_ip, nsx.srv: nsx.cli_ip}
        outer_self = {nsx.cli: nsx.cli_ip, nsx.srv: nsx.srv_ip}
        dev = {nsx.cli: nsx.vcli, nsx.srv: nsx.vsrv}
        for ns in (nsx.cli, nsx.srv):
            r = nsx.sh(ns, ["ip", "link", "add", "vx0", "type", "vxlan", "id", str(VNI),
                            "remote", outer_peer[ns], "local", outer_self[ns], "dev", dev[ns],
                            "dstport", "4789"], check_rc=False)
            if r.returncode != 0:
                print("skip: no vxlan support in this kernel: " + r.stderr.strip())
                sys.exit(77)
            nsx.sh(ns, ["ip", "addr", "add", inner[ns] + "/24", "dev", "vx0"])
            nsx.sh(ns, ["ip", "link", "set", "vx0", "up"])
        www = os.path.join(work, "www")
        os.mkdir(www)
        with open(os.path.join(www, "f.bin"), "wb") as f:
            f.write(os.urandom(200 * 1024))
        nsx.spawn(nsx.srv, ["python3", "-m", "http.server", "8000", "--bind", inner[nsx.srv],
                            "--directory", www])
        nsx.wait_port(nsx.srv, 8000)
        pcap = os.path.join(work, "vxlan.pcap")

        def once():
            cap = Capture(nsx, nsx.cli, nsx.vcli, pcap)
            nsx.sh(nsx.cli, ["curl", "-s", "-o", os.devnull, "--max-time", "20",
                             "http://%s:8000/f.bin" % inner[nsx.srv]], timeout=60)
            return None, cap.stop()
        capture_complete_run(3, once)

    rc, doc, err = analyze_json(netscope, pcap)
    check(rc == 0, "the VXLAN capture is analyzed")
    http = [c for c in doc["conversations"]
            if c["proto"] == "tcp" and c["server"]["port"] == 8000]
    check(len(http) == 1, "the inner HTTP connection is one conversation")
    c = http[0]
    check(c["client"]["addr"] == "192.168.77.1" and c["server"]["addr"] == "192.168.77.2",
          "inner addresses, not the outer ones")
    t = c["tunnel"]
    check(t is not None and t["type"] == "vxlan" and t["id"] == VNI, "tunnel recorded: %s" % t)
    check({t["outer_src"], t["outer_dst"]} == {nsx.cli_ip, nsx.srv_ip},
          "outer addresses recorded")
    r = run(["tshark", "-n", "-r", pcap, "-d", "udp.port==4789,vxlan", "-Y",
             "vxlan && tcp.port == 8000", "-T", "fields", "-e", "tcp.len", "-e", "ip.len"])
    lens = [l.split("\t") for l in r.stdout.splitlines() if l.strip()]
    tcp_payload = sum(int(a) for a, _ in lens)
    # ip.len has two occurrences per packet (outer, inner): the inner one is last.
    inner_ip = sum(int(b.split(",")[-1]) for _, b in lens)
    ours_payload = c["c2s"]["payload_bytes"] + c["s2c"]["payload_bytes"]
    ours_ip = c["c2s"]["bytes"] + c["s2c"]["bytes"]
    check(ours_payload == tcp_payload and tcp_payload > 200 * 1024,
          "inner payload bytes %d == tshark %d" % (ours_payload, tcp_payload))
    check(ours_ip == inner_ip, "inner IP bytes %d == tshark %d" % (ours_ip, inner_ip))
    check(c["c2s"]["retransmissions"] == 0 and c["s2c"]["retransmissions"] == 0,
          "no retransmissions inside a clean tunnel")
finally:
    shutil.rmtree(work, ignore_errors=True)
