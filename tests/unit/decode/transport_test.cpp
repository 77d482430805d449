// TCP (with options), UDP, ICMP/ICMPv6 (with quotes), ARP and their truncated variants.

#include <gtest/gtest.h>

#include "packet_builder.hpp"

namespace netscope::decode::test {
namespace {

Decoded eth_ipv4(std::uint8_t proto, const Bytes& transport, std::uint32_t orig = 0) {
  return decode(
      linktype::ethernet,
      cat({eth(0x0800),
           ipv4({.proto = proto, .payload_len = static_cast<std::uint16_t>(transport.size())}),
           transport}),
      orig);
}

const Bytes kSynOptions = cat({{2, 4},
                               be16(1460),    // MSS
                               {1, 3, 3, 7},  // NOP, window scale 7
                               {4, 2},        // SACK permitted
                               {8, 10},
                               be32(111),
                               be32(222)});  // timestamps

TEST(DecodeTcp, header_fields_and_syn_options) {
  const auto d = eth_ipv4(6, tcp(40000, 443, 0x01020304, 0, 0x02, 64240, kSynOptions));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.sport, 40000);
  EXPECT_EQ(d.view.dport, 443);
  EXPECT_EQ(d.view.seq, 0x01020304u);
  EXPECT_EQ(d.view.tcp_flags, tcp_flag::syn);
  EXPECT_EQ(d.view.window, 64240);
  EXPECT_EQ(d.view.tcp_header_len, 40);
  const TcpOptions& o = d.view.tcp_opts;
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 7);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.ts_val, 111u);
  EXPECT_EQ(o.ts_ecr, 222u);
  EXPECT_EQ(d.view.payload_len, 0u);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeTcp, sack_blocks) {
  const Bytes opts =
      cat({{1, 1, 5, 26}, be32(10), be32(20), be32(30), be32(40), be32(50), be32(60)});
  const auto d = eth_ipv4(6, cat({tcp(1, 2, 3, 4, 0x10, 5, opts), filler(3)}));
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.tcp_opts.sack_count, 3);
  EXPECT_EQ(d.view.tcp_opts.sack[0], 10u);
  EXPECT_EQ(d.view.tcp_opts.sack[5], 60u);
  EXPECT_EQ(d.view.tcp_flags, tcp_flag::ack);
  EXPECT_EQ(d.view.payload_len, 3u);
  EXPECT_EQ(d.view.payload[2], 2);
}

TEST(DecodeTcp, unknown_option_is_skipped_by_its_length) {
  const Bytes opts = cat({{254, 6, 0xf9, 0x89, 1, 2}, {2, 4}, be16(1400)});  // TFO exp.
  const auto d = eth_ipv4(6, tcp(1, 2, 3, 4, 2, 5, opts));
  EXPECT_TRUE(d.view.tcp_opts.has_mss);
  EXPECT_EQ(d.view.tcp_opts.mss, 1400);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeTcp, bad_option_is_counted_but_header_kept) {
  for (const Bytes& opts : {Bytes{2, 0, 0, 0}, Bytes{2, 3, 5, 0}, Bytes{8, 40, 0, 0},
                            Bytes{1, 1, 1, 2}, Bytes{5, 7, 0, 0, 0, 0, 0, 0}}) {
    const auto d = eth_ipv4(6, tcp(1, 2, 3, 4, 0x12, 5, opts));
    ASSERT_TRUE(d.view.is_tcp());
    EXPECT_EQ(d.view.sport, 1);
    EXPECT_EQ(d.view.tcp_flags, 0x12);
    EXPECT_EQ(d.count(Anomaly::bad_tcp_option), 1u) << int(opts[0]) << "/" << int(opts[1]);
  }
}

TEST(DecodeTcp, truncated_header_is_ip_only) {
  const Bytes seg = tcp(1, 2, 3, 4, 2, 5, kSynOptions);
  // Options cut by the snaplen: 20 fixed bytes present but not the whole header.
  const Bytes frame = cat({eth(0x0800), ipv4({.payload_len = 40}), seg});
  const Bytes cut(frame.begin(), frame.end() - 6);
  auto d = decode(linktype::ethernet, cut, static_cast<std::uint32_t>(frame.size()));
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.view.layers, PacketView::kLink | PacketView::kIp);
  EXPECT_EQ(d.view.sport, 0);
  EXPECT_EQ(d.count(Anomaly::truncated_tcp), 1u);
  EXPECT_EQ(d.count(Anomaly::snaplen_truncated), 1u);
  // Fewer than 20 bytes.
  const Bytes cut10(frame.begin(), frame.begin() + 14 + 20 + 10);
  d = decode(linktype::ethernet, cut10, static_cast<std::uint32_t>(frame.size()));
  EXPECT_EQ(d.count(Anomaly::truncated_tcp), 1u);
  EXPECT_FALSE(d.view.has_transport());
}

