#!/usr/bin/env bash
# Long fuzzing runs: every fuzz target for SECONDS each, corpus kept in fuzz/corpus-*/.
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1
seconds=${2:-600}
here=$(cd "$(dirname "$0")" && pwd)
pcaps="$here/../../shared/pcaps"
"$build/fuzz/make_seeds" "$build/fuzz/seeds" "$pcaps"/*/*.pcap* "$pcaps"/*/*.cap
for target in "$build"/fuzz/fuzz_*; do
  name=$(basename "$target")
  short=${name#fuzz_}
  corpus="$here/corpus-$short"
  mkdir -p "$corpus"
  seeds="$build/fuzz/seeds/$short"
  [ "$short" = file_reader ] && seeds="$pcaps"
  echo "== $name for ${seconds}s" >&2
  "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "$corpus" "$seeds"
done
