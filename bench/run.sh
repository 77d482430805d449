#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — whole-program benchmark of `netscope analyze` against a plain
# libpcap read loop (the floor), tcptrace and tshark on one synthetic capture, plus the
# Google Benchmark micro-benchmarks. Prints the results and rewrites the results section
# of docs/PERFORMANCE.md. `make bench` builds BUILD_DIR and calls this.
#
# Environment:
#   BENCH_RUNS=3            timed runs per tool (median reported); tools are interleaved
#   BENCH_BIG=1             several-GB variant (full-size frames, more flows) for the RSS check
#   BENCH_PACKETS, BENCH_FLOWS   override the capture's size
#   BENCH_TSHARK_PACKETS=N  run tshark on the first N packets only (default: whole file,
#                           or 1,000,000 with BENCH_BIG); netscope is then timed on the
#                           same prefix for the ratio
#   BENCH_TSHARK=0          skip tshark
#   BENCH_MICRO=0           skip the micro-benchmarks
#   BENCH_DOC=0             do not touch docs/PERFORMANCE.md
#   BENCH_TIMEOUT=1200      seconds before any one command is killed
#   BENCH_REV               how to name the measured build (default: git describe)
#   BENCH_DPI=0             skip the DPI cost (bench/dpi_cost.sh: analyze vs --no-dpi;
#                           BENCH_DPI_RUNS, BENCH_DPI_FLOWS, BENCH_DPI_COPIES,
#                           BENCH_DPI_FILES tune it)
#   BENCH_TUI=0             skip the TUI benches (tui_render, tui_filter_bench)
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$build" && pwd)
doc="$root/docs/PERFORMANCE.md"
runs=${BENCH_RUNS:-3}
limit=${BENCH_TIMEOUT:-1200}

if [[ ${BENCH_BIG:-0} == 1 ]]; then
  variant=big packets=${BENCH_PACKETS:-8000000} flows=${BENCH_FLOWS:-200000}
  snaplen=65535 duration=600 tshark_packets=${BENCH_TSHARK_PACKETS:-1000000}
else
  variant=default packets=${BENCH_PACKETS:-3000000} flows=${BENCH_FLOWS:-50000}
  snaplen=128 duration=200 tshark_packets=${BENCH_TSHARK_PACKETS:-0}
fi

gen="$build/bench/gen_capture"
floor="$build/bench/pcap_floor"
netscope="$build/src/cli/netscope"
for bin in "$gen" "$floor" "$netscope"; do
  [[ -x $bin ]] || { echo "bench: missing $bin (build with -DNETSCOPE_BENCH=ON)" >&2; exit 2; }
