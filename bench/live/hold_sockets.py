#!/usr/bin/env python3
"""Opens N TCP connections and holds them, idle, until killed: the "1,000 sockets open"
of bench/live/run.sh's idle measurement.

  hold_sockets.py serve   ADDR PORT N READY_FILE   accept N connections, then hold them
  hold_sockets.py connect ADDR PORT N READY_FILE   open N connections, then hold them

READY_FILE is created once all N connections are established. No data is sent: the
connections stay idle (no keep-alives either; Linux sends none unless SO_KEEPALIVE is
set), so whatever CPU a monitor uses meanwhile is its own idle cost. The process exits on
SIGTERM/SIGINT, or after --hold seconds (a bound, in case the caller dies).
"""

import argparse
import resource
import signal
import socket
import sys
import time


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(f"hold_sockets: need {want} file descriptors, hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def serve(addr, port, n):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, port))
    listener.listen(n)
    return [listener] + [listener.accept()[0] for _ in range(n)]


def connect(addr, port, n):
    held = []
    for _ in range(n):
        s = socket.create_connection((addr, port), timeout=10)
        held.append(s)
    return held


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("serve", "connect"))
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("ready_file")
    ap.add_argument("--hold", type=float, default=600, help="exit after this many seconds")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    raise_fd_limit(args.count)
    held = (serve if args.mode == "serve" else connect)(args.addr, args.port, args.count)
    with open(args.ready_file, "w") as f:
        f.write(f"{len(held)}\n")
    try:
        time.sleep(args.hold)
    except KeyboardInterrupt:
        pass
    for s in held:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
