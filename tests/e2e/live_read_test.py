#!/usr/bin/python3
"""`--read FILE --speed 0` runs a capture through the live engine: its byte totals must
equal `analyze` on the same file (one pipeline, many readers), the last JSON line marks
the end of input, and `snapshot --read` writes the same totals. A file cut part-way exits
3 and names the file, keeping what was read."""
import datetime
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import analyze_json, check, fail, run, shared_captures, tmpdir  # noqa

def conversation_bytes(doc):
    return sum(p["bytes"] for p in doc["totals"]["by_proto"].values())


def live_totals(netscope, path):
    r = run([netscope, "--read", path, "--speed", "0", "--json-lines", "-n", "--show-localhost"])
    if r.returncode not in (0, 3):
        fail("%s: exit %d: %s" % (path, r.returncode, r.stderr))
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    if not lines:
        fail("%s: no JSON lines" % path)
    for l in lines:
        if l["schema"] != "netscope.tick/1":
            fail("schema %r" % l["schema"])
    if not lines[-1]["end_of_input"] or any(l["end_of_input"] for l in lines[:-1]):
        fail("%s: end_of_input must be set on the last line only" % path)
    t = lines[-1]["totals"]
    return r.returncode, t["bytes_up"] + t["bytes_down"], len(lines)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return (~s) & 0xffff


def frame(src, dst, proto, payload):
    """Ethernet + IPv4 around `payload`."""
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", checksum(h)) + h[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + h + payload


