#!/usr/bin/env python3
"""Turns bench/live/run.sh's raw measurements into the Markdown tables of the "Live
capture" section of docs/PERFORMANCE.md.

  report.py RESULTS_TSV IDLE_TSV IDLE_SECONDS SOCKETS IDLE_FLOWS IDLE_ATTRIBUTED MEM_ROW
  report.py --update-doc DOC SECTION_FILE   puts SECTION_FILE between DOC's markers

RESULTS_TSV: tool round sent delivered seen drops cpu_s replay_s pps (a header line;
"na" where a tool reports nothing). IDLE_TSV: sockets cpu_pct. MEM_ROW: the memory
measurement's figures separated by spaces, or "" when it was skipped.

Ratios against tcpdump are taken per round (the tools of one round ran minutes apart
at most), then summarised; a figure over several rounds is shown as min / median / max.
The verdicts compare with the targets of issue 3; they are a report, not a test.
"""

import csv
import statistics
import sys

LABELS = {
    "replay": "replay only, no capture tool",
    "netscope": "`netscope snapshot -n -i IF`",
    "netscope_noattr": "`netscope snapshot -n --no-attribution -i IF`",
    "base": "baseline (LIVE_BASELINE) `netscope snapshot -n -i IF`",
    "base_noattr": "baseline (LIVE_BASELINE) `netscope snapshot -n --no-attribution -i IF`",
    "tcpdump": "`tcpdump -i IF -w /dev/null`",
    "nethogs": "`nethogs -t IF`",
    "iftop": "`iftop -t -n -i IF`",
}
# sizeof(flow::Flow) + FlowTable::kIndexBytesPerFlow (tests/unit/flow/flow_size_test.cpp).
FLOW_TABLE_BYTES = 392
CAPTURE_TOOLS = ("netscope", "netscope_noattr", "base", "base_noattr", "tcpdump", "nethogs", "iftop")


