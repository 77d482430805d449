#!/usr/bin/env bash
# bench/live/run.sh BUILD_DIR — live-capture benchmark (`make bench-live`): small packets
# replayed with `tcpreplay --topspeed` into a veth pair between two network namespaces
# while one capture tool at a time (netscope, tcpdump -w /dev/null, nethogs -t,
# iftop -t -n) listens on the receiving end. Reports, per tool, packets sent / delivered
# / seen, kernel drops and CPU seconds per million packets sent; then netscope's idle CPU
# with 1,000 connections open and its memory per tracked flow. Prints a table and
# rewrites the "Live capture" results of docs/PERFORMANCE.md. Needs root. A report, not a
# test: nothing here asserts a timing.
#
# Environment:
#   LIVE_RUNS=3              rounds; each round runs every tool once (interleaved)
#   LIVE_PACKETS=1500000     packets in the replayed capture
#   LIVE_FLOWS=10000         flows in it
#   LIVE_TOOLS="replay netscope netscope_noattr tcpdump nethogs iftop"
#   LIVE_IDLE_SECONDS=20     length of each idle CPU measurement (0 = skip it)
#   LIVE_SOCKETS=1000        connections held open during the idle measurement
#   LIVE_MEM_FLOWS=100000    distinct flows replayed for the memory measurement (0 = skip)
#   LIVE_DOC=0               do not touch docs/PERFORMANCE.md
#   LIVE_REV                 how to name the measured build (default: git describe)
#   LIVE_BASELINE=BIN        another netscope binary, measured as the tools "base" and
#                            "base_noattr" (A/B comparisons in the same rounds)
#   LIVE_PERF=DIR            profile each netscope run (`perf record -g`, during the replay
#                            only) into DIR/perf-TOOL-ROUND.data (needs perf)
#   LIVE_PERF_ARGS="-g"      perf record's options, e.g. "--call-graph dwarf -F 1000"
set -euo pipefail

build=${1:?usage: bench/live/run.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$build" && pwd)
netscope="$build/src/cli/netscope"
doc="$root/docs/PERFORMANCE.md"
runs=${LIVE_RUNS:-3}
packets=${LIVE_PACKETS:-1500000}
flows=${LIVE_FLOWS:-10000}
read -r -a tools <<<"${LIVE_TOOLS:-replay netscope netscope_noattr tcpdump nethogs iftop}"
idle_s=${LIVE_IDLE_SECONDS:-20}
sockets=${LIVE_SOCKETS:-1000}
mem_flows=${LIVE_MEM_FLOWS:-100000}
python=$(command -v /usr/bin/python3 || command -v python3)
started=$EPOCHREALTIME

die() {
  echo "bench-live: $*" >&2
  exit 2
}
[[ $(id -u) == 0 ]] || die "needs root (network namespaces, packet capture)"
[[ -x $netscope ]] || die "missing $netscope (cmake --build $build --target netscope)"
for c in ip nft ethtool tcpreplay tcpdump nethogs iftop jq; do
  command -v "$c" >/dev/null || die "missing $c (make bench-live installs it)"
done

# --- the two namespaces ------------------------------------------------------------------
# tx sends with tcpreplay; rx receives and runs the tool. Fixed MACs so that a cached
# capture stays addressed to the receiver. The addresses live only inside these
# namespaces; the replayed sources (benchmarking ranges) have no route back in rx.
tx=nsbench-tx-$$ rx=nsbench-rx-$$
tx_dev=nbl-tx rx_dev=nbl-rx
tx_mac=02:00:00:79:00:01 rx_mac=02:00:00:79:00:02
tx_ip=10.79.0.1 rx_ip=10.79.0.2 rx_ip6=fd00:79::2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netscope-bench-live.XXXXXX")
pids=()
partial=""

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$tx" 2>/dev/null || true
  ip netns del "$rx" 2>/dev/null || true
  [[ -z $partial ]] || rm -f "$partial"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget PID: it has been waited for; cleanup must not signal a recycled pid.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}

in_rx() { ip netns exec "$rx" "$@"; }
in_tx() { ip netns exec "$tx" "$@"; }

ip netns add "$tx"
ip netns add "$rx"
ip link add "$tx_dev" netns "$tx" type veth peer name "$rx_dev" netns "$rx"
ip -n "$tx" link set "$tx_dev" address "$tx_mac"
ip -n "$rx" link set "$rx_dev" address "$rx_mac"
ip -n "$tx" addr add "$tx_ip/24" dev "$tx_dev"
ip -n "$rx" addr add "$rx_ip/24" dev "$rx_dev"
ip -n "$rx" addr add "$rx_ip6/64" dev "$rx_dev" nodad
for ns in "$tx" "$rx"; do
  ip -n "$ns" link set lo up