TEST(DecodeTcp, bad_data_offset) {
  Bytes seg = tcp(1, 2, 3, 4, 2, 5);
  seg[12] = 0x40;  // 16 bytes < 20
  EXPECT_EQ(eth_ipv4(6, seg).count(Anomaly::bad_tcp_offset), 1u);
  seg[12] = 0xf0;  // 60 bytes > the 20-byte segment
  const auto d = eth_ipv4(6, seg);
  EXPECT_EQ(d.count(Anomaly::bad_tcp_offset), 1u);
  EXPECT_FALSE(d.view.has_transport());
}

TEST(DecodeUdp, payload_length_from_udp_length) {
  const auto d = eth_ipv4(17, cat({udp(5353, 5353, 12), filler(12)}));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.sport, 5353);
  EXPECT_EQ(d.view.payload_len, 12u);
  EXPECT_EQ(d.view.payload.size(), 12u);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeUdp, udp_length_shorter_than_ip_payload_is_trailing_bytes) {
  const auto d = eth_ipv4(17, cat({udp(1, 53, 0), filler(35)}));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.payload_len, 0u);
  EXPECT_TRUE(d.view.payload.empty());
  EXPECT_EQ(d.count(Anomaly::udp_trailing_bytes), 1u);
}

TEST(DecodeUdp, bad_lengths_fall_back_to_the_ip_payload) {
  auto d = eth_ipv4(17, cat({udp(1, 2, 500), filler(4)}));
  EXPECT_EQ(d.count(Anomaly::bad_udp_length), 1u);
  EXPECT_EQ(d.view.payload_len, 4u);
  Bytes small = cat({udp(1, 2, 0), filler(4)});
  small[5] = 4;  // length 4 < 8
  d = eth_ipv4(17, small);
  EXPECT_EQ(d.count(Anomaly::bad_udp_length), 1u);
  EXPECT_TRUE(d.view.is_udp());
}

TEST(DecodeUdp, truncated_header) {
  const auto d = eth_ipv4(17, Bytes{0, 1, 0, 2, 0});
  EXPECT_TRUE(d.ok);
  EXPECT_FALSE(d.view.has_transport());
  EXPECT_EQ(d.count(Anomaly::truncated_udp), 1u);
}

TEST(DecodeUdp, payload_cut_by_snaplen_keeps_wire_length) {
  const Bytes frame = cat(
      {eth(0x0800), ipv4({.proto = 17, .payload_len = 1208}), udp(50000, 443, 1200), filler(1200)});
  const Bytes cut(frame.begin(), frame.begin() + 100);
  const auto d = decode(linktype::ethernet, cut, static_cast<std::uint32_t>(frame.size()));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.payload_len, 1200u);
  EXPECT_EQ(d.view.payload.size(), 100u - 42u);
}

TEST(DecodeIcmp, echo_has_type_and_code_and_no_quote) {
  const auto d = eth_ipv4(1, cat({{8, 0, 0, 0}, be16(1), be16(2), filler(56)}));
  ASSERT_TRUE(d.view.has_transport());
  EXPECT_EQ(d.view.icmp_type, 8);
  EXPECT_EQ(d.view.icmp_code, 0);
  EXPECT_EQ(d.view.payload_len, 56u);
  EXPECT_FALSE(d.view.icmp_quote.present);
}