def number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def spread(values, fmt):
    """min / median / max, or the single value; "—" when there is none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return "—"
    if len(vals) == 1 or min(vals) == max(vals):
        return fmt(vals[0])
    return " / ".join(fmt(v) for v in (min(vals), statistics.median(vals), max(vals)))


def count_range(values, what="not reported"):
    vals = [int(v) for v in values if number(v) is not None]
    if not vals:
        return what
    lo, hi = min(vals), max(vals)
    return f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"


def cpu_per_m(row):
    cpu, sent = number(row["cpu_s"]), number(row["sent"])
    return cpu / sent * 1e6 if cpu is not None and sent else None


def verdict(ok):
    return "not measured" if ok is None else ("met" if ok else "**missed**")


BEGIN = "<!-- bench-live:results:begin -->"
END = "<!-- bench-live:results:end -->"


def update_doc(doc, section_file):
    """Replaces what lies between the bench-live markers; the rest of DOC is untouched."""
    with open(doc) as f:
        text = f.read()
    with open(section_file) as f:
        section = f.read()
    head, sep, rest = text.partition(BEGIN + "\n")
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        print(f"bench-live: {doc} has no bench-live results markers; not updated", file=sys.stderr)
        return 0
    with open(doc, "w") as f:
        f.write(head + BEGIN + "\n" + section.rstrip("\n") + "\n" + END + tail)
    print(f"bench-live: updated {doc}", file=sys.stderr)
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--update-doc":
        return update_doc(sys.argv[2], sys.argv[3])
    results_tsv, idle_tsv, idle_s, sockets, idle_flows, idle_attr, mem_row = sys.argv[1:8]
    with open(results_tsv) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    by_tool = {}
    for r in rows:
        by_tool.setdefault(r["tool"], []).append(r)
    tcpdump_by_round = {r["round"]: cpu_per_m(r) for r in by_tool.get("tcpdump", [])}

    def ratios(tool):
        out = []
        for r in by_tool.get(tool, []):
            base = tcpdump_by_round.get(r["round"])
            mine = cpu_per_m(r)
            if base and mine is not None:
                out.append(mine / base)
        return out

    print("| tool | runs | sent | delivered to the veth | seen by the tool | kernel drops "
          "| replay rate, kpps | CPU s per M packets sent | × tcpdump's CPU per packet |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tool in [t for t in LABELS if t in by_tool]:
        rs = by_tool[tool]
        capture = tool in CAPTURE_TOOLS
        print("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            LABELS[tool], len(rs), count_range(r["sent"] for r in rs),
            count_range(r["delivered"] for r in rs),
            count_range((r["seen"] for r in rs)) if capture else "—",
            count_range((r["drops"] for r in rs)) if capture else "—",
            spread([number(r["pps"]) / 1e3 if number(r["pps"]) else None for r in rs],
                   lambda v: f"{v:.0f}"),
            spread([cpu_per_m(r) for r in rs], lambda v: f"{v:.3f}") if capture else "—",
            spread(ratios(tool), lambda v: f"{v:.2f}") if capture and tool != "tcpdump" else
            ("1 (the floor)" if tool == "tcpdump" else "—")))
    print()
    print("Figures over several runs are min / median / max; a range a–b is min–max. "
          "CPU is the tool's own (all threads, user + system, from the scheduler's run "
          "time) from the moment it was capturing until 1 s after tcpreplay returned. "
          "nethogs and iftop report neither packets seen nor kernel drops.")

    idle = {}
    with open(idle_tsv) as f:
        for line in f:
            k, v = line.split()
            idle[k] = float(v)
    print()
    if idle:
        print(f"Idle (`netscope -n -i IF --refresh 1000 --json-lines --top 10`, {idle_s} s each, "
              "no traffic): "
              + "; ".join(f"{v:.2f} % of one core with {k} connections open" for k, v in idle.items())
              + f". Flows tracked at the end: {idle_flows}; connections attributed to the "
              f"holding process: {idle_attr}.")

    mem = None
    if mem_row.strip():
        keys = ("flows", "sent", "delivered", "read", "tracked", "evicted", "overflow",
                "max_flows", "rss_min", "rss_before", "rss_after", "rss_after_max")
        mem = dict(zip(keys, (int(x) if x.lstrip("-").isdigit() else None for x in mem_row.split())))
        tracked = mem["tracked"] or 0
        growth = (mem["rss_after"] - mem["rss_before"]) * 1024 / tracked if tracked else None
        total = (mem["rss_after"] - mem["rss_min"]) * 1024 / tracked if tracked else None
        mem["per_flow"] = total
        print()
        print(f"Memory: {mem['flows']:,} distinct flows replayed (2 packets each; sent "
              f"{mem['sent']:,}, delivered {mem['delivered']:,}, read by netscope "
              f"{mem['read']:,}); {tracked:,} flows tracked, {mem['evicted']} evicted, "
              f"`--max-flows {mem['max_flows']}`. RSS {mem['rss_min'] / 1024:.1f} MiB idle at "
              f"`--max-flows 16`, {mem['rss_before'] / 1024:.1f} MiB idle at "
              f"`--max-flows {mem['max_flows']}` (the index is allocated at start-up), "
              f"{mem['rss_after'] / 1024:.1f} MiB with the flows (lowest of 12 samples over "
              f"3 s; highest {(mem.get('rss_after_max') or mem['rss_after']) / 1024:.1f} MiB, "
              f"during a tick). Per tracked flow: "
              f"{growth:.0f} bytes of growth, {total:.0f} bytes counting the index. "
              f"Of that, the flow table (entry and index; FlowSize unit test) is at most "
              f"{FLOW_TABLE_BYTES} bytes; the rest is the tick side (per-connection state, "
              f"snapshots) and attribution. "
              f"Attribution lookups dropped because their queue was full: {mem['overflow']:,}.")

    # Verdicts against issue 3's targets.
    ns = by_tool.get("netscope", [])
    td = {r["round"]: r for r in by_tool.get("tcpdump", [])}
    clean = [r for r in ns if r["round"] in td and number(td[r["round"]]["drops"]) == 0]
    drops_ok = None if not clean else all(number(r["drops"]) == 0 for r in clean)
    ratio = statistics.median(ratios("netscope")) if ratios("netscope") else None
    idle_pct = idle.get(sockets)
    print()
    print("| target (issue 3) | measured | verdict |")
    print("|---|---|---|")
    print(f"| no kernel drops wherever tcpdump has none | netscope drops "
          f"{count_range(r['drops'] for r in clean)} in the {len(clean)} rounds where tcpdump "
          f"dropped nothing | {verdict(drops_ok)} |")
    print(f"| CPU per packet ≤ 1.5 × tcpdump's | "
          f"{'—' if ratio is None else f'{ratio:.2f} ×'} (median of per-round ratios) "
          f"| {verdict(None if ratio is None else ratio <= 1.5)} |")
    print(f"| idle CPU < 1 % at a 1 s refresh with {sockets} sockets open | "
          f"{'—' if idle_pct is None else f'{idle_pct:.2f} %'} "
          f"| {verdict(None if idle_pct is None else idle_pct < 1)} |")
    per_flow = mem["per_flow"] if mem else None
    print(f"| ≤ 400 bytes per tracked flow, index included (whole process) | "
          f"{'—' if per_flow is None else f'{per_flow:.0f} bytes'} "
          f"| {verdict(None if per_flow is None else per_flow <= 400)} |")
    print(f"| the same, flow table only (entry + index, no DPI data) | {FLOW_TABLE_BYTES} bytes "
          f"(sizeof(Flow) 368 + 2 index slots of 12; unit test FlowSize) | "
          f"{verdict(FLOW_TABLE_BYTES <= 400)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
