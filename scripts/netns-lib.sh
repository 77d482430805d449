# shellcheck shell=bash
# Two network namespaces joined by a veth pair, for tests and for making captures from
# real traffic. Source this file, then:
#   netns_up            # creates $NS_CLI (10.77.X.1, fd77:X::1) and $NS_SRV (.2, ::2)
#   netns_down          # removes them (also run from the EXIT trap netns_up installs)
# NETNS_TAG makes names unique so several tests can run at once.

NETNS_TAG=${NETNS_TAG:-$$}
NS_CLI="nscli-${NETNS_TAG}"
NS_SRV="nssrv-${NETNS_TAG}"
VETH_CLI="vc${NETNS_TAG}"
VETH_SRV="vs${NETNS_TAG}"
# A /24 per tag, derived from the tag, so that concurrent runs do not collide.
NETNS_NET=$(( (NETNS_TAG % 250) + 1 ))
CLI_IP="10.77.${NETNS_NET}.1"
SRV_IP="10.77.${NETNS_NET}.2"
CLI_IP6="fd77:${NETNS_NET}::1"
SRV_IP6="fd77:${NETNS_NET}::2"

netns_down() {
  local pids
  for ns in "$NS_CLI" "$NS_SRV"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  sleep 0.2
  for ns in "$NS_CLI" "$NS_SRV"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

netns_up() {
  netns_down
  trap netns_down EXIT
  ip netns add "$NS_CLI"
  ip netns add "$NS_SRV"
  ip link add "$VETH_CLI" type veth peer name "$VETH_SRV"
  ip link set "$VETH_CLI" netns "$NS_CLI"
  ip link set "$VETH_SRV" netns "$NS_SRV"
  ip -n "$NS_CLI" addr add "$CLI_IP/24" dev "$VETH_CLI"
  ip -n "$NS_SRV" addr add "$SRV_IP/24" dev "$VETH_SRV"
  ip -n "$NS_CLI" addr add "$CLI_IP6/64" dev "$VETH_CLI" nodad
  ip -n "$NS_SRV" addr add "$SRV_IP6/64" dev "$VETH_SRV" nodad
  for ns in "$NS_CLI" "$NS_SRV"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_CLI" link set "$VETH_CLI" up
  ip -n "$NS_SRV" link set "$VETH_SRV" up
  # Offloads off, so that the capture shows the segments that were really on the wire.
  if command -v ethtool >/dev/null 2>&1; then
    ip netns exec "$NS_CLI" ethtool -K "$VETH_CLI" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
    ip netns exec "$NS_SRV" ethtool -K "$VETH_SRV" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
  fi
}

# netns_loss NS IFACE PER_1024 [MATCH...]: drop PER_1024/1024 of the packets arriving on
# IFACE in NS that match the nft expression MATCH (no netem on this kernel).
netns_loss() {
  local ns=$1 ifc=$2 per=$3
  shift 3
  ip netns exec "$ns" nft -f - <<NFT
table netdev loss {
  chain ingress {
    type filter hook ingress device "$ifc" priority 0; policy accept;
    $* meta random & 1023 < $per drop
  }
}
NFT
}

# netns_wait_port NS PORT: wait (bounded) until something listens on TCP PORT in NS.
netns_wait_port() {
  local ns=$1 port=$2 i
  for i in $(seq 1 100); do
    ip netns exec "$ns" ss -ltn "sport = :$port" | grep -q LISTEN && return 0
    sleep 0.05
  done
  echo "netns_wait_port: nothing listening on $port in $ns" >&2
  return 1
}
