// UDP (RFC 768). The payload length comes from the UDP length field, bounded by the IP
// payload; well-known tunnel ports forward the payload to the tunnel decoder.

#include <algorithm>
#include <array>

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

struct PortEntry {
  std::uint16_t port;
  LayerFn fn;
};

constexpr std::array kTunnelPorts{
    PortEntry{4789, decode_vxlan},  // RFC 7348 §5
};

}  // namespace

bool decode_udp(Bytes b, Ctx& ctx) {
  if (b.size() < 8) {
    ctx.bump(Anomaly::truncated_udp);
    return false;
  }
  const std::uint32_t wire = ctx.wire_avail(b);
  std::uint32_t udp_len = core::load_be16(b.data() + 4);
  if (udp_len == 0 && ctx.view.ip_version == 6) {
    udp_len = wire;  // RFC 2675 §4: jumbograms carry UDP length 0
  } else if (udp_len > wire && ctx.view.first_fragment) {
    udp_len = wire;  // the length covers the reassembled datagram, not this fragment
  } else if (udp_len < 8 || udp_len > wire) {
    ctx.bump(Anomaly::bad_udp_length);
    udp_len = wire;
  } else if (udp_len < wire) {
    // Bytes after the datagram inside the IP payload: a sender bug or an attempt to
    // smuggle data past parsers that trust one of the two lengths.
    ctx.bump(Anomaly::udp_trailing_bytes);
  }
  PacketView& v = ctx.view;
  v.sport = core::load_be16(b.data());
  v.dport = core::load_be16(b.data() + 2);
  v.payload_len = udp_len - 8;
  v.payload = b.subspan(8, std::min<std::size_t>(b.size(), udp_len) - 8);
  v.layers |= PacketView::kTransport;
  ctx.wire_end = ctx.offset(b) + udp_len;  // a tunnelled packet ends with the datagram
  for (const auto& e : kTunnelPorts) {
    if (e.port == v.dport) return e.fn(v.payload, ctx);
  }
  return true;
}

}  // namespace netscope::decode::detail
