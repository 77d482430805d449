// Link layers: Ethernet, 802.1Q/802.1ad/QinQ, MPLS, SLL, SLL2, BSD null/loop, raw IP,
// NFLOG. Each packet is written out in the test.

#include <gtest/gtest.h>

#include "packet_builder.hpp"

namespace netscope::decode::test {
namespace {

// Ethernet + IPv4 + TCP with 5 payload bytes, behind `link`.
Bytes ipv4_tcp_payload() {
  return cat(
      {ipv4({.proto = 6, .payload_len = 20 + 5}), tcp(1234, 80, 1000, 0, 0x18, 512), filler(5)});
}

void expect_ipv4_tcp(const Decoded& d) {
  ASSERT_TRUE(d.ok);
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.ip_version, 4);
  EXPECT_EQ(d.view.src, v4(0x0a000001));
  EXPECT_EQ(d.view.dst, v4(0x0a000002));
  EXPECT_EQ(d.view.sport, 1234);
  EXPECT_EQ(d.view.dport, 80);
  EXPECT_EQ(d.view.ip_bytes, 45u);
  EXPECT_EQ(d.view.payload_len, 5u);
  EXPECT_EQ(d.view.payload.size(), 5u);
}

TEST(DecodeEthernet, plain_ipv4_tcp_sets_every_layer) {
  const auto d = decode(linktype::ethernet, cat({eth(0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.layers, PacketView::kLink | PacketView::kIp | PacketView::kTransport);
  EXPECT_EQ(d.view.vlan_count, 0);
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeEthernet, padding_of_short_frames_is_not_counted_as_ip_bytes) {
  // 14 + 20 + 20 = 54 bytes, padded to the 60-byte minimum (IEEE 802.3 §3.2.8).
  Bytes frame = cat({eth(0x0800), ipv4({.payload_len = 20}), tcp(1, 2, 3, 4, 0x10, 5)});
  frame.resize(60, 0);
  const auto d = decode(linktype::ethernet, frame);
  ASSERT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.ip_bytes, 40u);
  EXPECT_EQ(d.view.payload_len, 0u);
  EXPECT_TRUE(d.view.payload.empty());
  EXPECT_EQ(d.total(), 0u);
}

TEST(DecodeEthernet, frame_shorter_than_header_is_truncated_link) {
  const auto d = decode(linktype::ethernet, Bytes(13, 0));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.view.layers, 0);
  EXPECT_EQ(d.count(Anomaly::truncated_link), 1u);
}

TEST(DecodeEthernet, unknown_ethertype_is_counted_not_decoded) {
  const auto d = decode(linktype::ethernet, cat({eth(0x88cc), filler(30)}));  // LLDP
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.view.layers, PacketView::kLink);
  EXPECT_EQ(d.count(Anomaly::unsupported_ethertype), 1u);
}

TEST(DecodeEthernet, llc_snap_frame_forwards_its_ethertype) {
  const Bytes body = ipv4_tcp_payload();
  const auto len = static_cast<std::uint16_t>(8 + body.size());
  const auto d =
      decode(linktype::ethernet, cat({eth(len), {0xaa, 0xaa, 0x03, 0, 0, 0}, be16(0x0800), body}));
  expect_ipv4_tcp(d);
}

TEST(DecodeVlan, single_tag_sets_vid) {
  const auto d = decode(linktype::ethernet,
                        cat({eth(0x8100), vlan_tag(0x2000 | 100, 0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.vlan_count, 1);
  EXPECT_EQ(d.view.vlan, 100);  // PCP bits masked off
}

TEST(DecodeVlan, qinq_double_8100_keeps_innermost_vid) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x8100), vlan_tag(10, 0x8100), vlan_tag(20, 0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.vlan_count, 2);
  EXPECT_EQ(d.view.vlan, 20);
}

TEST(DecodeVlan, ieee_802_1ad_s_tag_then_c_tag) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x88a8), vlan_tag(300, 0x8100), vlan_tag(42, 0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.vlan_count, 2);
  EXPECT_EQ(d.view.vlan, 42);
}

TEST(DecodeVlan, pre_standard_9100_tag) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x9100), vlan_tag(7, 0x8100), vlan_tag(8, 0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.vlan_count, 2);
  EXPECT_EQ(d.view.vlan, 8);
}

TEST(DecodeVlan, tag_cut_short_is_truncated_vlan) {
  const auto d = decode(linktype::ethernet, cat({eth(0x8100), vlan_tag(10, 0x8100), {0x00}}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::truncated_vlan), 1u);
  EXPECT_EQ(d.others(Anomaly::truncated_vlan), 0u);
}