done
ip -n "$tx" link set "$tx_dev" up
ip -n "$rx" link set "$rx_dev" up
# Offloads off: one packet is one frame on both ends (no GRO merging of the replay).
in_tx ethtool -K "$tx_dev" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
in_rx ethtool -K "$rx_dev" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
# The replay is dropped at ingress, after the packet taps (AF_PACKET sees it first), so
# rx's IP stack spends nothing on it and the link carries only the replayed frames.
in_rx nft -f - <<EOF
table netdev nsbench {
  chain ingress {
    type filter hook ingress device "$rx_dev" priority -500; policy accept;
    ip saddr 198.18.0.0/15 drop
    ip6 saddr 2001:2::/48 drop
  }
}
EOF

# --- the captures, cached by generator version and options --------------------------------
mkdir -p "$root/bench/data"
capture() {  # packets flows seed -> path
  local args=(--packets "$1" --flows "$2" --seed "$3" --src-mac "$tx_mac" --dst-mac "$rx_mac"
    --dst4 "$rx_ip" --dst6 "$rx_ip6")
  local key
  key=$(echo "$("$python" "$here/gen_replay.py" --version) ${args[*]}" | md5sum | cut -c1-8)
  local file="$root/bench/data/live-p$1-f$2-$key.pcap"
  if [[ ! -s $file ]]; then
    echo "bench-live: generating $file" >&2
    partial="$file.partial.$$"
    "$python" "$here/gen_replay.py" --out "$partial" "${args[@]}" 2>/dev/null
    mv "$partial" "$file"
    partial=""
  fi
  echo "$file"
}
replay_file=$(capture "$packets" "$flows" 1)
mem_file=""
((mem_flows > 0)) && mem_file=$(capture "$((mem_flows * 2))" "$mem_flows" 2)

# --- helpers -----------------------------------------------------------------------------
# CPU time of a process in ns: the sum over its threads of the scheduler's run time
# (/proc/PID/task/*/schedstat, ns resolution; utime+stime in /proc/PID/stat only has
# 10 ms ticks). All threads of the tools measured here live for the whole window.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status; }
rx_packets() { in_rx cat "/sys/class/net/$rx_dev/statistics/rx_packets"; }
packet_sockets() { in_rx awk 'NR > 1' /proc/net/packet | wc -l; }

