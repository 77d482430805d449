#!/usr/bin/python3
"""Live monitor, containers: a process in a third namespace (a "container") whose
traffic is routed through netscope's namespace is attributed to that process. From
netscope's namespace the connection is forwarded traffic (neither address is local); the
owner is found by querying sock_diag inside the container's namespace.

The curls also run in cgroups named as a runtime and systemd name theirs (a docker scope,
a service), where the machine lets us make cgroups: the process records carry the
container id and runtime, or the unit, read from /proc/<pid>/cgroup."""
import json
import sqlite3
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (SLOW_HTTP_SERVER, Namespaces, check, fail, need_root_and_netns, run,  # noqa
                    tmpdir)
from live_common import (ATTRIBUTION_CAPS, Netscope, connections, settled_caps,  # noqa
                         load_snapshot, wait_ready)

CONTAINER_ID = "3c0ffee5" * 8  # 64 hex digits, as docker names a container


def cgroup2_root():
    """Where cgroup v2 is mounted: the unified hierarchy of a hybrid set-up or the root."""
    for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(root, "cgroup.procs")) and \
                os.path.exists(os.path.join(root, "cgroup.subtree_control")):
            return root
    return None


def make_cgroups():
    """A docker-like scope and a service, or None when this machine will not let us."""
    root = cgroup2_root()
    if root is None:
        return None
    made = {"docker": os.path.join(root, "system.slice", "docker-%s.scope" % CONTAINER_ID),
            "service": os.path.join(root, "system.slice", "netscope-e2e-33.service")}
    try:
        for path in made.values():
            os.makedirs(path, exist_ok=True)
    except OSError as e:
        print("note: cannot make cgroups under %s (%s): container fields not checked" % (root, e))
        remove_cgroups(made)
        return None
    return made


def remove_cgroups(made):
    root = cgroup2_root()
    for path in list(made.values()) + [os.path.join(root, "system.slice")]:
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                for pid in f.read().split():
                    with open(os.path.join(root, "cgroup.procs"), "w") as back:
                        back.write(pid)
            os.rmdir(path)
        except OSError:
            pass


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    work = tmpdir()
    with Namespaces(33) as nsx:
        box = "nsbox-33"
        run(["ip", "netns", "del", box])
        cgroups = None
        try:
            cgroups = make_cgroups()
            run(["ip", "netns", "add", box], check=True)
            run(["ip", "link", "add", "vbox33", "type", "veth", "peer", "name", "vhost33"],
                check=True)
            run(["ip", "link", "set", "vbox33", "netns", box], check=True)
            run(["ip", "link", "set", "vhost33", "netns", nsx.cli], check=True)
            nsx.sh(box, ["ip", "addr", "add", "10.90.33.2/24", "dev", "vbox33"])
            nsx.sh(box, ["ip", "link", "set", "vbox33", "up"])
            nsx.sh(box, ["ip", "link", "set", "lo", "up"])
            nsx.sh(box, ["ip", "route", "add", "default", "via", "10.90.33.1"])
            nsx.sh(nsx.cli, ["ip", "addr", "add", "10.90.33.1/24", "dev", "vhost33"])
            nsx.sh(nsx.cli, ["ip", "link", "set", "vhost33", "up"])
            nsx.sh(nsx.cli, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
            nsx.sh(nsx.srv, ["ip", "route", "add", "10.90.33.0/24", "via", nsx.cli_ip])
            web = os.path.join(work, "www")
            os.makedirs(web)
            with open(os.path.join(web, "f"), "wb") as f:
                f.write(b"c" * 100000)
            nsx.spawn(nsx.srv, ["python3", "-c", SLOW_HTTP_SERVER, nsx.srv_ip, "8080", web])
            nsx.wait_port(nsx.srv, 8080)
            snap_path = os.path.join(work, "snapshot.json")
            db_path = os.path.join(work, "events.db")
            # Capture only on the interface towards the server: the container's traffic
            # crosses it forwarded.
            ns = Netscope(nsx, nsx.cli, netscope,
                          ["snapshot", "-i", nsx.vcli, "--duration", "600", "-n",
                           "--output", snap_path, "--db", db_path],
                          os.path.join(work, "netscope.out"))
            wait_ready(nsx, nsx.cli)
            caps = settled_caps(ns.p.pid, ATTRIBUTION_CAPS)
            check(caps == ATTRIBUTION_CAPS, "after start-up only the capture's and attribution's "
                  "capabilities are left (effective: %s)" % sorted(caps))
            runs = []
            for i in range(5):
                curl = ["ip", "netns", "exec", box, "curl", "-s", "-o", "/dev/null",
                        "-w", "%{local_port}", "http://%s:8080/f" % nsx.srv_ip]
                where = None
                if cgroups:
                    # The shell joins the cgroup, then becomes ip, which becomes curl.
                    where = "docker" if i % 2 == 0 else "service"
                    curl = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"',
                            cgroups[where]] + curl
                p = subprocess.Popen(curl, stdout=subprocess.PIPE, text=True)
                out, _ = p.communicate(timeout=30)
                check(p.returncode == 0, "curl from the container works")
                runs.append((p.pid, int(out), where))
            rc = ns.stop()
            check(rc == 0, "netscope exits 0 (stderr: %s)" % ns.stderr().strip()[-300:])
            doc = load_snapshot(snap_path)
            db = sqlite3.connect(db_path)
            for pid, port, where in runs:
                cs = connections(doc, local_port=port, remote_port=8080, proto="tcp")
                near = [c for c in doc["connections"]
                        if port in (c.get("local_port"), c.get("remote_port"))]
                check(len(cs) == 1, "container connection from port %d seen (records with that "
                      "port: %s)" % (port, json.dumps(near)))
                c = cs[0]
                check(c["pid"] == pid and c["process"] == "curl",
                      "container curl pid %d attributed: %s/%s (%s)" %
                      (pid, c["process"], c["pid"], c["attribution"]))
                check(c["local_addr"] == "10.90.33.2", "local side is the container's address")
                check(c["payload_bytes_down"] >= 100000, "download counted as down")
                if where is None:
                    continue
                procs = [p for p in doc["processes"] if p.get("pid") == pid]
                check(len(procs) == 1, "process record of curl pid %d" % pid)
                p = procs[0]
                if where == "docker":
                    check(p["container"] == CONTAINER_ID[:12] and
                          p["container_runtime"] == "docker" and p["unit"] is None,
                          "curl in a docker scope: container %s, runtime %s, unit %s" %
                          (p["container"], p["container_runtime"], p["unit"]))
                else:
                    check(p["unit"] == "netscope-e2e-33.service" and p["container"] is None and
                          p["container_runtime"] is None and p["pod_uid"] is None,
                          "curl in a service: unit %s, container %s" % (p["unit"], p["container"]))
                # The event log's row says the same (schema 2 columns).
                rows = db.execute("SELECT pid, container, container_runtime, pod_uid, unit FROM "
                                  "connections WHERE local_port = ? AND remote_port = 8080",
                                  (port,)).fetchall()
                want = (pid, p["container"], p["container_runtime"], p["pod_uid"], p["unit"])
                check(rows == [want], "event log row of port %d: %s, expected %s" %
                      (port, rows, want))
            db.close()
        finally:
            for pid in run(["ip", "netns", "pids", box]).stdout.split():
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            run(["ip", "netns", "del", box])
            if cgroups:
                remove_cgroups(cgroups)
    print("PASS")


if __name__ == "__main__":
    main()
