#!/usr/bin/env bash
# bench/dpi_cost.sh BUILD_DIR [SYNTH_FILE] — what deep packet inspection costs `netscope
# analyze` (issue 5: with inspection on, analyze costs at most 15 % more than with
# --no-dpi on the same file). Times `netscope analyze FILE` against `netscope analyze
# --no-dpi FILE`, interleaved (the order alternates every round), on:
#   - the DPI mix of gen_capture (--mix dpi): short TLS, HTTP keep-alive, DNS and opaque
#     connections with full payloads, the worst case for inspection;
#   - SYNTH_FILE, the synthetic capture of bench/run.sh, when given;
#   - the real TLS, QUIC, DNS and HTTP captures of ../shared/pcaps, each copied many
#     times with rewritten addresses (replicate_capture) into one benchmark-sized file;
#   - the largest of those captures on its own (tiny: start-up dominates, so each timed
#     sample runs it 20 times).
# Prints a Markdown section on stdout (bench/run.sh appends it to its results); progress
# on stderr. Wall time from EPOCHREALTIME; CPU time (user + system, all threads) from the
# shell's `times`, the steadier figure on a shared machine. Each mode's minimum and median
# over the rounds are reported with their ratios; the verdict uses the CPU ratio of the
# minima (what the run costs when nothing else interferes: other processes only ever add
# to a run's CPU time, through cache and memory-bandwidth contention) and prints the
# medians' ratio beside it.
#
# Environment: BENCH_DPI_RUNS=15 rounds per file; BENCH_DPI_FLOWS=20000 connections in
# the DPI mix; BENCH_DPI_COPIES=400 copies of the real captures; BENCH_DPI_FILES="dpimix
# synth real largest" (a subset measures only those); BENCH_TIMEOUT=1200.
set -euo pipefail