# start NAME CMD...: runs CMD in rx in the background (stdout/stderr to $tmp/NAME.*);
# sets $pid. Waits until it has opened its packet socket(s), then 1 s for its set-up.
start() {
  local name=$1
  shift
  local before
  before=$(packet_sockets)
  ip netns exec "$rx" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  pids+=("$pid")
  local i
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited at start: $(tail -n 3 "$tmp/$name.err")"
    (($(packet_sockets) > before)) && break
    sleep 0.1
  done
  sleep 1
}
# alive NAME: dies when the tool started as NAME is gone (a crash mid-run).
alive() {
  kill -0 "$pid" 2>/dev/null || die "$1 exited during the run: $(tail -n 3 "$tmp/$1.err")"
}
# stop: SIGINT (every tool here flushes its report on it), then SIGKILL after 30 s.
# Sets $status to the tool's exit status.
stop() {
  kill -INT "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  wait "$pid" 2>/dev/null || status=$?
  forget "$pid"
}
# replay FILE: sets sent, secs and pps from tcpreplay's report.
replay() {
  # In the background and waited for, so that INT/TERM end the run at once (bash runs a
  # trap only after a foreground command returns); cleanup kills it.
  ip netns exec "$tx" tcpreplay --topspeed --preload-pcap --no-flow-stats -i "$tx_dev" "$1" \
    >"$tmp/tcpreplay.out" 2>&1 &
  local rp=$!
  pids+=("$rp")
  local rc=0
  wait "$rp" || rc=$?
  forget "$rp"
  ((rc == 0)) || die "tcpreplay failed: $(tail -n 3 "$tmp/tcpreplay.out")"
  read -r sent secs pps < <(awk '/Successful packets:/ { n = $3 } /^Actual:/ { s = $(NF - 1) }
    /^Rated:/ { r = $(NF - 1) } END { print n, s, r }' "$tmp/tcpreplay.out")
  [[ -n $sent && -n $pps ]] || die "no tcpreplay report: $(tail -n 3 "$tmp/tcpreplay.out")"
}

# One measurement: start the tool, replay, wait 1 s for it to drain its ring, sample
# its CPU, stop it, read what it says it saw. Appends a row to $tmp/results.tsv:
# tool round sent delivered seen drops cpu_s replay_s pps
measure() {
  local tool=$1 round=$2 seen=na drops=na cpu0=0 cpu1=0 d0 d1
  pid=""
  rm -f "$tmp/snap.json"
  case $tool in
    replay) ;;
    netscope) start "$tool" "$netscope" snapshot -n -i "$rx_dev" --duration 3600 --output "$tmp/snap.json" ;;
    netscope_noattr)
      start "$tool" "$netscope" snapshot -n --no-attribution -i "$rx_dev" --duration 3600 \
        --output "$tmp/snap.json"
      ;;
    base | base_noattr)
      [[ -x ${LIVE_BASELINE:-} ]] || die "tool $tool needs LIVE_BASELINE=path/to/netscope"
      local noattr=()
      [[ $tool == base ]] || noattr=(--no-attribution)
      start "$tool" "$LIVE_BASELINE" snapshot -n "${noattr[@]}" -i "$rx_dev" --duration 3600 \
        --output "$tmp/snap.json"
      ;;
    tcpdump) start "$tool" tcpdump -i "$rx_dev" -w /dev/null ;;
    nethogs) start "$tool" nethogs -t "$rx_dev" ;;
    iftop) start "$tool" iftop -t -n -i "$rx_dev" ;;
    *) die "unknown tool $tool" ;;
  esac
  [[ -z $pid ]] || cpu0=$(cpu_ns "$pid")
  d0=$(rx_packets)
  local sent secs pps perf_pid=""
  if [[ -n ${LIVE_PERF:-} && -n $pid && $tool != tcpdump && $tool != nethogs && $tool != iftop ]]; then
    mkdir -p "$LIVE_PERF"
    perf record ${LIVE_PERF_ARGS:--g} -p "$pid" -o "$LIVE_PERF/perf-$tool-$round.data" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
  fi
  replay "$replay_file"
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  sleep 1
  d1=$(rx_packets)
  if [[ -n $pid ]]; then
    alive "$tool"
    cpu1=$(cpu_ns "$pid")
    stop
  fi
  case $tool in
    netscope* | base*)
      if ((status != 0)) || [[ ! -s $tmp/snap.json ]]; then
        die "$tool exited with $status, no snapshot: $(tail -n 3 "$tmp/$tool.err")"
      fi
      seen=$(jq '.totals.packets' "$tmp/snap.json")
      drops=$(jq '[.totals.kernel_drops, ([.interfaces[].drops // 0] | add)] | max' "$tmp/snap.json")
      ;;
    tcpdump)
      seen=$(awk '/packets captured/ { print $1 }' "$tmp/tcpdump.err")
      drops=$(awk '/packets dropped by kernel/ { print $1 }' "$tmp/tcpdump.err")
      ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$round" "$sent" "$((d1 - d0))" "$seen" \
    "$drops" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" \
    "$secs" "$pps" >>"$tmp/results.tsv"
  echo "bench-live: round $round $tool: $(tail -n 1 "$tmp/results.tsv" | cut -f3-)" >&2
}

# --- 1. throughput, CPU and drops per tool --------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-live: $(basename "$replay_file"), $runs rounds of: ${tools[*]}; load $load_start" >&2
printf 'tool\tround\tsent\tdelivered\tseen\tdrops\tcpu_s\treplay_s\tpps\n' >"$tmp/results.tsv"
for ((r = 1; r <= runs; r++)); do
  for t in "${tools[@]}"; do measure "$t" "$r"; done
done

# --- 2. idle CPU: no sockets, then SOCKETS connections opened while netscope watches ------
# --json-lines --top 10 keeps the output small and shows that the connections are
# tracked and attributed (totals.flows, processes[].connections).
measure_idle() {  # label: appends "label cpu_pct" to $tmp/idle.tsv
  local a b
  a=$(cpu_ns "$pid")
  sleep "$idle_s" &
  wait "$!"
  alive idle
  b=$(cpu_ns "$pid")
  printf '%s\t%s\n' "$1" "$(awk -v a="$a" -v b="$b" -v s="$idle_s" 'BEGIN { printf "%.3f", (b - a) / 1e9 / s * 100 }')" >>"$tmp/idle.tsv"
}
: >"$tmp/idle.tsv"
if ((idle_s > 0)); then
  echo "bench-live: idle CPU, ${idle_s} s with no connections, then ${idle_s} s with $sockets" >&2
  start idle "$netscope" -n -i "$rx_dev" --refresh 1000 --json-lines --top 10
  measure_idle 0
  ip netns exec "$rx" "$python" "$here/hold_sockets.py" serve "$rx_ip" 5300 "$sockets" "$tmp/serve.ready" \
    --hold 300 >/dev/null 2>"$tmp/serve.err" &
  holders=("$!")
  pids+=("$!")
  for ((i = 0; i < 100; i++)); do
    in_rx ss -Hltn "sport = :5300" | grep -q LISTEN && break
    sleep 0.1
  done
  ip netns exec "$tx" "$python" "$here/hold_sockets.py" connect "$rx_ip" 5300 "$sockets" "$tmp/connect.ready" \
    --hold 300 >/dev/null 2>"$tmp/connect.err" &
  holders+=("$!")
  pids+=("$!")
  for ((i = 0; i < 600; i++)); do
    [[ -e $tmp/serve.ready && -e $tmp/connect.ready ]] && break
    sleep 0.1
  done
  [[ -e $tmp/serve.ready ]] || die "could not open $sockets connections: $(tail -n 2 "$tmp"/*.err)"
  sleep 3  # the handshakes' attribution and a few ticks
  measure_idle "$sockets"
  stop
  idle_flows=$(tail -n 1 "$tmp/idle.out" | jq '.totals.flows')
  idle_attributed=$(tail -n 1 "$tmp/idle.out" | jq '[.processes[] | select(.name // "" | startswith("python")) | .connections] | add // 0')
  for p in "${holders[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    forget "$p"
  done
