// IPv4 and IPv6: lengths (ip_bytes from the length fields and orig_len, never the
// captured size), fragments, extension headers and their malformed variants.

#include <gtest/gtest.h>

#include "packet_builder.hpp"

namespace netscope::decode::test {
namespace {

TEST(DecodeIpv4, header_fields) {
  const auto d = decode(linktype::raw, cat({ipv4({.proto = 17,
                                                  .src = 0xc0a80101,
                                                  .dst = 0x08080808,
                                                  .payload_len = 8,
                                                  .ttl = 3,
                                                  .tos = 0xb8}),
                                            udp(5000, 53, 0)}));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.src, v4(0xc0a80101));
  EXPECT_EQ(d.view.dst, v4(0x08080808));
  EXPECT_EQ(d.view.ttl, 3);
  EXPECT_EQ(d.view.tos, 0xb8);
  EXPECT_EQ(d.view.ip_proto, ip_proto::udp);
  EXPECT_FALSE(d.view.is_fragment);
}

TEST(DecodeIpv4, options_shift_the_transport_header) {
  const auto d =
      decode(linktype::raw, cat({ipv4({.payload_len = 20, .ihl = 7}), tcp(7, 8, 9, 10, 0x02, 11)}));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.sport, 7);
  EXPECT_EQ(d.view.ip_bytes, 48u);
}

TEST(DecodeIpv4, ip_bytes_come_from_orig_len_under_snaplen) {
  // Wire: 14 + 20 + 20 + 1000 = 1054 bytes; captured: the first 64.
  const Bytes full =
      cat({eth(0x0800), ipv4({.payload_len = 1020}), tcp(1, 2, 3, 4, 0x10, 5), filler(1000)});
  const Bytes cut(full.begin(), full.begin() + 64);
  const auto d = decode(linktype::ethernet, cut, static_cast<std::uint32_t>(full.size()));
  ASSERT_TRUE(d.view.is_tcp());  // header complete, payload cut: still transport
  EXPECT_EQ(d.view.ip_bytes, 1040u);
  EXPECT_EQ(d.view.payload_len, 1000u);
  EXPECT_EQ(d.view.payload.size(), 10u);
  EXPECT_EQ(d.view.missing_bytes, 990u);
  EXPECT_EQ(d.view.cap_len, 64u);
  EXPECT_EQ(d.view.orig_len, 1054u);
  EXPECT_EQ(d.count(Anomaly::snaplen_truncated), 1u);
  EXPECT_EQ(d.others(Anomaly::snaplen_truncated), 0u);
}

TEST(DecodeIpv4, total_length_zero_uses_the_wire_length_for_offload_captures) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x0800), ipv4({.total = 0}), tcp(1, 2, 3, 4, 0x10, 5), filler(3000)}));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.ip_bytes, 3040u);
  EXPECT_EQ(d.view.payload_len, 3000u);
  EXPECT_EQ(d.count(Anomaly::ip_len_zero), 1u);
  EXPECT_EQ(d.others(Anomaly::ip_len_zero), 0u);
}

TEST(DecodeIpv4, total_length_beyond_the_wire_is_clamped_and_counted) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x0800), ipv4({.total = 200}), tcp(1, 2, 3, 4, 0x10, 5), filler(10)}));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.ip_bytes, 50u);
  EXPECT_EQ(d.view.payload_len, 10u);
  EXPECT_EQ(d.count(Anomaly::ipv4_len_exceeds_frame), 1u);
}

TEST(DecodeIpv4, malformed_headers_are_named) {
  EXPECT_EQ(decode(linktype::raw, ipv4({.proto = 50})).total(), 0u);
  Bytes short_hdr = ipv4({});
  short_hdr.pop_back();
  EXPECT_EQ(decode(linktype::ipv4, short_hdr).count(Anomaly::truncated_ipv4), 1u);

  Bytes ihl3 = ipv4({.payload_len = 8});
  ihl3[0] = 0x43;
  auto d = decode(linktype::ipv4, cat({ihl3, filler(8)}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::bad_ipv4_header_len), 1u);

  // IHL 15 (60 bytes) with only 28 bytes captured.
  Bytes ihl15 = ipv4({.payload_len = 8});
  ihl15[0] = 0x4f;
  d = decode(linktype::ipv4, cat({ihl15, filler(8)}));
  EXPECT_EQ(d.count(Anomaly::truncated_ipv4), 1u);

  d = decode(linktype::ipv4, cat({ipv4({.total = 12}), filler(8)}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::bad_ipv4_total_len), 1u);
}