TEST(DecodeVlan, vlan_carrying_arp) {
  const Bytes arp = cat({be16(1),
                         be16(0x0800),
                         {6, 4},
                         be16(2),
                         filler(6),
                         be32(0xc0a80001),
                         filler(6),
                         be32(0xc0a80002)});
  const auto d =
      decode(linktype::ethernet, cat({eth(0x88a8), vlan_tag(1, 0x8100), vlan_tag(2, 0x0806), arp}));
  ASSERT_TRUE(d.ok);
  EXPECT_TRUE(d.view.layers & PacketView::kArp);
  EXPECT_EQ(d.view.arp_op, 2);
  EXPECT_EQ(d.view.arp_sender, v4(0xc0a80001));
  EXPECT_EQ(d.view.arp_target, v4(0xc0a80002));
}

Bytes mpls_entry(std::uint32_t label, bool bottom) {
  return be32((label << 12) | (bottom ? 0x100u : 0u) | 64u);
}

TEST(DecodeMpls, label_stack_then_ipv4_by_version_nibble) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x8847), mpls_entry(100, false), mpls_entry(200, true), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.mpls_labels, 2);
}

TEST(DecodeMpls, multicast_mpls_then_ipv6) {
  const Bytes inner = cat({ipv6(17, 8 + 3), udp(53, 5353, 3), filler(3)});
  const auto d = decode(linktype::ethernet, cat({eth(0x8848), mpls_entry(16, true), inner}));
  ASSERT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.ip_version, 6);
  EXPECT_EQ(d.view.mpls_labels, 1);
  EXPECT_EQ(d.view.payload_len, 3u);
}

