// Tunnels: GRE (RFC 2784, key and sequence number from RFC 2890), VXLAN (RFC 7348) and
// IP-in-IP (RFC 2003, RFC 4213). The inner packet is decoded into the same view, so the
// view describes the innermost flow; the outer addresses and the key/VNI are kept in
// tunnel_src/tunnel_dst/tunnel_id. Nesting is bounded by kMaxEncapDepth.

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

constexpr std::uint16_t kTransparentEthernet = 0x6558;  // RFC 1701 §3.1 protocol types

}  // namespace

bool enter_tunnel(Ctx& ctx, Tunnel kind, std::uint32_t id) {
  if (ctx.depth >= kMaxEncapDepth) {
    ctx.bump(Anomaly::tunnel_too_deep);
    return false;
  }
  ++ctx.depth;
  PacketView& v = ctx.view;
  v.tunnel = kind;
  v.tunnel_id = id;
  v.tunnel_src = v.src;
  v.tunnel_dst = v.dst;
  // The outer transport header (UDP for VXLAN) must not leak into the inner flow.
  v.layers &= static_cast<std::uint8_t>(~PacketView::kTransport);
  v.sport = 0;
  v.dport = 0;
  v.payload_len = 0;
  v.payload = {};
  return true;
}

// RFC 2784 §2: C(1) R(1) K(1) S(1) reserved(9) version(3), protocol type(2), then the
// optional checksum+reserved, key and sequence number words in that order.
bool decode_gre(Bytes b, Ctx& ctx) {
  if (b.size() < 4) {
    ctx.bump(Anomaly::truncated_gre);
    return false;
  }
  const std::uint16_t flags = core::load_be16(b.data());
  const std::uint16_t proto = core::load_be16(b.data() + 2);
  // Version 1 is PPTP's enhanced GRE (RFC 2637) and R is RFC 1701 source routing:
  // neither carries a packet we decode.
  if ((flags & 0x0007) != 0 || (flags & 0x4000) != 0) return false;
  std::size_t len = 4;
  if ((flags & 0x8000) != 0) len += 4;  // checksum + reserved1
  std::uint32_t key = 0;
  if ((flags & 0x2000) != 0) {
    if (b.size() < len + 4) {
      ctx.bump(Anomaly::truncated_gre);
      return false;
    }
    key = core::load_be32(b.data() + len);
    len += 4;
  }
  if ((flags & 0x1000) != 0) len += 4;  // sequence number
  if (b.size() < len) {
    ctx.bump(Anomaly::truncated_gre);
    return false;
  }
  if (!enter_tunnel(ctx, Tunnel::gre, key)) return false;
  const Bytes inner = b.subspan(len);
  if (proto == kTransparentEthernet) return decode_ethernet(inner, ctx);
  return dispatch_ethertype(proto, inner, ctx);
}

// RFC 7348 §5: flags(1, I bit 0x08 says the VNI is valid) reserved(3) VNI(3) reserved(1),
// then an Ethernet frame.
bool decode_vxlan(Bytes b, Ctx& ctx) {
  if (b.size() < 8) {
    ctx.bump(Anomaly::truncated_vxlan);
    return false;
  }
  const std::uint32_t vni = (b[0] & 0x08) != 0 ? core::load_be32(b.data() + 4) >> 8 : 0;
  if (!enter_tunnel(ctx, Tunnel::vxlan, vni)) return false;
  return decode_ethernet(b.subspan(8), ctx);
}

bool decode_ipip4(Bytes b, Ctx& ctx) {
  return enter_tunnel(ctx, Tunnel::ip_in_ip, 0) && decode_ipv4(b, ctx);
}

bool decode_ipip6(Bytes b, Ctx& ctx) {
  return enter_tunnel(ctx, Tunnel::ip_in_ip, 0) && decode_ipv6(b, ctx);
}

}  // namespace netscope::decode::detail
