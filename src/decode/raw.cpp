// Raw IP link types: no link header at all. LINKTYPE_RAW (101, and DLT_RAW 12 as live
// libpcap reports tun devices) carries either family, told apart by the version nibble;
// LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) promise one family, so a mismatching
// version nibble is bad_ip_version rather than a silent switch.

#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

bool start(Bytes b, Ctx& ctx) {
  if (b.empty()) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  ctx.view.layers |= PacketView::kLink;
  return true;
}

}  // namespace

bool decode_raw(Bytes b, Ctx& ctx) {
  return start(b, ctx) && decode_ip_by_version(b, ctx);
}

bool decode_raw_ipv4(Bytes b, Ctx& ctx) {
  return start(b, ctx) && decode_ipv4(b, ctx);
}

bool decode_raw_ipv6(Bytes b, Ctx& ctx) {
  return start(b, ctx) && decode_ipv6(b, ctx);
}

}  // namespace netscope::decode::detail