TEST(DecodeIpv4, first_fragment_decodes_transport) {
  const auto d = decode(linktype::raw, cat({ipv4({.proto = 17, .payload_len = 16, .frag = 0x2000}),
                                            udp(1, 2, 100), filler(8)}));
  EXPECT_TRUE(d.view.is_fragment);
  EXPECT_TRUE(d.view.first_fragment);
  EXPECT_EQ(d.view.frag_id, 0x1234u);
  ASSERT_TRUE(d.view.is_udp());
  // The UDP length (108) covers the whole datagram; this fragment holds 16 bytes of it,
  // which is how fragmentation works, not an anomaly.
  EXPECT_EQ(d.count(Anomaly::bad_udp_length), 0u);
  EXPECT_EQ(d.view.payload_len, 8u);
}

TEST(DecodeIpv4, later_fragment_has_no_transport_header) {
  const auto d =
      decode(linktype::raw, cat({ipv4({.proto = 6, .payload_len = 24, .frag = 185}), filler(24)}));
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.view.layers, PacketView::kLink | PacketView::kIp);
  EXPECT_TRUE(d.view.is_fragment);
  EXPECT_FALSE(d.view.first_fragment);
  EXPECT_EQ(d.view.frag_offset, 1480);
  EXPECT_EQ(d.view.sport, 0);
  EXPECT_EQ(d.view.ip_bytes, 44u);
  EXPECT_EQ(d.count(Anomaly::ip_fragment), 1u);
}

TEST(DecodeIpv4, unknown_protocol_is_ip_without_transport) {
  const auto d = decode(linktype::raw, cat({ipv4({.proto = 50, .payload_len = 16}), filler(16)}));
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.view.layers, PacketView::kLink | PacketView::kIp);
  EXPECT_EQ(d.view.ip_proto, 50);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeIpv6, header_fields_and_lengths) {
  Bytes h = ipv6(6, 20 + 7, 9, 10, 33);
  h[0] = 0x6b;  // traffic class 0xb8
  h[1] = 0x80;
  const auto d = decode(linktype::raw, cat({h, tcp(443, 5555, 1, 2, 0x18, 100), filler(7)}));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.src, v6(9));
  EXPECT_EQ(d.view.dst, v6(10));
  EXPECT_EQ(d.view.ttl, 33);
  EXPECT_EQ(d.view.tos, 0xb8);
  EXPECT_EQ(d.view.ip_bytes, 67u);
  EXPECT_EQ(d.view.payload_len, 7u);
}

