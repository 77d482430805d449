// TCP header (RFC 9293 §3.1) and the options the flow tracker needs: MSS (§3.7.1),
// window scale and timestamps (RFC 7323 §2.2, §3.2), SACK-permitted and SACK blocks
// (RFC 2018 §2, §3). A malformed option list is counted but the fixed header is kept,
// since ports, sequence numbers and flags are still sound.

#include "core/bytes.hpp"
#include "decode/layers.hpp"

namespace netscope::decode::detail {
namespace {

using core::load_be16;
using core::load_be32;

// Returns false on the first option that cannot be parsed.
bool parse_options(Bytes opts, TcpOptions& o) {
  std::size_t i = 0;
  while (i < opts.size()) {
    const std::uint8_t kind = opts[i];
    if (kind == 0) return true;  // End of Option List
    if (kind == 1) {             // No-Operation
      ++i;
      continue;
    }
    if (i + 2 > opts.size()) return false;
    const std::size_t len = opts[i + 1];
    if (len < 2 || i + len > opts.size()) return false;
    const std::uint8_t* p = opts.data() + i;
    switch (kind) {
      case 2:
        if (len != 4) return false;
        o.has_mss = true;
        o.mss = load_be16(p + 2);
        break;
      case 3:
        if (len != 3) return false;
        o.has_wscale = true;
        o.wscale = p[2];
        break;
      case 4:
        if (len != 2) return false;
        o.sack_permitted = true;
        break;
      case 5: {
        const std::size_t blocks = (len - 2) / 8;
        if ((len - 2) % 8 != 0 || blocks == 0 || blocks > 4) return false;
        o.sack_count = static_cast<std::uint8_t>(blocks);
        for (std::size_t k = 0; k < blocks * 2; ++k) o.sack[k] = load_be32(p + 2 + 4 * k);
        break;
      }
      case 8:
        if (len != 10) return false;
        o.has_timestamps = true;
        o.ts_val = load_be32(p + 2);
        o.ts_ecr = load_be32(p + 6);
        break;
      default:
        break;  // TFO, MPTCP, experimental: skipped by their length
    }
    i += len;
  }
  return true;
}

}  // namespace

bool decode_tcp(Bytes b, Ctx& ctx) {
  if (b.size() < 20) {
    ctx.bump(Anomaly::truncated_tcp);
    return false;
  }
  const std::uint32_t header_len = (b[12] >> 4) * 4u;
  const std::uint32_t wire = ctx.wire_avail(b);
  if (header_len < 20 || header_len > wire) {
    ctx.bump(Anomaly::bad_tcp_offset);
    return false;
  }
  if (header_len > b.size()) {
    ctx.bump(Anomaly::truncated_tcp);  // options cut by the snaplen
    return false;
  }
  PacketView& v = ctx.view;
  v.sport = load_be16(b.data());
  v.dport = load_be16(b.data() + 2);
  v.seq = load_be32(b.data() + 4);
  v.ack = load_be32(b.data() + 8);
  v.tcp_flags = b[13];
  v.window = load_be16(b.data() + 14);
  v.tcp_header_len = static_cast<std::uint8_t>(header_len);
  if (!parse_options(b.subspan(20, header_len - 20), v.tcp_opts)) {
    ctx.bump(Anomaly::bad_tcp_option);
  }
  v.payload_len = wire - header_len;
  v.payload = b.subspan(header_len);
  v.layers |= PacketView::kTransport;
  return true;
}

}  // namespace netscope::decode::detail
