#!/usr/bin/python3
"""`--read FILE --speed 0` runs a capture through the live engine: its byte totals must
equal `analyze` on the same file (one pipeline, many readers), the last JSON line marks
the end of input, and `snapshot --read` writes the same totals. A file cut part-way exits
3 and names the file, keeping what was read."""
import json
import os
import shutil
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
    shutil.rmtree(work)
    print("PASS")


if __name__ == "__main__":
    main()
