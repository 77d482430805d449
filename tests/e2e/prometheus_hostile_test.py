#!/usr/bin/python3
"""Hostile clients against the --prometheus endpoint, with netscope monitoring real
traffic in a namespace (a UDP trickle between the two namespaces keeps it busy):
- slowloris: a request that starts and never ends gets 408 and is closed (the endpoint's
  request timeout is 5 s; the test only waits, boundedly, for the answer), and scrapes
  made meanwhile are served;
- a malformed request line gets 400, a request to an unknown path 404, a POST 405;
- oversized headers (100 KB) get 431 and do not grow netscope's memory without bound;
- a flood of 600 connections that never send anything: netscope holds at most its 64
  connection slots (its open file descriptors are counted in /proc), new scrapes are still
  answered, and the monitor keeps ticking (netscope_ticks_total and netscope_packets_total
  go on growing during the flood);
- afterwards /healthz is 200 and netscope exits 0 on SIGTERM.
The test's own sockets are opened inside the client namespace (setns).
"""
import contextlib
import ctypes
import os
import re
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Namespaces, check, fail, need_root_and_netns, tmpdir  # noqa
from live_common import Netscope  # noqa

TAG = 46
PORT = 9147
MAX_CONNECTIONS = 64  # output::ExporterConfig::max_connections

# Twenty small datagrams a second to the server namespace, for as long as the test runs.
TRAFFIC = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"x" * 100, (sys.argv[1], 9))
    time.sleep(0.05)
"""


CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    # os.setns needs Python 3.12; Debian 12 has 3.11.
    if LIBC.setns(fd, CLONE_NEWNET) != 0:
        fail("setns: %s" % os.strerror(ctypes.get_errno()))


@contextlib.contextmanager
def in_netns(name):
    """Sockets created inside this block belong to namespace `name`."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/var/run/netns/" + name, os.O_RDONLY)
    try:
        setns(target)
        yield
    finally:
        setns(own)
        os.close(own)
        os.close(target)


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    return s


def read_until_closed(s, seconds):
    """Everything the server sends until it closes the connection, within `seconds`."""
    s.setblocking(False)
    out = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        try:
            data = s.recv(65536)
        except (ConnectionResetError, BlockingIOError):
            break
        if not data:
            break
        out += data
    return out


def status(response):
    line = response.split(b"\r\n", 1)[0].decode(errors="replace")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", line)
    return int(m.group(1)) if m else None


def request(raw, seconds=20):
    s = connect()
    try:
        s.sendall(raw)
        return read_until_closed(s, seconds)
    finally:
        s.close()


def scrape(seconds=20):
    """A whole GET /metrics; (status, body)."""
    resp = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", seconds)
    head, _, body = resp.partition(b"\r\n\r\n")
    return status(resp), body.decode(errors="replace")


def metric(body, name):
    m = re.search(r"^%s (\d+(?:\.\d+)?)$" % re.escape(name), body, re.M)
    return float(m.group(1)) if m else None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_targets(pid):
    targets = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            targets.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return sorted(targets)