done
have() { command -v "$1" >/dev/null 2>&1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netscope-bench.XXXXXX")
partial=""
cleanup() {
  rm -rf "$tmp"
  [[ -z $partial ]] || rm -f "$partial"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the capture, cached by generator version and options -------------------------------
mkdir -p "$root/bench/data"
version=$("$gen" --version)
file="$root/bench/data/synth-v$version-p$packets-f$flows-d$duration-s$snaplen.pcap"
if [[ ! -s $file ]]; then
  echo "bench: generating $file" >&2
  partial="$file.partial.$$"
  timeout "$limit" "$gen" --out "$partial" --packets "$packets" --flows "$flows" \
    --duration "$duration" --snaplen "$snaplen" 2>"$file.log.partial.$$"
  mv "$file.log.partial.$$" "$file.log"
  mv "$partial" "$file"
  partial=""
fi
gen_summary=$(sed -n 's/^gen_capture: //p' "$file.log" 2>/dev/null || true)
file_bytes=$(stat -c %s "$file")

# --- timing helpers ----------------------------------------------------------------------
# run NAME CMD...: runs CMD once with stdout to /dev/null; appends "seconds rss_kb" to
# $tmp/NAME. Wall time from EPOCHREALTIME (µs), peak RSS from GNU time.
run() {
  local name=$1
  shift
  local start end rc=0
  start=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$tmp/rss" timeout "$limit" "$@" >/dev/null 2>>"$tmp/$name.err" || rc=$?
  end=$EPOCHREALTIME
  if ((rc != 0)); then
    echo "bench: $name exited with $rc (stderr in the last lines below)" >&2
    tail -n 3 "$tmp/$name.err" >&2 || true
    echo "failed" >>"$tmp/$name.failed"
  fi
  awk -v s="$start" -v e="$end" -v m="$(tail -n 1 "$tmp/rss")" \
    'BEGIN { printf "%.6f %d\n", e - s, m }' >>"$tmp/$name"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med_time() { [[ -s $tmp/$1 ]] && awk '{ print $1 }' "$tmp/$1" | median || echo nan; }
max_rss_mb() { [[ -s $tmp/$1 ]] && awk '$2 > m { m = $2 } END { printf "%.0f", m / 1024 }' "$tmp/$1" || echo nan; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.2f", a / b }'; }
pps() { awk -v n="$1" -v t="$2" 'BEGIN { if (t == "nan" || t == 0) print "nan"; else printf "%.2f M", n / t / 1e6 }'; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench: $file ($((file_bytes / 1000000)) MB), $runs runs per tool, load $load_start" >&2

# Warm the page cache and read the report's own figures (packets, peak active flows).
"$floor" "$file" >"$tmp/floor.out"
total_packets=$(awk '{ print $1 }' "$tmp/floor.out")
"$netscope" analyze "$file" --json "$tmp/report.json" >/dev/null 2>&1 || true
peak_flows=nan
if have jq && [[ -s $tmp/report.json ]]; then
  peak_flows=$(jq -r '.totals.peak_active_flows // "nan"' "$tmp/report.json")
fi

tools=(floor netscope netscope_json netscope_stdin)
have tcptrace && tools+=(tcptrace)
run_tool() {
  # shellcheck disable=SC2016
  case $1 in
    floor) run floor "$floor" "$file" ;;
    netscope) run netscope "$netscope" analyze "$file" ;;
    netscope_json) run netscope_json "$netscope" analyze "$file" --json /dev/null ;;
    # A pipe, not `< FILE`: a redirected regular file is seekable and would be mapped.
    # The single-quoted script is expanded by the inner sh (SC2016).
    netscope_stdin) run netscope_stdin sh -c 'cat "$1" | "$0" analyze -' "$netscope" "$file" ;;
    tcptrace) run tcptrace tcptrace -n "$file" ;;
  esac
}
for ((r = 1; r <= runs; r++)); do
  echo "bench: round $r/$runs" >&2
  for t in "${tools[@]}"; do run_tool "$t"; done
done

# tshark is slow: once, on the whole file or a prefix (then netscope on the same prefix).
tshark_note="not run"
tshark_file=$file tshark_n=$total_packets
if [[ ${BENCH_TSHARK:-1} != 0 ]] && have tshark; then
  if ((tshark_packets > 0 && tshark_packets < total_packets)); then
    tshark_file="$tmp/prefix.pcap" tshark_n=$tshark_packets
    editcap -F pcap -r "$file" "$tshark_file" "1-$tshark_packets" >/dev/null
    for ((r = 1; r <= runs; r++)); do
      run netscope_prefix "$netscope" analyze "$tshark_file"
    done
  fi
  echo "bench: tshark on $tshark_n packets (slow)" >&2
  run tshark tshark -q -z expert -r "$tshark_file"
  tshark_note="1 run on $tshark_n packets"
fi

# --- results -----------------------------------------------------------------------------
t_floor=$(med_time floor)
t_ns=$(med_time netscope)
t_tcptrace=$(med_time tcptrace)
t_tshark=$(med_time tshark)
t_ns_for_tshark=$t_ns
[[ $tshark_n == "$total_packets" ]] || t_ns_for_tshark=$(med_time netscope_prefix)

row() {  # label, key, packets
  local t
  t=$(med_time "$2")
  local n=$runs
  [[ $2 == tshark ]] && n=1
  [[ -e $tmp/$2.failed ]] && n="$n (failed: $(wc -l <"$tmp/$2.failed"))"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$n" "$(awk -v t="$t" 'BEGIN { printf "%.3f", t }')" "$(pps "$3" "$t")" \
    "$(ratio "$t" "$t_floor")" "$(max_rss_mb "$2")"
}
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "nan") print "not measured"; else if ((op == "le" && v <= t) || (op == "ge" && v >= t) || (op == "lt" && v < t) || (op == "gt" && v > t)) print "met"; else print "**missed**" }'; }

