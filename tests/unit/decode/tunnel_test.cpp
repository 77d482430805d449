// GRE, VXLAN and IP-in-IP: the view describes the inner packet and keeps the outer
// addresses and key/VNI; nesting is bounded.

#include <gtest/gtest.h>

#include "packet_builder.hpp"

namespace netscope::decode::test {
namespace {

const Bytes kInnerTcp =
    cat({ipv4({.proto = 6, .src = 0xac100001, .dst = 0xac100002, .payload_len = 20 + 4}),
         tcp(2222, 22, 9, 8, 0x18, 7), filler(4)});

Bytes outer_ipv4(std::uint8_t proto, const Bytes& payload) {
  return cat({eth(0x0800),
              ipv4({.proto = proto,
                    .src = 0xc6336401,  // 198.51.100.1
                    .dst = 0xcb007102,  // 203.0.113.2
                    .payload_len = static_cast<std::uint16_t>(payload.size())}),
              payload});
}

void expect_inner_tcp(const Decoded& d) {
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.src, v4(0xac100001));
  EXPECT_EQ(d.view.dst, v4(0xac100002));
  EXPECT_EQ(d.view.sport, 2222);
  EXPECT_EQ(d.view.dport, 22);
  EXPECT_EQ(d.view.payload_len, 4u);
  EXPECT_EQ(d.view.ip_bytes, 44u);
  EXPECT_EQ(d.view.tunnel_src, v4(0xc6336401));
  EXPECT_EQ(d.view.tunnel_dst, v4(0xcb007102));
}

TEST(DecodeGre, with_key_to_ipv4) {
  const Bytes gre = cat({be16(0x2000), be16(0x0800), be32(0xabcdef01)});
  const auto d = decode(linktype::ethernet, outer_ipv4(47, cat({gre, kInnerTcp})));
  expect_inner_tcp(d);
  EXPECT_EQ(d.view.tunnel, Tunnel::gre);
  EXPECT_EQ(d.view.tunnel_id, 0xabcdef01u);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeGre, checksum_key_and_sequence_words_are_skipped) {
  const Bytes gre = cat({be16(0xb000), be16(0x0800), be32(0xffff0000), be32(5), be32(99)});
  const auto d = decode(linktype::ethernet, outer_ipv4(47, cat({gre, kInnerTcp})));
  expect_inner_tcp(d);
  EXPECT_EQ(d.view.tunnel_id, 5u);
}

TEST(DecodeGre, transparent_ethernet_bridging) {
  const Bytes gre = cat({be16(0), be16(0x6558)});
  const auto d = decode(linktype::ethernet,
                        outer_ipv4(47, cat({gre, eth(0x8100), vlan_tag(9, 0x0800), kInnerTcp})));
  expect_inner_tcp(d);
  EXPECT_EQ(d.view.vlan, 9);
}

TEST(DecodeGre, ipv6_payload) {
  const Bytes inner = cat({ipv6(17, 8 + 2), udp(1, 2, 2), filler(2)});
  const auto d = decode(linktype::ethernet, outer_ipv4(47, cat({be16(0), be16(0x86dd), inner})));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.ip_version, 6);
  EXPECT_EQ(d.view.tunnel_src, v4(0xc6336401));
}

TEST(DecodeGre, truncated_header) {
  auto d = decode(linktype::ethernet, outer_ipv4(47, Bytes{0x20, 0, 0x08}));
  EXPECT_EQ(d.count(Anomaly::truncated_gre), 1u);
  EXPECT_TRUE(d.view.has_ip());
  d = decode(linktype::ethernet, outer_ipv4(47, cat({be16(0x2000), be16(0x0800), {1, 2}})));
  EXPECT_EQ(d.count(Anomaly::truncated_gre), 1u);
}

Bytes vxlan(std::uint32_t vni, const Bytes& inner_frame) {
  const Bytes body = cat({{0x08, 0, 0, 0}, be32(vni << 8), inner_frame});
  return outer_ipv4(17, cat({udp(49152, 4789, static_cast<std::uint16_t>(body.size())), body}));
}

TEST(DecodeVxlan, inner_ethernet_frame) {
  const auto d = decode(linktype::ethernet, vxlan(0x123456, cat({eth(0x0800), kInnerTcp})));
  expect_inner_tcp(d);
  EXPECT_EQ(d.view.tunnel, Tunnel::vxlan);
  EXPECT_EQ(d.view.tunnel_id, 0x123456u);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeVxlan, truncated_header_and_inner_failure_leave_no_outer_transport) {
  auto d = decode(linktype::ethernet, outer_ipv4(17, cat({udp(1, 4789, 4), {0x08, 0, 0, 0}})));
  EXPECT_EQ(d.count(Anomaly::truncated_vxlan), 1u);
  d = decode(linktype::ethernet, vxlan(1, Bytes(10, 0)));
  EXPECT_EQ(d.count(Anomaly::truncated_link), 1u);
  EXPECT_EQ(d.view.tunnel, Tunnel::vxlan);
  EXPECT_FALSE(d.view.has_transport());
}

TEST(DecodeTunnel, ip_in_ip) {
  const auto d = decode(linktype::ethernet, outer_ipv4(4, kInnerTcp));
  expect_inner_tcp(d);
  EXPECT_EQ(d.view.tunnel, Tunnel::ip_in_ip);
}

TEST(DecodeTunnel, nesting_is_bounded) {
  Bytes inner = kInnerTcp;
  for (int i = 0; i < 10; ++i) {
    inner = cat({ipv4({.proto = 47, .payload_len = static_cast<std::uint16_t>(inner.size() + 4)}),
                 be16(0), be16(0x0800), inner});
  }
  const auto d = decode(linktype::raw, inner);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.count(Anomaly::tunnel_too_deep), 1u);
  EXPECT_FALSE(d.view.has_transport());
}

}  // namespace
}  // namespace netscope::decode::test
