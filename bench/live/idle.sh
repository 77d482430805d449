#!/usr/bin/env bash
# bench/live/idle.sh BUILD_DIR — netscope's idle cost with many connections open: N idle
# TCP connections between two network namespaces (hold_sockets.py), netscope live in the
# server's namespace at a 1 s refresh, and its CPU over a window read from the scheduler
# (/proc/PID/task/*/schedstat), per thread and in total. The same measurement as the idle
# part of bench/live/run.sh, on its own and with more knobs. Needs root. A report, not a
# test: nothing here asserts a timing.
#
# Environment:
#   IDLE_SOCKETS=1000        connections held open
#   IDLE_SECONDS=30          length of each measurement
#   IDLE_ROUNDS=1            measurements per mode
#   IDLE_MODES="json-lines"  any of: json-lines (--json-lines --top 10), json-full
#                            (--json-lines, every row), raw (--raw), tui (the TUI in tmux)
#   IDLE_EMPTY=0             1: also measure with no connections open first
#   IDLE_ARGS=""             extra netscope options
#   IDLE_PERF=PREFIX         profile each window with `perf record -g` into PREFIX.<n>
set -euo pipefail

build=${1:?usage: bench/live/idle.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$build" && pwd)
netscope="$build/src/cli/netscope"
sockets=${IDLE_SOCKETS:-1000}
secs=${IDLE_SECONDS:-30}
rounds=${IDLE_ROUNDS:-1}
read -r -a modes <<<"${IDLE_MODES:-json-lines}"
read -r -a extra <<<"${IDLE_ARGS:-}"
python=$(command -v /usr/bin/python3 || command -v python3)

die() {
  echo "bench-idle: $*" >&2
  exit 2
}
[[ $(id -u) == 0 ]] || die "needs root (network namespaces, packet capture)"
[[ -x $netscope ]] || die "missing $netscope (cmake --build $build --target netscope)"
((sockets <= 60000)) || die "IDLE_SOCKETS must be at most 60000"

# Namespaces and addresses of the e2e tag 76 range (tests/e2e/common.py), named nsidle-*.
cli=nsidle-cli-$$ srv=nsidle-srv-$$
cdev=nsidle-c sdev=nsidle-s
cli_ip=10.78.77.1 srv_ip=10.78.77.2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netscope-bench-idle.XXXXXX")
tmux_sock=nsidle-$$
pids=()
label_n=0

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  tmux -L "$tmux_sock" kill-server 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  ip netns del "$srv" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$cli"
ip netns add "$srv"
ip link add "$cdev" netns "$cli" type veth peer name "$sdev" netns "$srv"
ip -n "$cli" addr add "$cli_ip/24" dev "$cdev"
ip -n "$srv" addr add "$srv_ip/24" dev "$sdev"
for ns in "$cli" "$srv"; do ip -n "$ns" link set lo up; done
ip -n "$cli" link set "$cdev" up
ip -n "$srv" link set "$sdev" up

# CPU time in ns of every thread of PID: "tid comm ns" lines.
threads_ns() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm" 2>/dev/null)" \
      "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
  done
}

# measure LABEL PID: CPU of PID over $secs, total and per thread name.
measure() {
  local label=$1 p=$2
  threads_ns "$p" >"$tmp/before"
  if [[ -n ${IDLE_PERF:-} ]]; then
    perf record -q -e cpu-clock -F 2000 -g -p "$p" -o "$IDLE_PERF.$label_n" -- sleep "$secs" \
      >/dev/null 2>&1 &
    label_n=$((label_n + 1))
  else
    sleep "$secs" &
  fi
  wait "$!"
  kill -0 "$p" 2>/dev/null || die "netscope exited during the run"
  threads_ns "$p" >"$tmp/after"
  awk -v s="$secs" -v label="$label" '
    NR == FNR { before[$1] = $3; next }
    { d = $3 - before[$1]; total += d; by[$2] += d }
    END {
      printf "%-28s %6.3f %% of one core", label, total / 1e9 / s * 100
      for (n in by) printf "  %s %.3f", n, by[n] / 1e9 / s * 100
      printf "\n"
    }' "$tmp/before" "$tmp/after"
}