TEST(DecodeIpv6, extension_chain_is_walked_to_the_transport) {
  const Bytes hbh = {43, 0, 1, 4, 0, 0, 0, 0};                // -> routing, PadN
  const Bytes routing = {60, 0, 0, 0, 0, 0, 0, 0};            // -> dest opts
  const Bytes dest = {135, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0,  // -> mobility, 16 bytes
                      0,   0, 0, 0};
  const Bytes mobility = {51, 0, 0, 0, 0, 0, 0, 0};              // -> AH
  const Bytes ah = cat({{44, 4, 0, 0}, filler(20)});             // (4+2)*4 = 24 -> frag
  const Bytes frag = cat({{17, 0}, be16(0), be32(0xdeadbeef)});  // atomic fragment -> UDP
  const Bytes ext = cat({hbh, routing, dest, mobility, ah, frag});
  const auto len = static_cast<std::uint16_t>(ext.size() + 8 + 4);
  const auto d = decode(linktype::raw, cat({ipv6(0, len), ext, udp(53, 1053, 4), filler(4)}));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.ip_proto, ip_proto::udp);
  EXPECT_EQ(d.view.dport, 1053);
  EXPECT_EQ(d.view.payload_len, 4u);
  // RFC 6946: an atomic fragment is a whole packet.
  EXPECT_FALSE(d.view.is_fragment);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeIpv6, first_fragment_decodes_transport_later_fragment_does_not) {
  const Bytes first_frag = cat({{17, 0}, be16(0x0001), be32(77)});
  auto d =
      decode(linktype::raw, cat({ipv6(44, 8 + 8 + 8), first_frag, udp(1, 2, 1000), filler(8)}));
  EXPECT_TRUE(d.view.is_fragment);
  EXPECT_TRUE(d.view.first_fragment);
  EXPECT_EQ(d.view.frag_id, 77u);
  EXPECT_TRUE(d.view.is_udp());

  const Bytes later = cat({{17, 0}, be16(1448 | 0x0001), be32(77)});
  d = decode(linktype::raw, cat({ipv6(44, 8 + 16), later, filler(16)}));
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.view.layers, PacketView::kLink | PacketView::kIp);
  EXPECT_TRUE(d.view.is_fragment);
  EXPECT_FALSE(d.view.first_fragment);
  EXPECT_EQ(d.view.frag_offset, 1448);
  EXPECT_EQ(d.view.ip_proto, ip_proto::udp);
  EXPECT_EQ(d.view.ip_bytes, 64u);
  EXPECT_EQ(d.count(Anomaly::ip_fragment), 1u);
}

TEST(DecodeIpv6, malformed_variants_are_named) {
  Bytes h = ipv6(59, 0);
  h.pop_back();
  EXPECT_EQ(decode(linktype::raw, h).count(Anomaly::truncated_ipv6), 1u);

  auto d = decode(linktype::raw, cat({ipv6(17, 100), udp(1, 2, 0)}));
  EXPECT_EQ(d.count(Anomaly::bad_ipv6_payload_len), 1u);
  EXPECT_EQ(d.view.ip_bytes, 48u);

  // Hop-by-hop header claiming 64 bytes in a 16-byte payload.
  d = decode(linktype::raw, cat({ipv6(0, 16), {17, 7}, filler(14)}));
  EXPECT_TRUE(d.ok);
  EXPECT_FALSE(d.view.has_transport());
  EXPECT_EQ(d.count(Anomaly::truncated_ipv6_ext), 1u);

  // Ten destination-options headers in a row.
  Bytes chain;
  for (int i = 0; i < 10; ++i) chain = cat({chain, {60, 0, 1, 4, 0, 0, 0, 0}});
  d = decode(linktype::raw, cat({ipv6(60, static_cast<std::uint16_t>(chain.size())), chain}));
  EXPECT_EQ(d.count(Anomaly::ipv6_ext_chain_too_long), 1u);
}

TEST(DecodeIpv6, jumbo_payload_length_beyond_the_wire_is_counted) {
  // RFC 2675: payload length 0 and a Jumbo Payload option.
  const Bytes hbh = cat({{17, 0, 0xc2, 4}, be32(100000)});
  const auto d =
      decode(linktype::raw, cat({ipv6(0, 0), hbh, be16(1), be16(2), be16(0), be16(0), filler(8)}));
  EXPECT_EQ(d.count(Anomaly::bad_ipv6_payload_len), 1u);
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.ip_bytes, 40u + 24u);
  EXPECT_EQ(d.view.payload_len, 8u);  // UDP length 0 in a jumbogram: use the IP length
}

TEST(DecodeIpv6, payload_length_zero_without_jumbo_uses_the_wire) {
  const auto d = decode(linktype::raw, cat({ipv6(6, 0), tcp(1, 2, 3, 4, 0x10, 5), filler(9)}));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.ip_bytes, 69u);
  EXPECT_EQ(d.view.payload_len, 9u);
  EXPECT_EQ(d.count(Anomaly::ip_len_zero), 1u);
  // With No Next Header, length 0 is simply an empty packet.
  EXPECT_EQ(decode(linktype::raw, ipv6(59, 0)).total(), 0u);
}

}  // namespace
}  // namespace netscope::decode::test
