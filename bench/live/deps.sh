#!/usr/bin/env bash
# bench/live/deps.sh — installs the Debian packages `make bench-live` needs beyond
# scripts/setup's: the replayer and the two monitors it is compared with, and jq for
# reading reports. Silent when everything is there.
set -euo pipefail

packages=(tcpreplay nethogs iftop jq tcpdump nftables ethtool iproute2 python3)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) != 0 ]]; then
  echo "bench/live/deps.sh: missing packages: ${missing[*]}; run as root (make bench-live needs root anyway)" >&2
  exit 2
fi
echo "bench/live/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
