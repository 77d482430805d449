#pragma once
// Internal to decode/: the state one decode_packet() call threads through the layer
// decoders, and the decoders themselves. Every layer has the same shape (STYLE.md §2):
// it takes the captured bytes that start at its header and the shared context, fills
// PacketView, and forwards the rest of the bytes to the next layer through a table.

#include <cstdint>
#include <span>

#include "decode/anomalies.hpp"
#include "decode/packet_view.hpp"

namespace netscope::decode::detail {

using Bytes = std::span<const std::uint8_t>;

// Nested encapsulations we follow (GRE, VXLAN, IP-in-IP, MPLS pseudowires). Each level
// costs a stack frame; hostile traffic must not be able to nest without bound.
inline constexpr std::uint8_t kMaxEncapDepth = 4;

struct Ctx {
  PacketView& view;
  AnomalyCounters& anomalies;
  const std::uint8_t* frame;  // first captured byte
  // Offset one past the last byte *on the wire* of the innermost enclosing layer whose
  // length we know: orig_len at first, then the end of the IP datagram (or NFLOG payload
  // TLV). Lengths on the wire come from here, never from the captured size.
  std::uint32_t wire_end;
  std::uint8_t depth = 0;  // encapsulation nesting, bounded by kMaxEncapDepth

  void bump(Anomaly a) { anomalies.bump(a); }
  std::uint32_t offset(Bytes b) const { return static_cast<std::uint32_t>(b.data() - frame); }
  // Bytes on the wire from the start of `b` to the end of the enclosing layer.
  std::uint32_t wire_avail(Bytes b) const {
    const std::uint32_t off = offset(b);
    return off < wire_end ? wire_end - off : 0;
  }
};

using LayerFn = bool (*)(Bytes, Ctx&);

// Link layers (ethernet.cpp, sll.cpp, null.cpp, nflog.cpp, raw.cpp).
bool decode_ethernet(Bytes b, Ctx& ctx);
bool decode_sll(Bytes b, Ctx& ctx);
bool decode_sll2(Bytes b, Ctx& ctx);
bool decode_null_host(Bytes b, Ctx& ctx);
bool decode_null_loop(Bytes b, Ctx& ctx);
bool decode_nflog(Bytes b, Ctx& ctx);
bool decode_raw(Bytes b, Ctx& ctx);
bool decode_raw_ipv4(Bytes b, Ctx& ctx);
bool decode_raw_ipv6(Bytes b, Ctx& ctx);

// Next layer by ethertype (ethernet.cpp): IPv4, IPv6, ARP, VLAN tags, MPLS. Unknown
// types bump unsupported_ethertype.
bool dispatch_ethertype(std::uint16_t ethertype, Bytes b, Ctx& ctx);
// IPv4 or IPv6 by the version nibble, for links and tunnels that do not say which.
bool decode_ip_by_version(Bytes b, Ctx& ctx);

// Network layer.
bool decode_ipv4(Bytes b, Ctx& ctx);
bool decode_ipv6(Bytes b, Ctx& ctx);
bool decode_arp(Bytes b, Ctx& ctx);

// Next layer by IP protocol (ip_proto.cpp). `b` starts at the transport header and
// ctx.wire_end is the end of the IP datagram.
bool dispatch_ip_proto(std::uint8_t proto, Bytes b, Ctx& ctx);

// Transport layer.
bool decode_tcp(Bytes b, Ctx& ctx);
bool decode_udp(Bytes b, Ctx& ctx);
bool decode_icmp(Bytes b, Ctx& ctx);
bool decode_icmpv6(Bytes b, Ctx& ctx);

// Tunnels (tunnel.cpp).
bool decode_gre(Bytes b, Ctx& ctx);
bool decode_vxlan(Bytes b, Ctx& ctx);
bool decode_ipip4(Bytes b, Ctx& ctx);
bool decode_ipip6(Bytes b, Ctx& ctx);
// Records the outer addresses of a tunnel and clears the outer transport fields before
// the inner packet is decoded. False (and tunnel_too_deep) when nested too deeply.
bool enter_tunnel(Ctx& ctx, Tunnel kind, std::uint32_t id);

// RFC 8200 §4: walks IPv6 extension headers from `offset` in `b`, which starts at an
// IPv6 header. On return `next` is the first header that is not an extension header
// (or the fragment's payload protocol), `offset` points at it. Fills `frag` when a
// fragment header was seen. Shared by ipv6.cpp and the ICMPv6 quote.
struct Ipv6Fragment {
  bool present = false;
  bool more = false;
  std::uint16_t offset = 0;  // bytes
  std::uint32_t id = 0;
};
enum class ExtWalk : std::uint8_t { ok, truncated, too_long };
ExtWalk walk_ipv6_ext(Bytes b, std::uint32_t limit, std::uint8_t& next, std::uint32_t& offset,
                      Ipv6Fragment& frag);

}  // namespace netscope::decode::detail