# start_netscope MODE: sets $np to netscope's pid, running in the server's namespace.
start_netscope() {
  local args=(-n -i "$sdev" --refresh 1000 "${extra[@]}")
  case $1 in
    json-lines) args+=(--json-lines --top 10) ;;
    json-full) args+=(--json-lines) ;;
    raw) args+=(--raw) ;;
    tui) ;;
    *) die "unknown mode $1" ;;
  esac
  if [[ $1 == tui ]]; then
    tmux -L "$tmux_sock" new-session -d -x 200 -y 50 \
      "ip netns exec $srv $netscope ${args[*]} 2>$tmp/netscope.err"
    local i
    for ((i = 0; i < 50; i++)); do
      np=$(pgrep -f "^$netscope " -P "$(tmux -L "$tmux_sock" display -p '#{pane_pid}')" || true)
      [[ -n $np ]] && break
      # ip netns exec execs netscope: the pane's process is netscope itself.
      np=$(tmux -L "$tmux_sock" display -p '#{pane_pid}')
      [[ $(readlink "/proc/$np/exe" 2>/dev/null) == "$netscope" ]] && break
      np=""
      sleep 0.1
    done
    [[ -n $np ]] || die "the TUI did not start"
  else
    ip netns exec "$srv" "$netscope" "${args[@]}" >"$tmp/netscope.out" 2>"$tmp/netscope.err" &
    np=$!
    pids+=("$np")
  fi
  sleep 5  # start-up, the first refreshes and the attribution of what is open
  kill -0 "$np" 2>/dev/null || die "netscope exited at start: $(tail -n 3 "$tmp/netscope.err")"
}

stop_netscope() {
  if [[ $1 == tui ]]; then
    tmux -L "$tmux_sock" kill-server 2>/dev/null || true
  else
    kill -INT "$np" 2>/dev/null || true
    wait "$np" 2>/dev/null || true
  fi
  np=""
}

# open_connections / close_connections: the N idle connections, opened while netscope
# watches (an idle connection sends nothing, so a monitor started later never sees it).
open_connections() {
  rm -f "$tmp/serve.ready" "$tmp/connect.ready"
  ip netns exec "$srv" "$python" "$here/hold_sockets.py" serve "$srv_ip" 5300 "$sockets" \
    "$tmp/serve.ready" --hold 3600 >/dev/null 2>"$tmp/serve.err" &
  holders=("$!")
  pids+=("$!")
  local i
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$srv" ss -Hltn "sport = :5300" | grep -q LISTEN && break
    sleep 0.1
  done
  ip netns exec "$cli" "$python" "$here/hold_sockets.py" connect "$srv_ip" 5300 "$sockets" \
    "$tmp/connect.ready" --hold 3600 >/dev/null 2>"$tmp/connect.err" &
  holders+=("$!")
  pids+=("$!")
  for ((i = 0; i < 1200; i++)); do
    [[ -e $tmp/serve.ready && -e $tmp/connect.ready ]] && break
    sleep 0.1
  done
  [[ -e $tmp/serve.ready ]] || die "could not open $sockets connections: $(tail -n 2 "$tmp"/*.err)"
  sleep 3  # the handshakes' attribution and a few ticks
}
close_connections() {
  local p
  for p in "${holders[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  holders=()
  # Until the server's port is free again (TIME_WAIT sockets do not block SO_REUSEADDR).
  sleep 1
}

echo "bench-idle: $netscope ($("$netscope" --version 2>/dev/null | head -n 1)), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${IDLE_EMPTY:-0} == 1 ]]; then
  for mode in "${modes[@]}"; do
    start_netscope "$mode"
    measure "$mode, 0 connections" "$np"
    stop_netscope "$mode"
  done
fi

for ((r = 1; r <= rounds; r++)); do
  for mode in "${modes[@]}"; do
    start_netscope "$mode"
    open_connections
    measure "$mode, $sockets connections" "$np"
    if [[ $mode == json-lines || $mode == json-full ]]; then
      last=$(tail -n 1 "$tmp/netscope.out")
      echo "  flows tracked $(jq '.totals.flows' <<<"$last"), attributed to python:" \
        "$(jq '[.processes[] | select(.name // "" | startswith("python")) | .connections] | add // 0' <<<"$last")"
    fi
    stop_netscope "$mode"
    close_connections
  done
done