def write_idle_capture(path):
    """10.0.0.1 sends one UDP datagram to :6000 at t=0 and an unanswered ping at t=1,
    while a second UDP flow ticks every second until t=50: the first flow goes from
    UDP_ACTIVE to UDP_IDLE (no packet for over 10 s) to UDP_STALE (from 3/4 of the 60 s
    UDP timeout), the ping stays ECHO_REQUEST."""
    a, b, c = [10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]
    udp = lambda sp, dp, data: struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data  # noqa
    ping = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"ping"
    ping = ping[:2] + struct.pack("!H", checksum(ping)) + ping[4:]
    packets = [(0.0, frame(a, b, 17, udp(5000, 6000, b"x" * 20))), (1.0, frame(a, c, 1, ping))]
    packets += [(t + 0.5, frame(a, c, 17, udp(7000, 7001, b"c"))) for t in range(51)]
    packets.sort(key=lambda p: p[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, p in packets:
            f.write(struct.pack("<IIII", 1700000000 + int(t), int(round((t % 1) * 1e6)), len(p),
                                len(p)))
            f.write(p)


def seconds(rfc3339):
    return datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def check_states_filters_and_raw(netscope, work):
    """UDP_ACTIVE/IDLE/STALE and ECHO_REQUEST with the records' own staleness; --filter
    and --pid on a replay; the raw text when stdout is not a terminal."""
    path = os.path.join(work, "idle.pcap")
    write_idle_capture(path)
    base = [netscope, "--no-config", "--read", path, "--speed", "0", "-n",
            "--local-net", "10.0.0.1/32"]
    r = run(base + ["--json-lines"])
    check(r.returncode == 0, "the idle capture replays: " + r.stderr.strip())
    seen = set()
    for line in r.stdout.splitlines():
        tick = json.loads(line)
        if tick["end_of_input"]:
            continue
        now = seconds(tick["time"])
        for c in tick["connections"]:
            if c["proto"] == "icmp":
                check(c["state"] == "ECHO_REQUEST", "an unanswered ping is ECHO_REQUEST: %s" %
                      c["state"])
                seen.add("ECHO_REQUEST")
            if c["remote_port"] != 6000:
                continue
            idle = now - seconds(c["last_seen"])
            want = ("UDP_STALE" if idle >= 0.75 * c["timeout_s"] else
                    "UDP_IDLE" if idle > 10 else "UDP_ACTIVE")
            check(c["state"] == want, "UDP flow idle %.1f s of %g: %s (want %s)" %
                  (idle, c["timeout_s"], c["state"], want))
            check(abs(c["staleness"] - min(1, idle / c["timeout_s"])) <= 0.001,
                  "staleness %.3f is %.1f s of %g" % (c["staleness"], idle, c["timeout_s"]))
            seen.add(c["state"])
    check(seen == {"UDP_ACTIVE", "UDP_IDLE", "UDP_STALE", "ECHO_REQUEST"},
          "every state appeared: %s" % sorted(seen))

    def snapshot(*extra):
        r = run([netscope, "--no-config", "snapshot", "--read", path, "--speed", "0", "-n",
                 "--local-net", "10.0.0.1/32", "--output", "-"] + list(extra))
        check(r.returncode == 0, "snapshot %s runs: %s" % (" ".join(extra), r.stderr.strip()))
        return json.loads(r.stdout)

    everything = snapshot()
    check(len(everything["connections"]) == 3, "three connections unfiltered")
    kept = snapshot("--filter", "^<UNKNOWN>$")
    check(len(kept["connections"]) == 3 and len(kept["processes"]) == 1,
          "--filter matching <UNKNOWN> keeps its connections")
    for extra in (["--filter", "^nothing$"], ["--pid", "4242"]):
        none = snapshot(*extra)
        check(not none["connections"] and not none["processes"] and not none["remotes"],
              "%s keeps nothing" % " ".join(extra))
        check(none["totals"] == everything["totals"], "and the totals stay the host's")
    r = run(base + ["--filter", "(unclosed"])
    check(r.returncode == 2 and "(unclosed" in r.stderr,
          "a malformed --filter exits 2 naming it: " + r.stderr.strip())

    # No --raw, --json-lines or TUI asked for and stdout a pipe: the raw text.
    r = run(base)
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[0] == "Refreshing:" and
          any(x.startswith("connection: <") and ":6000 (udp)" in x for x in lines),
          "stdout not a terminal prints --raw: %s" % lines[:3])


def main():
    netscope, pcaps = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    sample = os.path.join(here, "..", "..", "samples", "netscope-sample.pcap")
    files = [(sample, "sample")]
    wanted = {"chrissanders/http_ip4and6.pcapng", "chrissanders/tcp_retransmissions.pcapng",
              "chrissanders/dns_lab.pcapng", "chrissanders/ipv6_fragments.pcapng",
              "packetmancer/captures_http.cap", "tcpdump/802.1ad_QinQ.pcap",
              "zeek/http-qinq-0.pcap", "tcpdump/quic_handshake.pcap"}
    files += [(p, n) for p, n in shared_captures(pcaps) if n in wanted]
    checked = 0
    for path, name in files:
        rc, doc, err = analyze_json(netscope, path)
        if rc != 0 or doc is None:
            continue
        want = conversation_bytes(doc)
        lrc, got, ticks = live_totals(netscope, path)
        check(lrc == 0 and got == want,
              "%s: --read totals %d bytes == analyze %d (%d ticks)" % (name, got, want, ticks))
        checked += 1
    check(checked >= 2, "%d files compared" % checked)

    # snapshot --read: the whole-run document has the same totals.
    work = tmpdir()
    out = os.path.join(work, "snap.json")
    r = run([netscope, "snapshot", "--read", sample, "--speed", "0", "-n", "--output", out])
    check(r.returncode == 0, "snapshot --read exits 0: " + r.stderr)
    with open(out) as f:
        snap = json.load(f)
    rc, doc, _ = analyze_json(netscope, sample)
    check(snap["schema"] == "netscope.snapshot/1", "snapshot schema")
    check(snap["totals"]["bytes_up"] + snap["totals"]["bytes_down"] == conversation_bytes(doc),
          "snapshot --read totals equal analyze")
    check(any(c["closed"] for c in snap["connections"]), "closed connections are kept")

    # A file cut in the middle of a record: exit 3, the file named, ticks still written.
    cut = os.path.join(work, "cut.pcap")
    with open(sample, "rb") as src, open(cut, "wb") as dst:
        data = src.read()
        dst.write(data[: len(data) * 2 // 3])
    r = run([netscope, "--read", cut, "--speed", "0", "--json-lines", "-n"])
    check(r.returncode == 3, "a truncated file exits 3 (got %d)" % r.returncode)
    check("cut.pcap" in r.stderr, "the message names the file: " + r.stderr.strip())
    check(r.stdout.strip() and json.loads(r.stdout.splitlines()[-1])["end_of_input"],
          "partial results are still written")
    # Config files: defaults for long options, the command line wins, bad keys name
    # the file and line.
    good = os.path.join(work, "good.toml")
    with open(good, "w") as f:
        f.write("refresh = 2000\nno-resolve = true\n")
    base = ["--read", sample, "--speed", "0", "--json-lines"]
    from_file = run([netscope, "--config", good] + base).stdout.splitlines()
    from_flag = run([netscope, "--config", good, "--refresh", "1000"] + base).stdout.splitlines()
    check(len(from_flag) > len(from_file) > 0,
          "config refresh applies (%d ticks) and --refresh wins (%d ticks)" %
          (len(from_file), len(from_flag)))
    bad = os.path.join(work, "bad.toml")
    with open(bad, "w") as f:
        f.write("refresh = 500\nrefreshh = 3\n")
    r = run([netscope, "--config", bad] + base)
    check(r.returncode == 2 and "bad.toml:2:" in r.stderr and "refreshh" in r.stderr,
          "a bad key exits 2 naming file and line: " + r.stderr.strip())
    missing = os.path.join(work, "missing.toml")
    r = run([netscope, "--config", missing] + base)
    check(r.returncode == 2 and "--config " + missing in r.stderr,
          "a --config file that does not exist exits 2 naming it: " + r.stderr.strip())
    r = run([netscope, "snapshot", "--read", sample, "--speed", "0", "--output", "-",
             "--config", good])
    check(r.returncode == 0 and json.loads(r.stdout)["schema"] == "netscope.snapshot/1",
          "--config is taken after snapshot too")
    # stdout that cannot be written: 2 with the reason; a reader that leaves early: 0.
    r = subprocess.run([netscope, "--no-config"] + base, stdout=open("/dev/full", "w"),
                       stderr=subprocess.PIPE, text=True, timeout=120)
    check(r.returncode == 2 and "No space left on device" in r.stderr,
          "--json-lines to a full disk exits 2: " + r.stderr.strip())
    # More than a pipe holds (64 KiB), so that closing it early makes a write fail (EPIPE).
    whole = run([netscope, "--no-config"] + base).stdout
    check(len(whole) > 65536, "the replay writes %d bytes, more than a pipe holds" % len(whole))
    p = subprocess.Popen([netscope, "--no-config"] + base, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.read(10)
    p.stdout.close()
    check(p.wait(timeout=120) == 0, "a reader that closes the pipe early: exit 0")
    # Input the replay cannot read: as analyze, exit 2 with a message, before any output.
    r = run([netscope] + base + ["--bpf", "udp port"])
    check(r.returncode == 2 and "udp port" in r.stderr and not r.stdout,
          "a bad --bpf exits 2 naming it: " + r.stderr.strip())
    odd = os.path.join(pcaps, "tcpdump", "unsupported-link-type-160.pcap")
    for cmd in ([netscope, "--read", odd, "--speed", "0", "--raw"],
                [netscope, "snapshot", "--read", odd, "--speed", "0", "--output", "-"]):
        r = run(cmd)
        check(r.returncode == 2 and "unsupported link type DLT 160" in r.stderr and not r.stdout,
              "%s: an unsupported link type exits 2 naming it: %s" % (cmd[1], r.stderr.strip()))
    # Protocol-aware states and timeouts: ICMP echo flows, and --timeout from the command
    # line and from a config file (a UDP flow idle longer than its timeout ends).
    pings = os.path.join(pcaps, "zeek", "linux_dlt_sll2.pcap")
    r = run([netscope, "--read", pings, "--speed", "0", "--json-lines", "-n", "--show-localhost"])
    last = json.loads(r.stdout.splitlines()[-1])
    states = sorted((c["proto"], c["state"]) for c in last["connections"])
    # The file ends with an unanswered ARP request (and a RARP one, which is no ARP
    # conversation): flow/arp.hpp.
    check(states == [("arp", "ARP_REQUEST"), ("icmp", "ECHO_REPLY"), ("icmpv6", "ECHO_REPLY")],
          "ping flows are in ECHO_REPLY, the ARP request in ARP_REQUEST (%s)" % states)
    r = run([netscope, "--read", sample, "--speed", "0", "--json-lines", "--timeout", "dns=x"])
    check(r.returncode == 2 and "dns=x" in r.stderr, "a bad --timeout exits 2: " + r.stderr.strip())
    # The pings are 14 s apart and the file ends 1543 s in: with the default 30 s for
    # ICMP both flows time out; with 2000 s from a config file neither does.
    ok = os.path.join(work, "timeouts.toml")
    with open(ok, "w") as f:
        f.write('timeout = ["other=2000"]\n')

    def reasons(*extra):
        r = run([netscope] + list(extra) + ["snapshot", "--read", pings, "--speed", "0", "--output", "-", "-n",
                                            "--show-localhost"])
        check(r.returncode == 0, "snapshot with timeouts runs: " + r.stderr.strip())
        return sorted(c["close_reason"] for c in json.loads(r.stdout)["connections"]
                      if c["proto"] != "arp")

    check(reasons("--no-config") == ["idle_timeout", "idle_timeout"],
          "ICMP flows end on the default 30 s timeout")
    check(reasons("--config", ok) == ["end_of_input", "end_of_input"],
          "timeout = [\"other=2000\"] in the config keeps them open to the end")
    check(reasons("--no-config", "--timeout", "other=2000") == ["end_of_input", "end_of_input"],
          "--timeout other=2000 does the same from the command line")
    check_states_filters_and_raw(netscope, work)
    shutil.rmtree(work)
    print("PASS")


if __name__ == "__main__":
    main()
