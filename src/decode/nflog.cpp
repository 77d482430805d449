// Linux NFLOG (LINKTYPE_NFLOG, 239): a 4-byte header (address family, version 0,
// resource id in network order) followed by netlink attributes (TLVs). Each TLV has a
// 16-bit length (including its 4-byte header) and a 16-bit type, both in the byte order
// of the machine that captured, and is padded to a multiple of 4 bytes (NLA_ALIGN).
// The packet itself is the NFULA_PAYLOAD (9) attribute, starting at the network header.

#include <algorithm>
#include <bit>

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

constexpr std::uint16_t kNfulaPayload = 9;
// linux/netlink.h: NLA_F_NESTED and NLA_F_NET_BYTEORDER ride in the type's top bits.
constexpr std::uint16_t kNlaTypeMask = 0x3fff;
// Attribute types in nfnetlink_log.h are small; a value this large means we are reading
// the TLV header in the wrong byte order.
constexpr std::uint16_t kMaxPlausibleType = 0xff;

struct Tlv {
  std::uint16_t len;
  std::uint16_t type;
};

Tlv read_tlv(const std::uint8_t* p, bool little) {
  if (little) return {core::load_le16(p), core::load_le16(p + 2)};
  return {core::load_be16(p), core::load_be16(p + 2)};
}

bool plausible(Tlv t, std::size_t room) {
  return t.len >= 4 && t.len <= room && (t.type & kNlaTypeMask) <= kMaxPlausibleType;
}

}  // namespace

bool decode_nflog(Bytes b, Ctx& ctx) {
  if (b.size() < 4) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  const std::uint8_t family = b[0];
  if (b[1] != 0) {  // NFULNL version 0 is the only one defined
    ctx.bump(Anomaly::bad_nflog);
    return false;
  }
  Bytes tlvs = b.subspan(4);
  if (tlvs.size() < 4) {
    ctx.bump(Anomaly::bad_nflog);
    return false;
  }
  // The first TLV decides the byte order; the capture machine's own order wins a tie.
  const bool native_little = std::endian::native == std::endian::little;
  bool little = native_little;
  if (!plausible(read_tlv(tlvs.data(), little), tlvs.size())) little = !little;

  while (tlvs.size() >= 4) {
    const Tlv t = read_tlv(tlvs.data(), little);
    if (t.len < 4) break;
    if ((t.type & kNlaTypeMask) == kNfulaPayload) {
      ctx.view.layers |= PacketView::kLink;
      const Bytes value = tlvs.subspan(4, std::min<std::size_t>(t.len - 4u, tlvs.size() - 4));
      // The attribute length bounds the packet on the wire even when the snaplen cut it.
      const std::uint32_t end = ctx.offset(value) + (t.len - 4u);
      if (end < ctx.wire_end) ctx.wire_end = end;
      if (value.empty()) {
        ctx.bump(Anomaly::bad_nflog);
        return false;
      }
      switch (family) {  // NFPROTO_IPV4 = AF_INET, NFPROTO_IPV6 = AF_INET6 (Linux)
        case 2:
          return decode_ipv4(value, ctx);
        case 10:
          return decode_ipv6(value, ctx);
        default:
          return decode_ip_by_version(value, ctx);
      }
    }
    const std::size_t padded = (std::size_t{t.len} + 3u) & ~std::size_t{3};
    if (padded >= tlvs.size()) break;
    tlvs = tlvs.subspan(padded);
  }
  ctx.bump(Anomaly::bad_nflog);
  return false;
}

}  // namespace netscope::decode::detail
