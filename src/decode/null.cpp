// BSD loopback encapsulations: a 4-byte address family before the IP header.
// DLT_NULL stores it in the byte order of the machine that captured, which need not be
// ours; DLT_LOOP (OpenBSD) stores it in network order. AF_INET is 2 everywhere, but
// AF_INET6 differs per OS: 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (Darwin),
// 10 (Linux).

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

bool decode_af(std::uint32_t af, Bytes b, Ctx& ctx) {
  ctx.view.layers |= PacketView::kLink;
  const Bytes ip = b.subspan(4);
  switch (af) {
    case 2:
      return decode_ipv4(ip, ctx);
    case 10:
    case 24:
    case 28:
    case 30:
      return decode_ipv6(ip, ctx);
    default:
      ctx.bump(Anomaly::unsupported_address_family);
      return false;
  }
}

}  // namespace

bool decode_null_host(Bytes b, Ctx& ctx) {
  if (b.size() < 4) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  // Every AF value fits in 16 bits, so a value with high bits set was written by a
  // machine of the other byte order.
  std::uint32_t af = core::load_le32(b.data());
  if ((af & 0xffff0000U) != 0) af = core::load_be32(b.data());
  return decode_af(af, b, ctx);
}

bool decode_null_loop(Bytes b, Ctx& ctx) {
  if (b.size() < 4) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  return decode_af(core::load_be32(b.data()), b, ctx);
}

}  // namespace netscope::decode::detail
