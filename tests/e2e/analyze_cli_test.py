#!/usr/bin/env python3
"""netscope analyze on damaged, unusual and compressed inputs: exit codes 0/2/3, clear
messages naming the file and offset, partial results kept, no crash or hang."""
import gzip
import json
import os
import shutil
import subprocess
import sys

from common import analyze_json, check, fail, run, tmpdir

netscope, pcaps = sys.argv[1], sys.argv[2]
work = tmpdir()
try:
    src = os.path.join(pcaps, "zeek", "tcp_ssh-dups.pcap")

    # A clean file: exit 0, schema, every conversation in the JSON.
    rc, doc, err = analyze_json(netscope, src)
    check(rc == 0, "clean file exits 0")
    check(doc["schema"] == "netscope.analyze/3", "JSON carries its schema")
    check(doc["summary"]["read_status"] == "complete", "clean file is read to its end")
    full_packets = doc["summary"]["packets"]
    check(full_packets == 377, "377 packets read, as capinfos says (got %d)" % full_packets)
    check(len(doc["conversations"]) == doc["totals"]["conversations"],
          "every conversation appears in the JSON")
    check("netscope analyze" in err, "with --json -, the human report goes to stderr")

    # Cut off mid-packet: exit 3, the offset named, everything before it reported.
    cut = os.path.join(work, "cut.pcap")
    data = open(src, "rb").read()
    open(cut, "wb").write(data[:-7])
    rc, doc, err = analyze_json(netscope, cut)
    check(rc == 3, "a file cut mid-packet exits 3 (got %d)" % rc)
    check(doc is not None and doc["summary"]["read_status"] == "truncated", "JSON says truncated")
    check(doc["summary"]["packets"] == full_packets - 1, "all packets before the cut are kept")
    off = doc["summary"]["stopped_at_offset"]
    check(isinstance(off, int) and 0 < off < len(data), "the stop offset is reported (%s)" % off)
    check(str(off) in err and "cut.pcap" in err, "the message names the file and offset: " +
          err.strip().splitlines()[-1])
    r = run([netscope, "analyze", cut, "--no-color"])
    check(r.returncode == 3 and "reading stopped early" in r.stdout,
          "the human report says reading stopped early")

    # The same for pcapng.
    ng = os.path.join(pcaps, "chrissanders", "http_espn_fail.pcapng")
    cutng = os.path.join(work, "cut.pcapng")
    open(cutng, "wb").write(open(ng, "rb").read()[:-100])
    rc, doc, err = analyze_json(netscope, cutng)
    check(rc == 3 and doc["summary"]["packets"] > 500, "a cut pcapng exits 3 with partial results")

    # Unsupported link type: exit 2 and the type named.
    r = run([netscope, "analyze", os.path.join(pcaps, "tcpdump", "unsupported-link-type-160.pcap")])
    check(r.returncode == 2, "unsupported link type exits 2")
    check("160" in r.stderr and "link type" in r.stderr, "message names the link type: " +
          r.stderr.strip())

    # Missing file, a directory, and a file that is not a capture: exit 2.
    for bad, what in ((os.path.join(work, "nope.pcap"), "missing file"),
                      (work, "directory"),
                      (__file__, "not a capture")):
        r = run([netscope, "analyze", bad])
        check(r.returncode == 2 and bad in r.stderr, "%s exits 2 naming it: %s" %
              (what, r.stderr.strip()))

    # Bad flags and a bad BPF expression: exit 2.
    check(run([netscope, "analyze", src, "--top", "x"]).returncode == 2, "bad flag exits 2")
    r = run([netscope, "analyze", src, "--bpf", "tcp port nonsense("])
    check(r.returncode == 2 and "filter" in r.stderr.lower(),
          "bad --bpf exits 2: " + r.stderr.strip())

    # Every malformed file in the corpus: a clean exit code, never a crash or hang.
    for sub in ("zeek", "tcpdump", "chrissanders", "packetmancer"):
        for name in sorted(os.listdir(os.path.join(pcaps, sub))):
            path = os.path.join(pcaps, sub, name)
            r = run([netscope, "analyze", path, "--json", os.devnull, "--no-color"], timeout=120)
            if r.returncode not in (0, 2, 3):
                fail("%s: exit %d\n%s" % (path, r.returncode, r.stderr[-2000:]))
    print("ok: every corpus file exits 0, 2 or 3")

    # stdin, gzip and zstd give the same result as the plain file.
    with open(src, "rb") as f:
        r = subprocess.run([netscope, "analyze", "-", "--json", "-"], stdin=f,
                           capture_output=True, timeout=120)
    check(r.returncode == 0, "reading stdin works")
    stdin_doc = json.loads(r.stdout)
    gz = os.path.join(work, "x.pcap.gz")
    with gzip.open(gz, "wb") as f:
        f.write(data)
    zst = os.path.join(work, "x.pcap.zst")
    run(["zstd", "-q", "-f", src, "-o", zst], check=True)
    rc0, plain, _ = analyze_json(netscope, src)
    for path, doc in ((gz, analyze_json(netscope, gz)[1]), (zst, analyze_json(netscope, zst)[1]),
                      ("stdin", stdin_doc)):
        check(doc["totals"] == plain["totals"], "%s gives the same totals as the plain file" %
              os.path.basename(path))

    # --bpf keeps only matching packets; tcpdump is the oracle for the count.
    expected = len(run(["tcpdump", "-nn", "-r", src, "tcp[tcpflags] & tcp-syn != 0"]).stdout
                   .splitlines())
    rc, doc, _ = analyze_json(netscope, src, "--bpf", "tcp[tcpflags] & tcp-syn != 0")
    check(rc == 0 and doc["summary"]["packets"] == expected,
          "--bpf matches tcpdump's count (%d)" % expected)

    # Each direction on its own VLAN: the client's half alone must not look like an
    # unanswered SYN (no false HIGH).
    rc, doc, _ = analyze_json(netscope, os.path.join(pcaps, "zeek", "ldap_gap-data-missing.pcapng"))
    check(rc == 0 and not [p for p in doc["problems"] if p["kind"] == "syn_unanswered"],
          "asymmetric VLANs raise no unanswered-SYN problem")
    check(doc["totals"]["by_level"]["HIGH"] == 0, "and no HIGH conversation")

    # A file name that is not UTF-8 (Linux names are bytes): the JSON stays valid.
    odd = os.path.join(work.encode(), b"bad\xffname.pcap")
    with open(odd, "wb") as f:
        f.write(data)
    r = subprocess.run([netscope.encode(), b"analyze", odd, b"--json", b"-"], capture_output=True,
                       timeout=120)
    check(r.returncode == 0 and json.loads(r.stdout)["summary"]["packets"] == full_packets,
          "a file name that is not UTF-8 gives valid JSON")

    # A JSON output that cannot be written is an error, not a silent success.
    if os.path.exists("/dev/full"):
        r = run([netscope, "analyze", src, "--json", "/dev/full"])
        check(r.returncode == 2 and "/dev/full" in r.stderr,
              "--json to a full disk exits 2: " + r.stderr.strip().splitlines()[-1])

    # Global options before the subcommand work too.
    r = run([netscope, "--max-flows", "16", "analyze", src, "--json", "-"])
    check(r.returncode == 0 and json.loads(r.stdout)["totals"]["max_flows"] == 16,
          "global options are accepted before the subcommand")
    r = run([netscope, "--version"])
    check(r.returncode == 0 and r.stdout.startswith("netscope "), "--version prints the version")
    r = run([netscope, "analyze", "--version"])
    check(r.returncode == 0 and r.stdout.startswith("netscope "), "analyze --version too")
    # --no-dpi: nothing inspected, so no Applications or DNS section (not "none").
    on = run([netscope, "--no-config", "analyze", src]).stdout
    off = run([netscope, "--no-config", "analyze", src, "--no-dpi"]).stdout
    check("Applications" in on and "\nDNS\n" in on, "the report has Applications and DNS")
    check("Applications" not in off and "\nDNS\n" not in off,
          "with --no-dpi the report has neither section")
finally:
    shutil.rmtree(work, ignore_errors=True)