build=${1:?usage: bench/dpi_cost.sh BUILD_DIR [SYNTH_FILE]}
synth=${2:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$build" && pwd)
runs=${BENCH_DPI_RUNS:-15}
only=${BENCH_DPI_FILES:-dpimix synth real largest}
flows=${BENCH_DPI_FLOWS:-20000}
copies=${BENCH_DPI_COPIES:-400}
limit=${BENCH_TIMEOUT:-1200}
pcaps=$root/../shared/pcaps

gen=$build/bench/gen_capture
replicate=$build/bench/replicate_capture
floor=$build/bench/pcap_floor
netscope=$build/src/cli/netscope
wants() { [[ " $only " == *" $1 "* ]]; }
need=("$floor" "$netscope")
wants dpimix && need+=("$gen")
{ wants real || wants largest; } && need+=("$replicate")
for bin in "${need[@]}"; do
  [[ -x $bin ]] || { echo "dpi_cost: missing $bin (build with -DNETSCOPE_BENCH=ON)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netscope-dpicost.XXXXXX")
partial=""
cleanup() {
  rm -rf "$tmp"
  [[ -z $partial ]] || rm -f "$partial"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$root/bench/data"

# --- the captures, cached in bench/data by generator version and options -----------------
dpi_file=""
wants dpimix && dpi_file="$root/bench/data/dpi-v$("$gen" --dpi-version)-f$flows-d120.pcap"
if [[ -n $dpi_file && ! -s $dpi_file ]]; then
  echo "dpi_cost: generating $dpi_file" >&2
  partial="$dpi_file.partial.$$"
  timeout "$limit" "$gen" --mix dpi --out "$partial" --flows "$flows" --duration 120 \
    --snaplen 65535 2>"$dpi_file.log"
  mv "$partial" "$dpi_file"
  partial=""
fi

# Real captures with TLS, QUIC, DNS or HTTP content (../shared/pcaps/INDEX.md); the
# malformed ones are left out: they test robustness, not cost.
real_inputs=()
for f in zeek/tls_*.pcap zeek/quic_*.pcap zeek/dns_long-connection.pcap zeek/wikipedia.pcap \
  zeek/http_pipelined-requests.pcap tcpdump/quic_handshake.pcap tcpdump/quic_retry.pcap \
  tcpdump/dns-uri.pcap chrissanders/dns_*.pcapng chrissanders/http_google.pcapng \
  packetmancer/captures_http.cap; do
  for g in "$pcaps"/$f; do [[ -s $g ]] && real_inputs+=("$g"); done
done
real_file="" largest=""
if ((${#real_inputs[@]} > 0)) && { wants real || wants largest; }; then
  key=$(printf '%s\n' "${real_inputs[@]##*/}" | md5sum | cut -c1-8)
  real_file="$root/bench/data/real-v$("$replicate" --version)-c$copies-$key.pcap"
  if wants real && [[ ! -s $real_file ]]; then
    echo "dpi_cost: replicating ${#real_inputs[@]} real captures $copies times" >&2
    partial="$real_file.partial.$$"
    timeout "$limit" "$replicate" --out "$partial" --copies "$copies" "${real_inputs[@]}" \
      2>"$real_file.log"
    mv "$partial" "$real_file"
    partial=""
  fi
  largest=$(ls -S "${real_inputs[@]}" | head -n 1)
fi

# --- timing ------------------------------------------------------------------------------
# sample NAME REPS CMD...: runs CMD REPS times (one sample); appends "wall cpu" seconds per
# run. CPU is the children's user + system time as the shell's `times` reports it (ms).
sample() {
  local name=$1 reps=$2
  shift 2
  local start end rc=0 cpu
  start=$EPOCHREALTIME
  cpu=$(
    for ((i = 0; i < reps; i++)); do
      timeout "$limit" "$@" >/dev/null 2>>"$tmp/$name.err" || exit $?
    done
    times  # not in a pipeline: that would run it in a subshell with no children
  ) || rc=$?
  cpu=${cpu##*$'\n'}
  end=$EPOCHREALTIME
  if ((rc != 0)); then
    echo "dpi_cost: $name exited with $rc" >&2
    tail -n 3 "$tmp/$name.err" >&2 || true
    echo failed >>"$tmp/$name.failed"
  fi
  # "0m0.690s 0m0.040s": user, system.
  awk -v s="$start" -v e="$end" -v r="$reps" -v c="$cpu" 'BEGIN {
    n = split(c, f, " "); t = 0
    for (i = 1; i <= n; i++) { split(f[i], p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.6f %.6f\n", (e - s) / r, t / r }' >>"$tmp/$name"
}
col() { awk -v c="$2" '{ print $c }' "$tmp/$1" | sort -n; }
median() { awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat() {  # name column(1 wall, 2 cpu) min|median
  [[ -s $tmp/$1 ]] || { echo nan; return; }
  if [[ $3 == min ]]; then col "$1" "$2" | head -n 1; else col "$1" "$2" | median; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.2f", a / b }'; }
ms() { awk -v t="$1" 'BEGIN { if (t == "nan") print "nan"; else if (t < 1) printf "%.1f ms", t * 1000; else printf "%.3f s", t }'; }

measure() {  # key file reps
  local key=$1 file=$2 reps=$3
  echo "dpi_cost: $key: $runs rounds on $(basename "$file")" >&2
  "$netscope" analyze "$file" >/dev/null 2>&1 || true  # warm the page cache
  for ((r = 1; r <= runs; r++)); do
    if ((r % 2)); then
      sample "$key.dpi" "$reps" "$netscope" analyze "$file"
      sample "$key.nodpi" "$reps" "$netscope" analyze --no-dpi "$file"
    else
      sample "$key.nodpi" "$reps" "$netscope" analyze --no-dpi "$file"
      sample "$key.dpi" "$reps" "$netscope" analyze "$file"
    fi
    sample "$key.floor" "$reps" "$floor" "$file"
  done
}

keys=() labels=() files=()
add() { wants "$1" && keys+=("$1") labels+=("$2") files+=("$3"); return 0; }
[[ -n $dpi_file ]] && add dpimix "DPI mix (\`gen_capture --mix dpi\`, $flows connections)" "$dpi_file"
[[ -n $synth && -s $synth ]] && add synth "synthetic bench capture (\`$(basename "$synth")\`)" "$synth"
[[ -n $real_file && -s $real_file ]] && add real "real captures ×$copies (${#real_inputs[@]} files of ../shared/pcaps)" "$real_file"
[[ -n $largest ]] && add largest "largest real one alone (\`${largest#"$pcaps"/}\`, 20 runs per sample)" "$largest"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for i in "${!keys[@]}"; do
  reps=1
  [[ ${keys[$i]} == largest ]] && reps=20
  measure "${keys[$i]}" "${files[$i]}" "$reps"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

verdict() { awk -v a="$1" 'BEGIN { if (a == "nan") print "not measured"; else if (a <= 1.15) print "met"; else print "**missed**" }'; }
echo
echo "#### DPI cost: \`analyze FILE\` vs \`analyze --no-dpi FILE\`"
echo
echo "$runs interleaved rounds per file (the order of the two alternates); load average $load_start at" \
  "the start, $load_end at the end. CPU = user + system time of all threads. Target: DPI on" \
  "costs ≤ 1.15 × DPI off; the verdict is on the CPU ratio of the minima (the robust figure" \
  "on a shared machine: load only adds to a run's CPU time), the medians' ratio is beside it."
echo
echo "| file | packets | CPU on: min / median | CPU off: min / median | CPU ratio: min (median) | wall on: min / median | wall off: min / median | wall ratio: min (median) | × floor (DPI on, wall min) | verdict |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for i in "${!keys[@]}"; do
  k=${keys[$i]}
  n=$("$floor" "${files[$i]}" | awk '{ print $1 }')
  won=$(stat "$k.dpi" 1 median) woff=$(stat "$k.nodpi" 1 median)
  mon=$(stat "$k.dpi" 1 min) moff=$(stat "$k.nodpi" 1 min)
  con=$(stat "$k.dpi" 2 median) coff=$(stat "$k.nodpi" 2 median)
  cmon=$(stat "$k.dpi" 2 min) cmoff=$(stat "$k.nodpi" 2 min)
  crmin=$(ratio "$cmon" "$cmoff")
  note=""
  [[ -e $tmp/$k.dpi.failed || -e $tmp/$k.nodpi.failed ]] && note=" (runs failed)"
  echo "| ${labels[$i]}$note | $n | $(ms "$cmon") / $(ms "$con") | $(ms "$cmoff") / $(ms "$coff") |" \
    "$crmin ($(ratio "$con" "$coff")) | $(ms "$mon") / $(ms "$won") | $(ms "$moff") / $(ms "$woff") |" \
    "$(ratio "$mon" "$moff") ($(ratio "$won" "$woff")) | $(ratio "$mon" "$(stat "$k.floor" 1 min)") |" \
    "$(verdict "$crmin") |"
done
[[ -n $dpi_file && -s $dpi_file.log ]] && echo && echo "DPI mix: $(sed -n 's/^gen_capture: //p' "$dpi_file.log")."
[[ ${keys[*]} == *real* && -s $real_file.log ]] && echo "Real mix: $(sed -n 's/^replicate_capture: //p' "$real_file.log")."
exit 0
