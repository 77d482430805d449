#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <span>

#include "core/flow_key.hpp"
#include "core/ip_address.hpp"
#include "core/timestamp.hpp"
#include "core/units.hpp"

using namespace netscope::core;

TEST(IpAddress, parses_and_prints_both_families) {
  const auto v4 = IpAddress::parse("192.168.1.20");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->to_string(), "192.168.1.20");
  EXPECT_EQ(v4->v4_host_order(), 0xc0a80114u);
  const auto v6 = IpAddress::parse("fd77::1");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->to_string(), "fd77::1");
  EXPECT_FALSE(IpAddress::parse("300.1.1.1"));
  EXPECT_FALSE(IpAddress::parse("not an address"));
  EXPECT_EQ(IpAddress::from_v4(0x0a000001).to_string(), "10.0.0.1");
}

TEST(Endpoint, brackets_ipv6) {
  EXPECT_EQ((Endpoint{*IpAddress::parse("10.0.0.1"), 80}).to_string(), "10.0.0.1:80");
  EXPECT_EQ((Endpoint{*IpAddress::parse("::1"), 443}).to_string(), "[::1]:443");
}

TEST(FlowKey, both_directions_give_the_same_key_and_opposite_orientation) {
  const IpAddress a = *IpAddress::parse("10.0.0.1");
  const IpAddress b = *IpAddress::parse("10.0.0.2");
  const OrientedKey fwd = make_flow_key(a, 40000, b, 80, 6);
  const OrientedKey rev = make_flow_key(b, 80, a, 40000, 6);
  EXPECT_EQ(fwd.key, rev.key);
  EXPECT_NE(fwd.src_is_a, rev.src_is_a);
  EXPECT_EQ(hash_flow_key(fwd.key), hash_flow_key(rev.key));
}

TEST(FlowKey, same_address_orders_by_port) {
  const IpAddress a = *IpAddress::parse("127.0.0.1");
  const OrientedKey fwd = make_flow_key(a, 5000, a, 80, 6);
  const OrientedKey rev = make_flow_key(a, 80, a, 5000, 6);
  EXPECT_EQ(fwd.key, rev.key);
  EXPECT_NE(fwd.src_is_a, rev.src_is_a);
}

TEST(FlowKey, vlan_tunnel_and_proto_separate_flows) {
  const IpAddress a = *IpAddress::parse("10.0.0.1");
  const IpAddress b = *IpAddress::parse("10.0.0.2");
  const FlowKey base = make_flow_key(a, 1, b, 2, 6).key;
  EXPECT_NE(base, make_flow_key(a, 1, b, 2, 17).key);
  EXPECT_NE(base, make_flow_key(a, 1, b, 2, 6, 100).key);
  EXPECT_NE(base, make_flow_key(a, 1, b, 2, 6, 0, 42).key);
}

TEST(Timestamp, rfc3339_has_microseconds_and_handles_2106) {
  EXPECT_EQ(to_rfc3339(Timestamp::from_sec_usec(0, 1)), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(to_rfc3339(Timestamp::from_sec_nsec(1795477501, 123456789)),
            "2026-11-23T23:45:01.123456Z");
  // One second past the 32-bit unsigned seconds limit.
  EXPECT_EQ(to_rfc3339(Timestamp::from_sec_usec(4294967296LL, 0)), "2106-02-07T06:28:16.000000Z");
}

TEST(Units, formats_bytes_rates_durations_counts) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3.5 * 1024 * 1024), "3.5 MiB");
  EXPECT_EQ(format_rate(2048), "2.0 KiB/s");
  EXPECT_EQ(format_bitrate(98.4e6), "98.4 Mbit/s");
  EXPECT_EQ(format_duration(0.85), "850 ms");
  EXPECT_EQ(format_duration(12.4), "12.4 s");
  EXPECT_EQ(format_duration(200), "3 min 20 s");
  EXPECT_EQ(format_duration(7500), "2 h 05 min");
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(1234567), "1,234,567");
}

// The packet path's make_flow_key() with a hash gives hash_flow_key() of the same key, for
// either direction, IPv4 and IPv6, VLAN and tunnel ids, and equal addresses.
TEST(FlowKey, the_hash_made_with_the_key_equals_the_hash_of_the_key) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::array<std::uint8_t, 16> a{};
    std::array<std::uint8_t, 16> b{};
    for (auto& x : a) x = static_cast<std::uint8_t>(rng());
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (i % 7 == 0) b = a;
    const bool v4 = i % 2 == 0;
    const IpAddress src = v4 ? IpAddress::from_v4(std::span<const std::uint8_t, 4>(a.data(), 4))
                             : IpAddress::from_v6(std::span<const std::uint8_t, 16>(a));
    const IpAddress dst = v4 ? IpAddress::from_v4(std::span<const std::uint8_t, 4>(b.data(), 4))
                             : IpAddress::from_v6(std::span<const std::uint8_t, 16>(b));
    const auto sport = static_cast<std::uint16_t>(rng());
    const auto dport = static_cast<std::uint16_t>(i % 5 == 0 ? sport : rng());
    const auto proto = static_cast<std::uint8_t>(rng());
    const auto vlan = static_cast<std::uint16_t>(i % 3 == 0 ? rng() & 0xfff : 0);
    const auto tunnel = static_cast<std::uint32_t>(i % 4 == 0 ? rng() : 0);
    std::uint64_t hash = 0;
    const OrientedKey k = make_flow_key(src, sport, dst, dport, proto, vlan, tunnel, hash);
    ASSERT_EQ(hash, hash_flow_key(k.key)) << i;
    const OrientedKey plain = make_flow_key(src, sport, dst, dport, proto, vlan, tunnel);
    ASSERT_EQ(plain.key, k.key) << i;
    ASSERT_EQ(plain.src_is_a, k.src_is_a) << i;
  }
}
