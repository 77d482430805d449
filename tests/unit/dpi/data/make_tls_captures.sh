#!/bin/sh
# Writes the two captures next to this script (run as root; needs ip netns, openssl,
# tcpdump, python3). openssl s_client sends a ClientHello of ~3.5 KB (a 250-entry ALPN
# list stands in for post-quantum key shares) over a veth with offloads off, so it spans
# three TCP segments; a second connection sends a small one. The _reordered copy swaps
# the three segments to last-middle-first with the timestamps kept in order, as a capture
# point behind a reordering path would see them.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
cleanup() { ip netns del dpiA 2>/dev/null || true; ip netns del dpiB 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
ip netns add dpiA
ip netns add dpiB
ip link add vA type veth peer name vB
ip link set vA netns dpiA
ip link set vB netns dpiB
ip -n dpiA addr add 10.77.0.1/24 dev vA
ip -n dpiB addr add 10.77.0.2/24 dev vB
ip -n dpiA link set vA up
ip -n dpiB link set vB up
ip netns exec dpiA ethtool -K vA tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec dpiB ethtool -K vB tso off gso off gro off >/dev/null 2>&1 || true
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
  -subj /CN=test >/dev/null 2>&1
ip netns exec dpiA timeout 20 tcpdump -i vA -w "$out/tls_big_client_hello.pcap" -U tcp port 4443 \
  >/dev/null 2>&1 &
sleep 1
ip netns exec dpiB timeout 15 openssl s_server -accept 4443 -cert "$tmp/cert.pem" \
  -key "$tmp/key.pem" -alpn h2,proto1 -www >/dev/null 2>&1 &
sleep 1
alpn=$(python3 -c "print(','.join(['h2'] + ['protocol-%03d' % i for i in range(250)]))")
echo | ip netns exec dpiA timeout 5 openssl s_client -connect 10.77.0.2:4443 \
  -servername big.example.test -alpn "$alpn" >/dev/null 2>&1 || true
echo | ip netns exec dpiA timeout 5 openssl s_client -connect 10.77.0.2:4443 \
  -servername small.example.test -alpn h2,http/1.1 >/dev/null 2>&1 || true
sleep 2
wait
python3 - "$out/tls_big_client_hello.pcap" "$out/tls_big_client_hello_reordered.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
recs, off = [], 24
while off < len(d):
    s, us, cap, orig = struct.unpack('<IIII', d[off:off + 16])
    recs.append([s, us, d[off + 16:off + 16 + cap], orig])
    off += 16 + cap
times = [(r[0], r[1]) for r in recs[3:6]]   # frames 4-6: the three ClientHello segments
recs[3:6] = recs[3:6][::-1]
for r, t in zip(recs[3:6], times):
    r[0], r[1] = t
open(sys.argv[2], 'wb').write(d[:24] + b''.join(
    struct.pack('<IIII', r[0], r[1], len(r[2]), r[3]) + r[2] for r in recs))
PY
