// Ethernet II and 802.3/SNAP framing, 802.1Q/802.1ad tag stacks and MPLS label stacks,
// plus the ethertype dispatch table every link layer and GRE forwards through.

#include <array>

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

using core::load_be16;
using core::load_be32;

constexpr bool is_vlan_tpid(std::uint16_t t) {
  // 0x8100 C-tag (802.1Q), 0x88a8 S-tag (802.1ad), 0x9100/0x9200 pre-standard QinQ.
  return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200;
}

// IEEE 802.1Q §9.6: a tag is TCI (PCP 3, DEI 1, VID 12) then the next ethertype. Stacked
// tags are consumed in a loop, so a long stack costs no stack depth.
bool decode_vlan(Bytes b, Ctx& ctx) {
  std::uint16_t type = 0;
  do {
    if (b.size() < 4) {
      ctx.bump(Anomaly::truncated_vlan);
      return false;
    }
    ctx.view.vlan = load_be16(b.data()) & 0x0fff;  // the innermost tag wins
    if (ctx.view.vlan_count != 0xff) ++ctx.view.vlan_count;
    type = load_be16(b.data() + 2);
    b = b.subspan(4);
  } while (is_vlan_tpid(type));
  return dispatch_ethertype(type, b, ctx);
}

// RFC 3032 §2.1: 32-bit entries (label 20, TC 3, S 1, TTL 8) until the bottom-of-stack
// bit. The payload type is not signalled; RFC 4385 §3 reserves first nibble 0 for the
// pseudowire control word, and IP is recognised by its version nibble.
bool decode_mpls(Bytes b, Ctx& ctx) {
  for (;;) {
    if (b.size() < 4) {
      ctx.bump(Anomaly::truncated_mpls);
      return false;
    }
    const std::uint32_t entry = load_be32(b.data());
    if (ctx.view.mpls_labels != 0xff) ++ctx.view.mpls_labels;
    b = b.subspan(4);
    if ((entry & 0x100) != 0) break;
  }
  if (b.empty()) {
    ctx.bump(Anomaly::truncated_mpls);
    return false;
  }
  if ((b[0] >> 4) == 0) {
    // Ethernet pseudowire (RFC 4448) behind a 4-byte control word.
    if (b.size() < 4) {
      ctx.bump(Anomaly::truncated_mpls);
      return false;
    }
    if (ctx.depth >= kMaxEncapDepth) {
      ctx.bump(Anomaly::tunnel_too_deep);
      return false;
    }
    ++ctx.depth;
    return decode_ethernet(b.subspan(4), ctx);
  }
  return decode_ip_by_version(b, ctx);
}

struct EtherEntry {
  std::uint16_t type;
  LayerFn fn;
};

// Most common first; the scan is a handful of compares.
constexpr std::array kEtherTable{
    EtherEntry{0x0800, decode_ipv4},
    EtherEntry{0x86dd, decode_ipv6},
    EtherEntry{0x8100, decode_vlan},
    EtherEntry{0x0806, decode_arp},
    EtherEntry{0x88a8, decode_vlan},
    EtherEntry{0x9100, decode_vlan},
    EtherEntry{0x9200, decode_vlan},
    EtherEntry{0x8847, decode_mpls},
    EtherEntry{0x8848, decode_mpls},
    EtherEntry{0x8035, decode_arp},  // RARP (RFC 903) shares the ARP layout
};

}  // namespace

bool dispatch_ethertype(std::uint16_t ethertype, Bytes b, Ctx& ctx) {
  for (const auto& e : kEtherTable) {
    if (e.type == ethertype) return e.fn(b, ctx);
  }
  ctx.bump(Anomaly::unsupported_ethertype);
  return false;
}

bool decode_ip_by_version(Bytes b, Ctx& ctx) {
  if (b.empty()) {
    ctx.bump(Anomaly::truncated_ipv4);
    return false;
  }
  switch (b[0] >> 4) {
    case 4:
      return decode_ipv4(b, ctx);
    case 6:
      return decode_ipv6(b, ctx);
    default:
      ctx.bump(Anomaly::bad_ip_version);
      return false;
  }
}

// IEEE 802.3 §3.1.1: destination, source, then a type (>= 0x0600) or a length. Length
// frames carry 802.2 LLC; only SNAP (AA-AA-03, RFC 1042) names an ethertype.
bool decode_ethernet(Bytes b, Ctx& ctx) {
  if (b.size() < 14) {
    ctx.bump(Anomaly::truncated_link);
    return false;
  }
  ctx.view.layers |= PacketView::kLink;
  std::uint16_t type = load_be16(b.data() + 12);
  b = b.subspan(14);
  if (type < 0x0600) {
    if (b.size() < 8 || b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03) {
      ctx.bump(Anomaly::unsupported_ethertype);
      return false;
    }
    type = load_be16(b.data() + 6);
    b = b.subspan(8);
  }
  return dispatch_ethertype(type, b, ctx);
}

}  // namespace netscope::decode::detail
