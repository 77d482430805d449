// Linux "cooked" capture headers, which libpcap synthesises for the "any" device and for
// links without an Ethernet header. Layouts: tcpdump.org LINKTYPE_LINUX_SLL and
// LINKTYPE_LINUX_SLL2. Both end (v1) or start (v2) with an ethertype.

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

// if_arp.h: for ARPHRD_NETLINK the protocol field is a netlink family, not an ethertype.
constexpr std::uint16_t kArphrdNetlink = 824;

bool forward(std::uint16_t arphrd, std::uint16_t protocol, Bytes rest, Ctx& ctx) {
  ctx.view.layers |= PacketView::kLink;
  if (arphrd == kArphrdNetlink) {
    ctx.bump(Anomaly::unsupported_ethertype);
    return false;
  }
  return dispatch_ethertype(protocol, rest, ctx);
}

}  // namespace

// v1, 16 bytes: packet type(2) ARPHRD(2) address length(2) address(8) protocol(2).
bool decode_sll(Bytes b, Ctx& ctx) {
  if (b.size() < 16) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  return forward(core::load_be16(b.data() + 2), core::load_be16(b.data() + 14), b.subspan(16), ctx);
}

// v2, 20 bytes: protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address
// length(1) address(8).
bool decode_sll2(Bytes b, Ctx& ctx) {
  if (b.size() < 20) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  return forward(core::load_be16(b.data() + 8), core::load_be16(b.data()), b.subspan(20), ctx);
}

}  // namespace netscope::decode::detail
