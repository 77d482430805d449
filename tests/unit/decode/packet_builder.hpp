#pragma once
// Helpers that write test packets out byte by byte (STYLE.md, tests layer 1). Checksums
// are left zero: the decoder does not verify them.

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "decode/decode.hpp"

namespace netscope::decode::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
inline Bytes be16(std::uint16_t v) {
  return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
inline Bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
inline Bytes le16(std::uint16_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
}
inline Bytes le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}
inline Bytes filler(std::size_t n, std::uint8_t start = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

inline Bytes eth(std::uint16_t type) {
  return cat(
      {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}, be16(type)});
}
// 802.1Q-style tag: TCI (PCP 0, VID) then the next ethertype.
inline Bytes vlan_tag(std::uint16_t vid, std::uint16_t next) {
  return cat({be16(vid), be16(next)});
}

struct Ip4 {
  std::uint8_t proto = 6;
  std::uint32_t src = 0x0a000001;  // 10.0.0.1
  std::uint32_t dst = 0x0a000002;  // 10.0.0.2
  std::uint16_t payload_len = 0;   // total length = header + this, unless total set
  int total = -1;                  // explicit total length field
  std::uint8_t ihl = 5;
  std::uint16_t frag = 0;  // flags + offset word
  std::uint16_t id = 0x1234;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
};
inline Bytes ipv4(const Ip4& h) {
  const std::uint16_t total = h.total >= 0 ? static_cast<std::uint16_t>(h.total)
                                           : static_cast<std::uint16_t>(h.ihl * 4 + h.payload_len);
  Bytes b = cat({{static_cast<std::uint8_t>(0x40 | h.ihl), h.tos},
                 be16(total),
                 be16(h.id),
                 be16(h.frag),
                 {h.ttl, h.proto, 0, 0},
                 be32(h.src),
                 be32(h.dst)});
  // Options (IHL > 5): NOPs.
  if (h.ihl > 5) b.resize(h.ihl * 4u, 0x01);
  return b;
}

inline Bytes v6addr(std::uint8_t last) {
  Bytes a(16, 0);
  a[0] = 0x20;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[15] = last;
  return a;
}
inline Bytes ipv6(std::uint8_t next, std::uint16_t payload_len, std::uint8_t src_last = 1,
                  std::uint8_t dst_last = 2, std::uint8_t hop = 64) {
  return cat({{0x60, 0x00, 0x00, 0x00},
              be16(payload_len),
              {next, hop},
              v6addr(src_last),
              v6addr(dst_last)});
}

inline Bytes tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                 std::uint8_t flags, std::uint16_t window, Bytes options = {}) {
  while (options.size() % 4 != 0) options.push_back(0);  // EOL padding
  const auto offset = static_cast<std::uint8_t>((20 + options.size()) / 4);
  return cat({be16(sport),
              be16(dport),
              be32(seq),
              be32(ack),
              {static_cast<std::uint8_t>(offset << 4), flags},
              be16(window),
              {0, 0, 0, 0},
              options});
}
inline Bytes udp(std::uint16_t sport, std::uint16_t dport, std::uint16_t payload_len) {
  return cat({be16(sport), be16(dport), be16(static_cast<std::uint16_t>(payload_len + 8)), {0, 0}});
}

struct Decoded {
  // Owns the frame so view.payload stays valid (a moved vector keeps its buffer).
  Bytes frame;
  bool ok = false;
  PacketView view;
  AnomalyCounters anomalies;
  std::uint64_t count(Anomaly a) const { return anomalies.get(a); }
  // Sum of every counter except the one named: "nothing else went wrong".
  std::uint64_t others(Anomaly except) const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < kAnomalyCount; ++i) {
      if (i != static_cast<std::size_t>(except)) n += anomalies.counts[i];
    }
    return n;
  }
  std::uint64_t total() const {
    std::uint64_t n = 0;
    for (auto c : anomalies.counts) n += c;
    return n;
  }
};

// Decodes `frame`; `orig_len` 0 means "as captured".
inline Decoded decode(int lt, const Bytes& frame, std::uint32_t orig_len = 0) {
  Decoded d;
  d.frame = frame;
  const auto cap = static_cast<std::uint32_t>(frame.size());
  d.ok = decode_packet(lt, std::span<const std::uint8_t>(d.frame.data(), d.frame.size()),
                       orig_len == 0 ? cap : orig_len, d.view, d.anomalies);
  return d;
}

inline core::IpAddress v4(std::uint32_t a) {
  return core::IpAddress::from_v4(a);
}
inline core::IpAddress v6(std::uint8_t last) {
  const Bytes a = v6addr(last);
  return core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(a.data(), 16));
}

}  // namespace netscope::decode::test
