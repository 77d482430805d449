// ICMP (RFC 792) and ICMPv6 (RFC 4443). Both start with type, code and checksum, then
// four type-specific bytes. Error messages quote the offending packet's IP header and
// at least its first 8 transport bytes (RFC 792; RFC 4443 §2.4(c) quotes as much as
// fits), which is enough for the ports: the quote ties the error to its flow.

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

// Fills `q` from a quoted IPv4 header and the transport bytes that follow it. The quote
// is not decoded through the layer tables: it must not overwrite the outer view.
bool quote_ipv4(Bytes b, IcmpQuote& q) {
  if (b.size() < 20 || (b[0] >> 4) != 4) return false;
  const std::size_t header_len = (b[0] & 0x0fu) * 4u;
  if (header_len < 20 || header_len > b.size()) return false;
  q.src = core::IpAddress::from_v4(b.subspan<12, 4>());
  q.dst = core::IpAddress::from_v4(b.subspan<16, 4>());
  q.proto = b[9];
  const bool later_fragment = (core::load_be16(b.data() + 6) & 0x1fff) != 0;
  if (!later_fragment && proto_has_ports(q.proto) && b.size() >= header_len + 4) {
    q.sport = core::load_be16(b.data() + header_len);
    q.dport = core::load_be16(b.data() + header_len + 2);
  }
  q.present = true;
  return true;
}

bool quote_ipv6(Bytes b, IcmpQuote& q) {
  if (b.size() < 40 || (b[0] >> 4) != 6) return false;
  q.src = core::IpAddress::from_v6(b.subspan<8, 16>());
  q.dst = core::IpAddress::from_v6(b.subspan<24, 16>());
  std::uint8_t next = b[6];
  std::uint32_t offset = 40;
  Ipv6Fragment frag;
  const ExtWalk walk = walk_ipv6_ext(b, static_cast<std::uint32_t>(b.size()), next, offset, frag);
  q.proto = next;
  if (walk == ExtWalk::ok && frag.offset == 0 && proto_has_ports(next) && b.size() >= offset + 4) {
    q.sport = core::load_be16(b.data() + offset);
    q.dport = core::load_be16(b.data() + offset + 2);
  }
  q.present = true;
  return true;
}

bool decode_common(Bytes b, Ctx& ctx, bool is_error, bool (*quote)(Bytes, IcmpQuote&)) {
  PacketView& v = ctx.view;
  v.payload_len = ctx.wire_avail(b) - 8;
  v.payload = b.subspan(8);
  v.layers |= PacketView::kTransport;
  if (is_error && !quote(v.payload, v.icmp_quote)) {
    v.icmp_quote = IcmpQuote{};
    ctx.bump(Anomaly::truncated_icmp_quote);
  }
  return true;
}

}  // namespace

bool decode_icmp(Bytes b, Ctx& ctx) {
  if (b.size() < 8) {
    ctx.bump(Anomaly::truncated_icmp);
    return false;
  }
  ctx.view.icmp_type = b[0];
  ctx.view.icmp_code = b[1];
  // RFC 792: destination unreachable 3, source quench 4, redirect 5, time exceeded 11,
  // parameter problem 12 quote the datagram.
  const std::uint8_t t = b[0];
  const bool is_error = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
  return decode_common(b, ctx, is_error, quote_ipv4);
}

bool decode_icmpv6(Bytes b, Ctx& ctx) {
  if (b.size() < 8) {
    ctx.bump(Anomaly::truncated_icmp);
    return false;
  }
  ctx.view.icmp_type = b[0];
  ctx.view.icmp_code = b[1];
  // RFC 4443 §2.1: error types are 0..127; 1-4 are defined and quote the packet.
  const bool is_error = b[0] >= 1 && b[0] <= 4;
  return decode_common(b, ctx, is_error, quote_ipv6);
}

}  // namespace netscope::decode::detail
