// The IP-protocol dispatch table: one slot per protocol number (IANA "Assigned Internet
// Protocol Numbers"), so forwarding to the transport decoder is a single indexed call.

#include <array>

#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

constexpr std::array<LayerFn, 256> make_table() {
  std::array<LayerFn, 256> t{};
  t[ip_proto::tcp] = decode_tcp;
  t[ip_proto::udp] = decode_udp;
  t[ip_proto::icmp] = decode_icmp;
  t[ip_proto::icmpv6] = decode_icmpv6;
  t[ip_proto::gre] = decode_gre;
  t[4] = decode_ipip4;   // IPv4 in IP (RFC 2003)
  t[41] = decode_ipip6;  // IPv6 in IP (RFC 4213 §3.5)
  return t;
}

constexpr std::array<LayerFn, 256> kProtoTable = make_table();

}  // namespace

bool dispatch_ip_proto(std::uint8_t proto, Bytes b, Ctx& ctx) {
  const LayerFn fn = kProtoTable[proto];
  // Protocols we do not decode (ESP, SCTP, ...) still count as IP traffic.
  return fn != nullptr && fn(b, ctx);
}

}  // namespace netscope::decode::detail
