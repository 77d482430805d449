// FragmentCache: later IP fragments borrow the ports of their first fragment, within the
// same VLAN and tunnel only, and only for a bounded time either way.
#include "monitor/fragment_cache.hpp"

#include <gtest/gtest.h>

using namespace netscope;

namespace {

decode::PacketView fragment(std::uint32_t id, double t, std::uint16_t vlan = 0) {
  decode::PacketView v;
  v.src = *core::IpAddress::parse("10.0.0.1");
  v.dst = *core::IpAddress::parse("10.0.0.2");
  v.ip_proto = decode::ip_proto::udp;
  v.frag_id = id;
  v.vlan = vlan;
  v.is_fragment = true;
  v.ts = core::Timestamp{static_cast<std::int64_t>(t * 1e9)};
  return v;
}

}  // namespace

TEST(FragmentCache, later_fragment_gets_the_ports_of_its_first_fragment) {
  monitor::FragmentCache cache;
  decode::PacketView first = fragment(7, 1.0);
  first.first_fragment = true;
  first.sport = 5353;
  first.dport = 53;
  cache.remember(first);
  decode::PacketView later = fragment(7, 1.5);
  ASSERT_TRUE(cache.lookup(later));
  EXPECT_EQ(later.sport, 5353);
  EXPECT_EQ(later.dport, 53);
  decode::PacketView other_id = fragment(8, 1.5);
  EXPECT_FALSE(cache.lookup(other_id));
}

TEST(FragmentCache, same_addresses_on_another_vlan_are_another_datagram) {
  monitor::FragmentCache cache;
  decode::PacketView first = fragment(7, 1.0, 10);
  first.sport = 1111;
  first.dport = 2222;
  cache.remember(first);
  decode::PacketView elsewhere = fragment(7, 1.1, 20);
  EXPECT_FALSE(cache.lookup(elsewhere));
  decode::PacketView here = fragment(7, 1.1, 10);
  EXPECT_TRUE(cache.lookup(here));
}

TEST(FragmentCache, entries_age_out_in_both_directions_of_time) {
  monitor::FragmentCache cache;
  decode::PacketView first = fragment(9, 100.0);
  first.sport = 1;
  first.dport = 2;
  cache.remember(first);
  decode::PacketView late = fragment(9, 131.0);
  EXPECT_FALSE(cache.lookup(late));
  decode::PacketView early = fragment(9, 69.0);  // time went backwards by 31 s
  EXPECT_FALSE(cache.lookup(early));
  decode::PacketView near = fragment(9, 95.0);  // a little backwards: still the datagram
  EXPECT_TRUE(cache.lookup(near));
}
