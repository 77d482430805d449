// IPv6 (RFC 8200 §3) and its extension-header chain (§4). The walk is bounded both by the
// bytes and by a maximum number of headers, since each costs a loop turn and a hostile
// packet can chain hundreds of empty options headers into one jumbo frame.

#include <algorithm>

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

// RFC 7112 wants the whole chain in the first fragment; real stacks emit at most a few.
constexpr int kMaxExtHeaders = 8;

constexpr std::uint8_t kHopByHop = 0;
constexpr std::uint8_t kRouting = 43;
constexpr std::uint8_t kFragment = 44;
constexpr std::uint8_t kAuthHeader = 51;
constexpr std::uint8_t kNoNext = 59;
constexpr std::uint8_t kDestOpts = 60;
constexpr std::uint8_t kMobility = 135;
constexpr std::uint8_t kHip = 139;
constexpr std::uint8_t kShim6 = 140;

// RFC 2675 §2: a payload length of 0 with a Jumbo Payload option (type 0xC2) in the
// hop-by-hop header means the real length is that option's 32-bit value.
bool find_jumbo(Bytes hbh, std::uint32_t& jumbo) {
  if (hbh.size() < 2) return false;
  const std::size_t len = std::min<std::size_t>((hbh[1] + 1u) * 8u, hbh.size());
  std::size_t i = 2;
  while (i < len) {
    const std::uint8_t type = hbh[i];
    if (type == 0) {  // Pad1 (RFC 8200 §4.2)
      ++i;
      continue;
    }
    if (i + 2 > len) return false;
    const std::size_t opt_len = hbh[i + 1];
    if (type == 0xc2 && opt_len == 4 && i + 6 <= len) {
      jumbo = core::load_be32(hbh.data() + i + 2);
      return true;
    }
    i += 2 + opt_len;
  }
  return false;
}

}  // namespace

ExtWalk walk_ipv6_ext(Bytes b, std::uint32_t limit, std::uint8_t& next, std::uint32_t& offset,
                      Ipv6Fragment& frag) {
  const std::size_t end = std::min<std::size_t>(b.size(), limit);
  for (int n = 0;; ++n) {
    std::uint32_t len = 0;
    switch (next) {
      case kHopByHop:
      case kRouting:
      case kDestOpts:
      case kMobility:
      case kHip:
      case kShim6:
        // RFC 8200 §4.3: length in 8-octet units, not counting the first 8.
        if (offset + 2 > end) return ExtWalk::truncated;
        len = (b[offset + 1] + 1u) * 8u;
        break;
      case kFragment: {
        // RFC 8200 §4.5: fixed 8 bytes; offset in 8-octet units in the top 13 bits.
        if (n >= kMaxExtHeaders) return ExtWalk::too_long;
        if (offset + 8 > end) return ExtWalk::truncated;
        const std::uint16_t off_flags = core::load_be16(b.data() + offset + 2);
        frag.present = true;
        frag.offset = static_cast<std::uint16_t>(off_flags & 0xfff8);
        frag.more = (off_flags & 1) != 0;
        frag.id = core::load_be32(b.data() + offset + 4);
        next = b[offset];
        offset += 8;
        // A later fragment carries no further headers we can read (RFC 8200 §4.5).
        if (frag.offset != 0) return ExtWalk::ok;
        continue;
      }
      case kAuthHeader:
        // RFC 4302 §2.2: length in 4-octet units, minus 2.
        if (offset + 2 > end) return ExtWalk::truncated;
        len = (b[offset + 1] + 2u) * 4u;
        break;
      default:
        return ExtWalk::ok;  // upper-layer protocol, ESP or No Next Header
    }
    if (n >= kMaxExtHeaders) return ExtWalk::too_long;
    if (offset + len > end) return ExtWalk::truncated;
    next = b[offset];
    offset += len;
  }
}

bool decode_ipv6(Bytes b, Ctx& ctx) {
  if (b.size() < 40) {
    ctx.bump(Anomaly::truncated_ipv6);
    return false;
  }
  if ((b[0] >> 4) != 6) {
    ctx.bump(Anomaly::bad_ip_version);
    return false;
  }
  const std::uint32_t wire_payload = ctx.wire_avail(b) - 40;
  std::uint32_t payload_len = core::load_be16(b.data() + 4);
  const std::uint8_t first_next = b[6];
  if (payload_len == 0) {
    std::uint32_t jumbo = 0;
    if (first_next == kHopByHop && find_jumbo(b.subspan(40), jumbo)) {
      payload_len = jumbo;
    } else if (first_next != kNoNext) {
      ctx.bump(Anomaly::ip_len_zero);  // offload capture, as for IPv4 total length 0
      payload_len = wire_payload;
    }
  }
  if (payload_len > wire_payload) {
    ctx.bump(Anomaly::bad_ipv6_payload_len);
    ctx.view.ip_len_excess = payload_len - wire_payload;
    payload_len = wire_payload;
  }

  PacketView& v = ctx.view;
  v.ip_version = 6;
  const std::uint32_t word0 = core::load_be32(b.data());
  v.tos = static_cast<std::uint8_t>(word0 >> 20);  // traffic class
  v.ttl = b[7];
  v.src = core::IpAddress::from_v6(b.subspan<8, 16>());
  v.dst = core::IpAddress::from_v6(b.subspan<24, 16>());
  v.ip_bytes = 40 + payload_len;
  v.layers |= PacketView::kIp;
  ctx.wire_end = ctx.offset(b) + 40 + payload_len;

  std::uint8_t next = first_next;
  std::uint32_t offset = 40;
  Ipv6Fragment frag;
  const ExtWalk walk = walk_ipv6_ext(b, 40 + payload_len, next, offset, frag);
  v.ip_proto = next;
  // RFC 6946: an atomic fragment (offset 0, M clear) is a whole packet. Assigned even
  // without a fragment header so an outer tunnel header's values do not leak through.
  v.is_fragment = frag.more || frag.offset != 0;
  v.first_fragment = v.is_fragment && frag.offset == 0;
  v.frag_id = frag.id;
  v.frag_offset = frag.offset;
  if (walk != ExtWalk::ok) {
    ctx.bump(walk == ExtWalk::truncated ? Anomaly::truncated_ipv6_ext
                                        : Anomaly::ipv6_ext_chain_too_long);
    return true;
  }
  if (frag.offset != 0) {
    ctx.bump(Anomaly::ip_fragment);  // informational, like unsupported_ethertype
    return true;
  }
  const std::size_t end = std::min<std::size_t>(b.size(), 40 + payload_len);
  dispatch_ip_proto(next, b.subspan(offset, end - offset), ctx);
  return true;
}

}  // namespace netscope::decode::detail