TEST(DecodeIcmp, port_unreachable_quotes_the_udp_packet) {
  const Bytes quoted =
      cat({ipv4({.proto = 17, .src = 0x0a000002, .dst = 0x0a000063, .payload_len = 8 + 20}),
           udp(33000, 161, 20)});  // header + first 8 bytes only
  const auto d = eth_ipv4(1, cat({{3, 3, 0, 0, 0, 0, 0, 0}, quoted}));
  ASSERT_TRUE(d.view.has_transport());
  EXPECT_EQ(d.view.icmp_type, 3);
  EXPECT_EQ(d.view.icmp_code, 3);
  const IcmpQuote& q = d.view.icmp_quote;
  ASSERT_TRUE(q.present);
  EXPECT_EQ(q.src, v4(0x0a000002));
  EXPECT_EQ(q.dst, v4(0x0a000063));
  EXPECT_EQ(q.proto, ip_proto::udp);
  EXPECT_EQ(q.sport, 33000);
  EXPECT_EQ(q.dport, 161);
  // The quote must not overwrite the outer packet.
  EXPECT_EQ(d.view.src, v4(0x0a000001));
  EXPECT_EQ(d.view.ip_proto, ip_proto::icmp);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeIcmp, time_exceeded_with_short_quote_is_counted) {
  const auto d = eth_ipv4(1, cat({{11, 0, 0, 0, 0, 0, 0, 0}, filler(12)}));
  EXPECT_TRUE(d.view.has_transport());
  EXPECT_FALSE(d.view.icmp_quote.present);
  EXPECT_EQ(d.count(Anomaly::truncated_icmp_quote), 1u);
}

TEST(DecodeIcmp, truncated_header) {
  const auto d = eth_ipv4(1, Bytes{3, 1, 0});
  EXPECT_FALSE(d.view.has_transport());
  EXPECT_EQ(d.count(Anomaly::truncated_icmp), 1u);
}

TEST(DecodeIcmpv6, packet_too_big_quotes_the_tcp_packet) {
  const Bytes quoted = cat({ipv6(6, 1440, 2, 3), tcp(443, 51000, 1, 2, 0x18, 5)});
  const Bytes icmp = cat({{2, 0, 0, 0}, be32(1280), quoted});
  const auto d =
      decode(linktype::raw, cat({ipv6(58, static_cast<std::uint16_t>(icmp.size()), 7, 2), icmp}));
  ASSERT_TRUE(d.view.has_transport());
  EXPECT_EQ(d.view.ip_proto, ip_proto::icmpv6);
  EXPECT_EQ(d.view.icmp_type, 2);
  const IcmpQuote& q = d.view.icmp_quote;
  ASSERT_TRUE(q.present);
  EXPECT_EQ(q.src, v6(2));
  EXPECT_EQ(q.dst, v6(3));
  EXPECT_EQ(q.proto, ip_proto::tcp);
  EXPECT_EQ(q.sport, 443);
  EXPECT_EQ(q.dport, 51000);
  EXPECT_EQ(d.view.src, v6(7));
}

TEST(DecodeIcmpv6, neighbour_solicitation_is_not_an_error) {
  const Bytes icmp = cat({{135, 0, 0, 0, 0, 0, 0, 0}, v6addr(9)});
  const auto d = decode(linktype::raw, cat({ipv6(58, 24, 1, 2, 255), icmp}));
  EXPECT_EQ(d.view.icmp_type, 135);
  EXPECT_FALSE(d.view.icmp_quote.present);
  EXPECT_EQ(d.total(), 0u);
}

Bytes arp_body(std::uint16_t op) {
  return cat({be16(1),
              be16(0x0800),
              {6, 4},
              be16(op),
              filler(6, 0xa0),
              be32(0xc0a80001),
              Bytes(6, 0),
              be32(0xc0a800fe)});
}

TEST(DecodeArp, request_addresses) {
  const auto d = decode(linktype::ethernet, cat({eth(0x0806), arp_body(1)}));
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.view.layers, PacketView::kLink | PacketView::kArp);
  EXPECT_EQ(d.view.arp_op, 1);
  EXPECT_EQ(d.view.arp_sender, v4(0xc0a80001));
  EXPECT_EQ(d.view.arp_target, v4(0xc0a800fe));
  EXPECT_FALSE(d.view.has_ip());
}

TEST(DecodeArp, truncated_body) {
  Bytes body = arp_body(2);
  body.resize(20);
  const auto d = decode(linktype::ethernet, cat({eth(0x0806), body}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::truncated_arp), 1u);
  EXPECT_EQ(
      decode(linktype::ethernet, cat({eth(0x0806), Bytes(7, 0)})).count(Anomaly::truncated_arp),
      1u);
}

}  // namespace
}  // namespace netscope::decode::test