TEST(DecodeMpls, ethernet_pseudowire_behind_control_word) {
  const auto d =
      decode(linktype::ethernet,
             cat({eth(0x8847), mpls_entry(5, true), be32(0), eth(0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
}

TEST(DecodeMpls, stack_without_bottom_of_stack_is_truncated_mpls) {
  const auto d =
      decode(linktype::ethernet, cat({eth(0x8847), mpls_entry(1, false), mpls_entry(2, false)}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::truncated_mpls), 1u);
}

TEST(DecodeMpls, non_ip_payload_is_bad_ip_version) {
  const auto d =
      decode(linktype::ethernet, cat({eth(0x8847), mpls_entry(1, true), {0x50, 1, 2, 3}}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::bad_ip_version), 1u);
}

TEST(DecodeSll, cooked_v1_ipv4) {
  const Bytes sll = cat({be16(0), be16(1), be16(6), filler(8), be16(0x0800)});
  expect_ipv4_tcp(decode(linktype::linux_sll, cat({sll, ipv4_tcp_payload()})));
}

TEST(DecodeSll, cooked_v2_ipv4) {
  const Bytes sll2 = cat({be16(0x0800), be16(0), be32(3), be16(1), {4, 6}, filler(8)});
  expect_ipv4_tcp(decode(linktype::linux_sll2, cat({sll2, ipv4_tcp_payload()})));
}

TEST(DecodeSll, cooked_v1_vlan_tag_after_header) {
  const Bytes sll = cat({be16(0), be16(1), be16(6), filler(8), be16(0x8100)});
  const auto d = decode(linktype::linux_sll, cat({sll, vlan_tag(33, 0x0800), ipv4_tcp_payload()}));
  expect_ipv4_tcp(d);
  EXPECT_EQ(d.view.vlan, 33);
}

TEST(DecodeSll, truncated_headers) {
  EXPECT_EQ(decode(linktype::linux_sll, Bytes(15, 0)).count(Anomaly::truncated_link), 1u);
  EXPECT_EQ(decode(linktype::linux_sll2, Bytes(19, 0)).count(Anomaly::truncated_link), 1u);
}

TEST(DecodeNull, host_order_little_endian_af_inet) {
  expect_ipv4_tcp(decode(linktype::null_bsd, cat({le32(2), ipv4_tcp_payload()})));
}

TEST(DecodeNull, host_order_big_endian_af_inet) {
  expect_ipv4_tcp(decode(linktype::null_bsd, cat({be32(2), ipv4_tcp_payload()})));
}

TEST(DecodeNull, every_bsd_and_linux_af_inet6_in_both_orders) {
  const Bytes inner = cat({ipv6(17, 8), udp(1, 2, 0)});
  for (std::uint32_t af : {10u, 24u, 28u, 30u}) {
    for (bool little : {true, false}) {
      const auto d = decode(linktype::null_bsd, cat({little ? le32(af) : be32(af), inner}));
      EXPECT_TRUE(d.view.is_udp()) << "af " << af << " little " << little;
      EXPECT_EQ(d.view.ip_version, 6);
    }
  }
}

TEST(DecodeNull, loop_is_network_order) {
  expect_ipv4_tcp(decode(linktype::loop, cat({be32(2), ipv4_tcp_payload()})));
  const auto d = decode(linktype::loop, cat({le32(2), ipv4_tcp_payload()}));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::unsupported_address_family), 1u);
}

TEST(DecodeNull, unknown_family_and_short_header) {
  EXPECT_EQ(decode(linktype::null_bsd, cat({le32(7), ipv4_tcp_payload()}))
                .count(Anomaly::unsupported_address_family),
            1u);
  EXPECT_EQ(decode(linktype::null_bsd, Bytes{2, 0, 0}).count(Anomaly::truncated_link), 1u);
}

TEST(DecodeRaw, linktype_raw_picks_family_by_version_nibble) {
  expect_ipv4_tcp(decode(linktype::raw, ipv4_tcp_payload()));
  expect_ipv4_tcp(decode(linktype::raw_dlt, ipv4_tcp_payload()));
  const auto d = decode(linktype::raw, cat({ipv6(6, 20), tcp(1, 2, 3, 4, 2, 5)}));
  EXPECT_TRUE(d.view.is_tcp());
  EXPECT_EQ(d.view.ip_version, 6);
  EXPECT_EQ(d.view.ip_bytes, 60u);
}

TEST(DecodeRaw, linktype_ipv4_and_ipv6_reject_the_other_family) {
  expect_ipv4_tcp(decode(linktype::ipv4, ipv4_tcp_payload()));
  const auto d = decode(linktype::ipv6, ipv4_tcp_payload());
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.count(Anomaly::bad_ip_version), 1u);
  EXPECT_EQ(decode(linktype::ipv4, cat({ipv6(59, 0)})).count(Anomaly::bad_ip_version), 1u);
  EXPECT_EQ(decode(linktype::raw, Bytes{0x10}).count(Anomaly::bad_ip_version), 1u);
  EXPECT_EQ(decode(linktype::raw, Bytes{}).count(Anomaly::truncated_link), 1u);
}

// NFLOG TLV in the given byte order, padded to 4 bytes.
Bytes nflog_tlv(std::uint16_t type, const Bytes& value, bool little) {
  const auto len = static_cast<std::uint16_t>(4 + value.size());
  Bytes b = cat({little ? le16(len) : be16(len), little ? le16(type) : be16(type), value});
  while (b.size() % 4 != 0) b.push_back(0);
  return b;
}

Bytes nflog(bool little, const Bytes& packet, std::uint8_t family = 2) {
  return cat({{family, 0},
              be16(42),
              nflog_tlv(1, {0x08, 0x00, 0x01, 0x00}, little),
              nflog_tlv(10, Bytes(4, 0), little),
              nflog_tlv(9, packet, little)});
}

TEST(DecodeNflog, little_endian_tlvs) {
  expect_ipv4_tcp(decode(linktype::nflog, nflog(true, ipv4_tcp_payload())));
}

TEST(DecodeNflog, big_endian_tlvs) {
  expect_ipv4_tcp(decode(linktype::nflog, nflog(false, ipv4_tcp_payload())));
}

TEST(DecodeNflog, payload_tlv_padding_is_not_ip_bytes) {
  // 45-byte packet: its TLV is padded by 3 bytes, which must not count.
  const auto d = decode(linktype::nflog, nflog(true, ipv4_tcp_payload(), 2));
  EXPECT_EQ(d.view.ip_bytes, 45u);
}

TEST(DecodeNflog, ipv6_family) {
  const auto d = decode(linktype::nflog, nflog(true, cat({ipv6(17, 8), udp(1, 2, 0)}), 10));
  EXPECT_TRUE(d.view.is_udp());
  EXPECT_EQ(d.view.ip_version, 6);
}

TEST(DecodeNflog, missing_payload_or_bad_version_is_bad_nflog) {
  const Bytes no_payload = cat({{2, 0}, be16(1), nflog_tlv(1, Bytes(4, 0), true)});
  EXPECT_EQ(decode(linktype::nflog, no_payload).count(Anomaly::bad_nflog), 1u);
  Bytes bad_version = nflog(true, ipv4_tcp_payload());
  bad_version[1] = 1;
  EXPECT_EQ(decode(linktype::nflog, bad_version).count(Anomaly::bad_nflog), 1u);
  const Bytes zero_len = cat({{2, 0}, be16(1), le16(0), le16(9), filler(20)});
  EXPECT_EQ(decode(linktype::nflog, zero_len).count(Anomaly::bad_nflog), 1u);
  EXPECT_EQ(decode(linktype::nflog, Bytes{2, 0}).count(Anomaly::truncated_link), 1u);
}

TEST(DecodeLinktype, supported_set) {
  for (int lt : {0, 1, 12, 101, 108, 113, 228, 229, 239, 276}) {
    EXPECT_TRUE(linktype_supported(lt)) << lt;
  }
  for (int lt : {-1, 2, 105, 127, 160, 1000}) EXPECT_FALSE(linktype_supported(lt)) << lt;
  const auto d = decode(160, Bytes(40, 0));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.view.linktype, 160);
}

}  // namespace
}  // namespace netscope::decode::test
