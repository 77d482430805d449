// ARP (RFC 826): hardware type, protocol type, address lengths, operation, then sender
// and target hardware/protocol addresses. Only IPv4 protocol addresses are kept.

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {

bool decode_arp(Bytes b, Ctx& ctx) {
  if (b.size() < 8) {
    ctx.bump(Anomaly::truncated_arp);
    return false;
  }
  const std::uint16_t proto = core::load_be16(b.data() + 2);
  const std::size_t hw_len = b[4];
  const std::size_t proto_len = b[5];
  if (b.size() < 8 + 2 * (hw_len + proto_len)) {
    ctx.bump(Anomaly::truncated_arp);
    return false;
  }
  PacketView& v = ctx.view;
  v.arp_op = core::load_be16(b.data() + 6);
  v.arp_len = static_cast<std::uint16_t>(8 + 2 * (hw_len + proto_len));
  if (proto == 0x0800 && proto_len == 4) {
    const std::size_t sender = 8 + hw_len;
    const std::size_t target = sender + 4 + hw_len;
    v.arp_sender = core::IpAddress::from_v4(b.subspan(sender).first<4>());
    v.arp_target = core::IpAddress::from_v4(b.subspan(target).first<4>());
  }
  v.layers |= PacketView::kArp;
  return true;
}

}  // namespace netscope::decode::detail