fi

# --- 3. memory per tracked flow -------------------------------------------------------------
# RSS of the live monitor before and after MEM_FLOWS distinct flows arrive (2 packets
# each), once netscope has read every packet (its ticks' totals.packets) and two more
# ticks have passed (RSS sampled over three more ticks: lowest and highest). The flow
# table's index is sized from --max-flows at start-up, so it is in the "before" figure; a
# run at the minimum --max-flows gives the RSS without it.
mem_row=""
if [[ -n $mem_file ]]; then
  echo "bench-live: memory, $mem_flows flows" >&2
  max_flows=$((mem_flows + mem_flows / 4))
  start mem_min "$netscope" -n -i "$rx_dev" --max-flows 16 --json-lines --top 1
  sleep 2
  alive mem_min
  rss_min=$(rss_kb "$pid")
  stop
  start mem "$netscope" -n -i "$rx_dev" --max-flows "$max_flows" --json-lines --top 1
  sleep 2
  alive mem
  rss_before=$(rss_kb "$pid")
  d0=$(rx_packets)
  replay "$mem_file"
  mem_sent=$sent
  d1=$(rx_packets)
  got=0
  for ((i = 0; i < 120; i++)); do  # at most 60 s for netscope to catch up
    sleep 0.5
    got=$(tail -n 1 "$tmp/mem.out" | jq '.totals.packets // 0' 2>/dev/null || echo 0)
    ((got >= d1 - d0)) && break
  done
  # The RSS differs between ticks and during one (a tick builds the next snapshot while
  # the last is still held): sample it every 0.25 s for 3 s, about three ticks, and keep
  # the lowest (between ticks) and the highest.
  sleep 0.5
  rss_after="" rss_after_max=0
  for ((i = 0; i < 12; i++)); do
    alive mem
    r=$(rss_kb "$pid")
    [[ -n $rss_after ]] && ((r >= rss_after)) || rss_after=$r
    ((r <= rss_after_max)) || rss_after_max=$r
    sleep 0.25
  done
  mem_tracked=$(tail -n 1 "$tmp/mem.out" | jq '.totals.flows')
  mem_evicted=$(tail -n 1 "$tmp/mem.out" | jq '.totals.flows_evicted')
  mem_overflow=$(tail -n 1 "$tmp/mem.out" | jq '.totals.attribution_overflow')
  stop
  mem_row="$mem_flows $mem_sent $((d1 - d0)) $got $mem_tracked $mem_evicted $mem_overflow $max_flows $rss_min $rss_before $rss_after $rss_after_max"
fi

# --- report --------------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f", e - s }')
{
  echo "### Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r);" \
    "load average $load_start at the start, $load_end at the end (the machine is shared)."
  echo "- netscope ${LIVE_REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')}," \
    "Release build; $(tcpdump --version 2>&1 | head -n 1), $(tcpreplay --version 2>&1 | head -n 1 | sed 's/ (build.*//')," \
    "nethogs $(dpkg-query -W -f='${Version}' nethogs 2>/dev/null), iftop $(dpkg-query -W -f='${Version}' iftop 2>/dev/null)."
  echo "- Replay: \`$(basename "$replay_file")\`, $packets packets of $flows flows," \
    "$(awk -v b="$(stat -c %s "$replay_file")" -v n="$packets" 'BEGIN { printf "%.0f", (b - 24) / n - 16 }') bytes per frame on average;" \
    "$runs interleaved rounds; the whole benchmark took ${elapsed} s."
  echo
  "$python" "$here/report.py" "$tmp/results.tsv" "$tmp/idle.tsv" "$idle_s" "$sockets" \
    "${idle_flows:-null}" "${idle_attributed:-null}" "$mem_row"
} >"$tmp/section.md"
echo
cat "$tmp/section.md"

if [[ ${LIVE_DOC:-1} != 0 && -f $doc ]]; then
  "$python" "$here/report.py" --update-doc "$doc" "$tmp/section.md"
fi