def main():
    netscope = sys.argv[1]
    need_root_and_netns()
    work = tmpdir()
    with Namespaces(TAG) as nsx:
        ns = Netscope(nsx, nsx.cli, netscope,
                      ["-i", nsx.vcli, "--headless", "--no-config", "-n", "--refresh", "300",
                       "--no-attribution", "--prometheus", "127.0.0.1:%d" % PORT],
                      os.path.join(work, "netscope.out"))
        nsx.wait_port(nsx.cli, PORT)
        nsx.spawn(nsx.cli, ["python3", "-c", TRAFFIC, nsx.srv_ip])
        pid = ns.p.pid
        with in_netns(nsx.cli):
            for _ in range(100):
                code, body = scrape()
                if code == 200 and (metric(body, "netscope_ticks_total") or 0) >= 2:
                    break
                time.sleep(0.1)
            check(code == 200, "GET /metrics answers 200")
            baseline_fds = fd_count(pid)

            # Slowloris: a request line and one header, then nothing (two such clients).
            slow = [connect() for _ in range(2)]
            for s in slow:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            code, _ = scrape()
            check(code == 200, "a scrape is served while slow requests hang")
            for s in slow:
                got = read_until_closed(s, 30)
                check(status(got) == 408, "an unfinished request gets 408 (%r)" % got[:60])
                s.close()
            # A trickle: one byte a second still has to finish within the request timeout.
            trickle = connect()
            start = time.time()
            got = b""
            for ch in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60:
                try:
                    trickle.sendall(bytes([ch]))
                except OSError:
                    break
                r, _, _ = select.select([trickle], [], [], 1.0)
                if r:
                    got = read_until_closed(trickle, 5)
                    break
                if time.time() - start > 30:
                    break
            trickle.close()
            check(status(got) == 408, "a request sent a byte a second is cut off with 408 (%r)"
                  % got[:60])

            # Malformed, wrong and oversized requests.
            check(status(request(b"HELLO\r\n\r\n")) == 400, "a malformed request line gets 400")
            check(status(request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"))
                  == 400, "a header line without a colon gets 400")
            check(status(request(b"GET /metrics HTTP/3.0\r\nHost: x\r\n\r\n")) == 505,
                  "HTTP/3.0 gets 505")
            check(status(request(b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n")) == 404,
                  "an unknown path gets 404")
            check(status(request(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                 b"\r\n")) == 405, "POST gets 405")
            big = (b"GET /metrics HTTP/1.1\r\nHost: x\r\n" +
                   b"".join(b"X-Pad-%d: %s\r\n" % (i, b"b" * 1000) for i in range(100)) +
                   b"\r\n")
            got = request(big)
            check(status(got) in (413, 431), "100 KB of headers get 431 (%r)" % got[:60])
            check(status(request(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n")) == 414,
                  "a 20 KB request line gets 414")

            # A flood of silent connections.
            _, body = scrape()
            ticks_before = metric(body, "netscope_ticks_total")
            packets_before = metric(body, "netscope_packets_total")
            flood = []
            refused = 0
            for _ in range(600):
                try:
                    s = socket.socket()
                    s.setblocking(False)
                    s.connect_ex(("127.0.0.1", PORT))
                    flood.append(s)
                except OSError:
                    refused += 1
            time.sleep(1.0)
            most_fds = 0
            served = 0
            for _ in range(6):
                most_fds = max(most_fds, fd_count(pid))
                code, body = scrape()
                if code == 200:
                    served += 1
                time.sleep(0.5)
            check(most_fds <= baseline_fds + MAX_CONNECTIONS + 2,
                  "netscope holds at most %d connections during a flood of 600 (fds %d, before "
                  "%d)" % (MAX_CONNECTIONS, most_fds, baseline_fds))
            check(served >= 1, "scrapes are served during the flood (%d of 6)" % served)
            code, body = scrape()
            check(code == 200, "a scrape after the flood's first seconds is answered")
            check(metric(body, "netscope_ticks_total") > ticks_before,
                  "the monitor keeps ticking during the flood (%s -> %s ticks)" %
                  (ticks_before, metric(body, "netscope_ticks_total")))
            check(metric(body, "netscope_packets_total") > packets_before,
                  "and keeps counting packets (%s -> %s)" %
                  (packets_before, metric(body, "netscope_packets_total")))
            evicted = metric(body, "netscope_exporter_connections_evicted_total")
            check(evicted is not None and evicted >= MAX_CONNECTIONS,
                  "the quiet connections were closed to make room (%s evicted)" % evicted)
            for s in flood:
                s.close()

            health = request(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            check(status(health) == 200, "/healthz is 200 after all that")
            # The kernel queued the flood's surplus in the listen backlog; netscope accepts,
            # reads EOF and closes each one. Under load that takes more than a second, so
            # wait (bounded) for the descriptors to come back.
            deadline = time.monotonic() + 20.0
            fds = fd_count(pid)
            while fds > baseline_fds + 2 and time.monotonic() < deadline:
                time.sleep(0.25)
                fds = fd_count(pid)
            if fds > baseline_fds + 2:
                print("open fds:", fd_targets(pid))
            check(fds <= baseline_fds + 2, "the connections are all gone (fds %d, "
                  "before %d)" % (fds, baseline_fds))
        rc = ns.stop()
        check(rc == 0, "netscope exits 0 on SIGTERM (stderr: %s)" % ns.stderr().strip()[-300:])
    print("PASS")


if __name__ == "__main__":
    main()
