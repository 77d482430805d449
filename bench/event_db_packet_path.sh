#!/usr/bin/env bash
# bench/event_db_packet_path.sh BUILD_DIR — does the event log slow the packet path?
#
# Replays the synthetic benchmark capture (bench/gen_capture; ~50,000 flows and their DNS)
# through the live engine as fast as it goes (`netscope --read FILE --speed 0 --raw -p -n`,
# a snapshot every BENCH_REFRESH ms of packet time, default 1000), in three
# configurations, interleaved, BENCH_RUNS times each (default 5), and prints the median
# wall time, the median user+system CPU time and packets per second of each:
#   plain      no sink
#   db         --db (a fresh file each run)
#   db+list    --db and a --blacklist of 10,000 entries (addresses, CIDRs, domains)
#   plain+writer  no sink, while the event log's writer (bench/event_db_bench --lazy)
#              ingests 10,000 connection and 5,000 DNS events a second next to it: the
#              target's own wording, the packet path's throughput with and without a
#              writer at the full event rate, in the same run (the writer's rows and
#              losses are checked and printed)
# The packet path is the same code in all of them; what differs is the tick thread's
# decorator (the blacklist) and the writer thread competing for the CPU.
#
# Environment: BENCH_PACKETS (default 1,000,000), BENCH_FLOWS (default 20,000),
# BENCH_RUNS (default 5), BENCH_REFRESH (default 1000).
set -euo pipefail

build=${1:?usage: bench/event_db_packet_path.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
packets=${BENCH_PACKETS:-1000000}
flows=${BENCH_FLOWS:-20000}
runs=${BENCH_RUNS:-5}
refresh=${BENCH_REFRESH:-1000}
gen="$build/bench/gen_capture"
netscope="$build/src/cli/netscope"
writer="$build/bench/event_db_bench"
for bin in "$gen" "$netscope" "$writer"; do
  [[ -x $bin ]] || { echo "bench: missing $bin (build with -DNETSCOPE_BENCH=ON)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netscope-dbbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

mkdir -p "$root/bench/data"
file="$root/bench/data/synth-v$("$gen" --version)-p$packets-f$flows-dbbench.pcap"
if [[ ! -s $file ]]; then
  echo "bench: generating $file" >&2
  "$gen" --out "$file.partial.$$" --packets "$packets" --flows "$flows" 2>/dev/null
  mv "$file.partial.$$" "$file"
fi

# 10,000 entries: none of them match the synthetic traffic, so this is the cost of looking.
{
  for i in $(seq 1 4000); do echo "198.18.$((i / 250)).$((i % 250))"; done
  for i in $(seq 1 1000); do echo "100.$((64 + i / 250)).$((i % 250)).0/24"; done
  for i in $(seq 1 5000); do echo "bad$i.blocked.example"; done
} >"$tmp/list.txt"

# run NAME ARGS...: one replay; appends to $tmp/NAME "seconds to the last snapshot (every
# packet processed and published)" and to $tmp/NAME.exit "seconds to exit" (the event log
# drains its queue and commits at exit), and the CPU seconds to $tmp/NAME.cpu.
run() {
  local name=$1
  shift
  rm -f "$tmp"/events.db*
  python3 - "$tmp/$name" "$tmp/cpu" "$netscope" --read "$file" --speed 0 --json-lines -p -n \
    --refresh "$refresh" "$@" 2>>"$tmp/$name.err" <<'PY' || { echo "bench: $name failed:" >&2; tail -n 3 "$tmp/$name.err" >&2; exit 1; }
import subprocess, sys, time
out, cpu, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.monotonic()
p = subprocess.Popen(["/usr/bin/time", "-f", "%U %S", "-o", cpu] + cmd, stdout=subprocess.PIPE)
last = None
for line in p.stdout:
    if b'"end_of_input":true' in line:
        last = time.monotonic() - start
rc = p.wait()
done = time.monotonic() - start
if rc != 0 or last is None:
    sys.exit("netscope exited %d, end of input seen: %s" % (rc, last is not None))
with open(out, "a") as f:
    f.write("%.6f\n" % last)
with open(out + ".exit", "a") as f:
    f.write("%.6f\n" % done)
PY
  awk '{ printf "%.2f\n", $1 + $2 }' "$tmp/cpu" >>"$tmp/$name.cpu"
}
# run_with_writer NAME ARGS...: run NAME ARGS... while event_db_bench writes 10,000
# connection + 5,000 DNS events a second into its own database; its summary goes to
# $tmp/NAME.writer.
run_with_writer() {
  local name=$1
  rm -f "$tmp/ready" "$tmp"/writer.db*
  "$writer" --lazy --until-signal --seconds 600 --db "$tmp/writer.db" --ready-file "$tmp/ready" \
    >>"$tmp/$name.writer" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do [[ -e $tmp/ready ]] && break; sleep 0.1; done
  sleep 1  # let it reach its steady state (five seconds of closed connections per snapshot build up)
  run "$@"
  kill -TERM "$pid"
  wait "$pid" || echo "bench: the writer lost events (see below)" >&2
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$netscope" --read "$file" --speed 0 --raw -p -n >/dev/null 2>&1  # warm the page cache
total=$(capinfos -c -M "$file" 2>/dev/null | awk '/Number of packets/ { print $NF }')
total=${total:-$packets}
for _ in $(seq 1 "$runs"); do
  run plain
  run db --db "$tmp/events.db"
  run db_list --db "$tmp/events.db" --blacklist "$tmp/list.txt"
  rows=$(sqlite3 "$tmp/events.db" "SELECT (SELECT count(*) FROM connections) || ' connections, ' || (SELECT count(*) FROM dns_queries) || ' DNS rows'")
  run_with_writer plain_writer
done

base=$(median <"$tmp/plain")
echo "capture: $(basename "$file"), $total packets; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "last --db run wrote: $rows"
base_cpu=$(median <"$tmp/plain.cpu")
printf '| configuration | to last snapshot, s | packets/s | vs plain | to exit, s | CPU s | CPU vs plain |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for name in plain db db_list plain_writer; do
  t=$(median <"$tmp/$name")
  x=$(median <"$tmp/$name.exit")
  c=$(median <"$tmp/$name.cpu")
  awk -v n="$name" -v t="$t" -v b="$base" -v p="$total" -v x="$x" -v c="$c" -v bc="$base_cpu" \
    'BEGIN { printf "| %s | %.3f | %.0f | %+.1f %% | %.3f | %.2f | %+.1f %% |\n", n, t, p / t, (1 - b / t) * -100, x, c, (c / bc - 1) * 100 }'
done
# Same-run ratios, run by run (plain and plain_writer alternate, so each pair shares the
# machine's load of the moment).
echo "plain_writer / plain throughput, per pair: $(paste "$tmp/plain" "$tmp/plain_writer" | awk '{ printf "%.3f ", $1 / $2 }')"
echo "the concurrent writer (last run):"
tail -n 6 "$tmp/plain_writer.writer" | sed 's/^/  /'
grep -h "LOST" "$tmp/plain_writer.writer" && echo "bench: the writer lost events in a run" >&2 || true