r_floor=$(ratio "$t_ns" "$t_floor")
r_tshark=$(ratio "$t_tshark" "$t_ns_for_tshark")
r_tcptrace=$(ratio "$t_tcptrace" "$t_ns")
rss_ns=$(max_rss_mb netscope)
rss_stdin=$(max_rss_mb netscope_stdin)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "### Run of $(date -u '+%Y-%m-%d %H:%M UTC') ($variant capture)"
  echo
  echo "- Machine: $(nproc) CPUs, $cpu_model, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
    "load average $load_start at the start, $load_end at the end (the machine is shared)."
  echo "- netscope ${BENCH_REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')}, Release build with LTO."
  echo "- Capture: \`$(basename "$file")\`, $total_packets packets, $((file_bytes / 1000000)) MB," \
    "classic pcap, Ethernet, snaplen $snaplen. Generator: $gen_summary."
  echo "  netscope's peak of active flows in its table: $peak_flows."
  echo "- Times are wall-clock medians of $runs interleaved runs (tshark: $tshark_note); page cache warm."
  echo
  echo "| tool | runs | median s | packets/s | × floor time | peak RSS MB |"
  echo "|---|---|---|---|---|---|"
  row "libpcap floor (\`pcap_floor\`)" floor "$total_packets"
  row "\`netscope analyze FILE\`" netscope "$total_packets"
  row "\`netscope analyze FILE --json /dev/null\`" netscope_json "$total_packets"
  row "\`cat FILE \\| netscope analyze -\` (pipe: streaming reader, no mmap)" netscope_stdin "$total_packets"
  [[ -s $tmp/tcptrace ]] && row "\`tcptrace -n FILE\`" tcptrace "$total_packets"
  [[ -s $tmp/netscope_prefix ]] && row "\`netscope analyze PREFIX\` ($tshark_n packets)" netscope_prefix "$tshark_n"
  [[ -s $tmp/tshark ]] && row "\`tshark -q -z expert -r …\` ($tshark_n packets)" tshark "$tshark_n"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  echo "| analyze ≤ 1.3 × floor time | $r_floor × | $(verdict "$r_floor" 1.3 le) |"
  echo "| ≥ 40 × faster than tshark | $r_tshark × (tshark time / netscope time, same packets) | $(verdict "$r_tshark" 40 ge) |"
  echo "| faster than tcptrace | $r_tcptrace × (tcptrace time / netscope time) | $(verdict "$r_tcptrace" 1 gt) |"
  echo "| peak RSS < 100 MB (≤ 100k active flows) | $rss_ns MB (mmap; file pages count as RSS), $rss_stdin MB streaming | $(verdict "$rss_stdin" 100 lt) streaming, $(verdict "$rss_ns" 100 lt) mmap |"
} >"$tmp/section.md"

# --- DPI cost (issue 5): analyze vs analyze --no-dpi on the DPI mix, this capture and the
# real captures, interleaved (bench/dpi_cost.sh) -------------------------------------------
if [[ ${BENCH_DPI:-1} != 0 ]]; then
  # The big capture would take its 15 rounds per mode for long: the default one only.
  dpi_synth=""
  [[ $variant == default ]] && dpi_synth=$file
  "$root/bench/dpi_cost.sh" "$build" "$dpi_synth" >>"$tmp/section.md" ||
    echo "bench: dpi_cost.sh failed; no DPI cost in this run" >&2
fi
# --- end DPI cost

