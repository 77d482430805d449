#!/usr/bin/env bash
# bench/event_db_packet_path.sh BUILD_DIR — does the event log slow the packet path?
#
# Replays the synthetic benchmark capture (bench/gen_capture; ~50,000 flows and their DNS)
# through the live engine as fast as it goes (`netscope --read FILE --speed 0 --raw`, with
# a refresh every 100 ms of packet time so that there are many snapshots), in three
# configurations, interleaved, BENCH_RUNS times each (default 5), and prints the median
# wall time and packets per second of each:
#   plain      no sink
#   db         --db (a fresh file each run)
#   db+list    --db and a --blacklist of 10,000 entries (addresses, CIDRs, domains)
# The packet path is the same code in all three; what differs is the tick thread's
# decorator (the blacklist) and the writer thread competing for the CPU.
#
# Environment: BENCH_PACKETS (default 1,000,000), BENCH_FLOWS (default 20,000),
# BENCH_RUNS (default 5).
set -euo pipefail

build=${1:?usage: bench/event_db_packet_path.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
packets=${BENCH_PACKETS:-1000000}
flows=${BENCH_FLOWS:-20000}
runs=${BENCH_RUNS:-5}
gen="$build/bench/gen_capture"
netscope="$build/src/cli/netscope"
for bin in "$gen" "$netscope"; do
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

run() {
  local name=$1
  shift
  rm -f "$tmp"/events.db*
  local start end
  start=$EPOCHREALTIME
  "$netscope" --read "$file" --speed 0 --raw --refresh 100 "$@" >/dev/null 2>>"$tmp/$name.err" \
    || { echo "bench: $name failed:" >&2; tail -n 3 "$tmp/$name.err" >&2; exit 1; }
  end=$EPOCHREALTIME
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f\n", e - s }' >>"$tmp/$name"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$netscope" --read "$file" --speed 0 --raw >/dev/null 2>&1  # warm the page cache
total=$(capinfos -c -M "$file" 2>/dev/null | awk '/Number of packets/ { print $NF }')
total=${total:-$packets}
for _ in $(seq 1 "$runs"); do
  run plain
  run db --db "$tmp/events.db"
  run db_list --db "$tmp/events.db" --blacklist "$tmp/list.txt"
done
rows=$(sqlite3 "$tmp/events.db" "SELECT (SELECT count(*) FROM connections) || ' connections, ' || (SELECT count(*) FROM dns_queries) || ' DNS rows'")

base=$(median <"$tmp/plain")
echo "capture: $(basename "$file"), $total packets; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "last --db run wrote: $rows"
printf '| configuration | median wall s | packets/s | vs plain |\n|---|---:|---:|---:|\n'
for name in plain db db_list; do
  t=$(median <"$tmp/$name")
  awk -v n="$name" -v t="$t" -v b="$base" -v p="$total" \
    'BEGIN { printf "| %s | %.3f | %.0f | %+.1f %% |\n", n, t, p / t, (t / b - 1) * 100 }'
done
