// IPv4 (RFC 791 §3.1). Sets the addresses and ip_bytes from the total length field, then
// forwards the transport bytes through the IP-protocol table. Non-first fragments stop
// here: they carry no transport header (RFC 791 §3.2).

#include <algorithm>

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {

bool decode_ipv4(Bytes b, Ctx& ctx) {
  if (b.size() < 20) {
    ctx.bump(Anomaly::truncated_ipv4);
    return false;
  }
  if ((b[0] >> 4) != 4) {
    ctx.bump(Anomaly::bad_ip_version);
    return false;
  }
  const std::uint32_t header_len = (b[0] & 0x0fu) * 4u;
  if (header_len < 20) {
    ctx.bump(Anomaly::bad_ipv4_header_len);
    return false;
  }
  if (header_len > b.size()) {
    ctx.bump(Anomaly::truncated_ipv4);
    return false;
  }
  // What the wire holds from here to the end of the enclosing layer; never less than
  // what was captured.
  const std::uint32_t wire = ctx.wire_avail(b);
  std::uint32_t total_len = core::load_be16(b.data() + 2);
  if (total_len == 0) {
    // TCP segmentation / receive offload hands the capture one large packet whose length
    // field the NIC fills in later: only the wire length is meaningful. Counted because
    // on a packet that crossed a network it is a bogus header, not offload.
    ctx.bump(Anomaly::ip_len_zero);
    total_len = wire;
  } else if (total_len < header_len) {
    ctx.bump(Anomaly::bad_ipv4_total_len);
    return false;
  } else if (total_len > wire) {
    ctx.bump(Anomaly::ipv4_len_exceeds_frame);
    ctx.view.ip_len_excess = total_len - wire;
    total_len = wire;
  }

  PacketView& v = ctx.view;
  v.ip_version = 4;
  v.tos = b[1];
  v.ttl = b[8];
  v.ip_proto = b[9];
  v.src = core::IpAddress::from_v4(b.subspan<12, 4>());
  v.dst = core::IpAddress::from_v4(b.subspan<16, 4>());
  v.ip_bytes = total_len;
  const std::uint16_t frag = core::load_be16(b.data() + 6);
  const bool more_fragments = (frag & 0x2000) != 0;
  const auto frag_offset = static_cast<std::uint16_t>((frag & 0x1fff) * 8u);
  v.is_fragment = more_fragments || frag_offset != 0;
  v.first_fragment = v.is_fragment && frag_offset == 0;
  v.frag_id = core::load_be16(b.data() + 4);
  v.frag_offset = frag_offset;
  v.layers |= PacketView::kIp;

  ctx.wire_end = ctx.offset(b) + total_len;
  if (frag_offset != 0) {
    ctx.bump(Anomaly::ip_fragment);  // informational, like unsupported_ethertype
    return true;
  }
  // Captured transport bytes, without link-layer padding or trailers past the datagram.
  const Bytes transport =
      b.subspan(header_len, std::min<std::size_t>(b.size(), total_len) - header_len);
  dispatch_ip_proto(v.ip_proto, transport, ctx);
  return true;
}

}  // namespace netscope::decode::detail