if [[ ${BENCH_MICRO:-1} != 0 ]]; then
  micro() {  # name, extra flags...
    local name=$1
    shift
    echo "bench: micro_$name" >&2
    timeout "$limit" "$build/bench/micro_$name" "$@" --benchmark_repetitions="$((runs < 3 ? 3 : runs))" \
      --benchmark_report_aggregates_only=true --benchmark_out="$tmp/micro_$name.json" \
      --benchmark_out_format=json >&2
  }
  micro decode --benchmark_min_time=0.3
  micro flow --benchmark_min_time=0.3
  micro capture --file "$file" --benchmark_enable_random_interleaving=true
  {
    echo
    echo "Micro-benchmarks (Google Benchmark, median of $((runs < 3 ? 3 : runs)) repetitions; CPU time is the"
    echo "steadier figure on a shared machine):"
    echo
    echo "| benchmark | real time | CPU time | items/s (CPU) |"
    echo "|---|---|---|---|"
    for n in decode flow capture; do
      jq -r '.benchmarks[] | select(.aggregate_name == "median") |
        "| \(.run_name | sub("/iterations:1/real_time"; "")) | \(.real_time * 100 | round / 100) \(.time_unit) | \(.cpu_time * 100 | round / 100) \(.time_unit) | \((.items_per_second // 0) / 1e6 * 100 | round / 100) M |"' \
        "$tmp/micro_$n.json"
    done
    jq -r '[.benchmarks[] | select(.aggregate_name == "median") | {key: .run_name, value: .real_time}] | from_entries |
      "\nSame-run ratio, FileReader (mmap) time / pcap_next_ex time over the capture: \((.["BM_FileReader_mmap/iterations:1/real_time"] / .["BM_pcap_next_ex/iterations:1/real_time"]) * 100 | round / 100) (streaming: \((.["BM_FileReader_stream/iterations:1/real_time"] / .["BM_pcap_next_ex/iterations:1/real_time"]) * 100 | round / 100))."' \
      "$tmp/micro_capture.json"
  } >>"$tmp/section.md"
fi

# --- TUI benches: one frame with 100,000 connections (tui_render reports the min, median
# and max frame of each benchmark as counters) and the filter over the connections
# (tui_filter_bench, min / median / max over repetitions) -----------------------------------
tui_runs=$((runs < 5 ? 5 : runs))
if [[ ${BENCH_TUI:-1} != 0 && -x $build/bench/tui_render && -x $build/bench/tui_filter_bench ]]; then
  echo "bench: tui_render, tui_filter_bench" >&2
  if timeout "$limit" "$build/bench/tui_render" --benchmark_out="$tmp/tui_render.json" \
    --benchmark_out_format=json >&2 &&
    timeout "$limit" "$build/bench/tui_filter_bench" --benchmark_repetitions="$tui_runs" \
      --benchmark_out="$tmp/tui_filter.json" --benchmark_out_format=json >&2; then
    {
      echo
      echo "TUI frame (\`tui_render\`: model build, filter, sort and ncurses draw of a 200×60 screen;"
      echo "min / median / max over the iterations of each benchmark; CPU is the UI thread's):"
      echo
      echo "| benchmark | frames | wall ms min / median / max | CPU ms min / median / max |"
      echo "|---|---|---|---|"
      jq -r '.benchmarks[] | select(.run_type == "iteration") | def r: . * 100 | round / 100;
        "| \(.run_name | sub("/manual_time"; "")) | \(.iterations) | \(.min_ms | r) / \(.median_ms | r) / \(.max_ms | r) | \(.cpu_min_ms | r) / \(.cpu_median_ms | r) / \(.cpu_max_ms | r) |"' \
        "$tmp/tui_render.json"
      echo
      echo "TUI filter (\`tui_filter_bench\`: one filter over N connection records; min / median / max of"
      echo "$tui_runs repetitions):"
      echo
      echo "| benchmark | real ms min / median / max | CPU ms min / median / max |"
      echo "|---|---|---|"
      jq -r '[.benchmarks[] | select(.run_type == "iteration")] | group_by(.run_name)[] |
        def r: . * 1000 | round / 1000; def mmm: sort | "\(.[0] | r) / \(.[length / 2 | floor] | r) / \(.[-1] | r)";
        "| \(.[0].run_name) | \(map(.real_time) | mmm) | \(map(.cpu_time) | mmm) |"' "$tmp/tui_filter.json"
    } >>"$tmp/section.md"
  else
    echo "bench: a TUI bench failed; not reported" >&2
  fi
fi
# --- end TUI benches

echo
cat "$tmp/section.md"

# --- docs/PERFORMANCE.md: replace the text between the results markers -------------------
if [[ ${BENCH_DOC:-1} != 0 && -f $doc ]]; then
  begin='<!-- bench:results:begin -->' end='<!-- bench:results:end -->'
  if grep -qF "$begin" "$doc" && grep -qF "$end" "$doc"; then
    awk -v b="$begin" -v e="$end" -v f="$tmp/section.md" '
      $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$doc" >"$tmp/doc.md"
    cat "$tmp/doc.md" >"$doc"
    echo "bench: updated $doc" >&2
  else
    echo "bench: $doc has no results markers; not updated" >&2
  fi
fi
