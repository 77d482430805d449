// SocketTable: the matching order and the memory of closed sockets, on hand-made entries.

#include "host/socket_table.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace netscope::host {
namespace {

using namespace std::chrono_literals;
using Clock = SocketTable::Clock;

constexpr std::uint8_t kTcp = IPPROTO_TCP;
constexpr std::uint8_t kUdp = IPPROTO_UDP;
constexpr std::uint8_t kEstablished = 1;
constexpr std::uint8_t kTimeWait = 6;
constexpr std::uint8_t kClose = 7;
constexpr std::uint8_t kListen = 10;

core::Endpoint ep(const char* addr, std::uint16_t port) {
  return {*core::IpAddress::parse(addr), port};
}

SocketEntry entry(std::uint8_t proto, core::Endpoint local, core::Endpoint remote,
                  std::uint8_t state, std::uint32_t inode, pid_t pid) {
  SocketEntry e;
  e.record.protocol = proto;
  e.record.family = local.addr.is_v4() ? AF_INET : AF_INET6;
  e.record.local = local;
  e.record.remote = remote;
  e.record.state = state;
  e.record.inode = inode;
  e.record.uid = 1000;
  e.netns = 4026531840u;
  e.pid = pid;
  e.start_time_ticks = pid == 0 ? 0 : 1000 + static_cast<std::uint64_t>(pid);
  return e;
}

const core::Endpoint kLocal = ep("10.0.0.1", 40000);
const core::Endpoint kRemote = ep("93.184.216.34", 443);
const core::Endpoint kAny4 = ep("0.0.0.0", 0);

class SocketTableTest : public ::testing::Test {
 protected:
  SocketTable table{120s, 1000};
  Clock::time_point now = Clock::now();
};

TEST_F(SocketTableTest, exact_match_in_both_orientations_reports_the_local_side) {
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 11, 42)}, now, now);
  for (const FlowQuery& q : {FlowQuery{kTcp, kLocal, kRemote}, FlowQuery{kTcp, kRemote, kLocal}}) {
    const Lookup found = table.lookup(q, now);
    ASSERT_TRUE(found.owner);
    EXPECT_EQ(found.owner->pid, 42);
    EXPECT_EQ(found.owner->start_time_ticks, 1042u);
    EXPECT_EQ(found.owner->quality, Quality::exact);
    EXPECT_EQ(found.owner->kernel_state, kEstablished);
    EXPECT_EQ(found.owner->inode, 11u);
    EXPECT_EQ(found.owner->local, kLocal);
  }
  // The same addresses over UDP are another flow.
  EXPECT_FALSE(table.lookup({kUdp, kLocal, kRemote}, now).owner);
}

TEST_F(SocketTableTest, closed_socket_owner_is_remembered_until_it_expires) {
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 11, 42)}, now, now);
  // Next dump: the socket fell to TIME_WAIT, which has no inode and no owner.
  table.replace({entry(kTcp, kLocal, kRemote, kTimeWait, 0, 0)}, now + 1s, now + 1s);
  Lookup found = table.lookup({kTcp, kRemote, kLocal}, now + 2s);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->pid, 42);
  EXPECT_EQ(found.owner->kernel_state, kTimeWait);
  // Then gone altogether.
  table.replace({}, now + 3s, now + 3s);
  found = table.lookup({kTcp, kLocal, kRemote}, now + 4s);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->kernel_state, kClose);
  table.expire(now + 1s + 121s);
  EXPECT_FALSE(table.lookup({kTcp, kLocal, kRemote}, now + 1s + 121s).owner);
  EXPECT_EQ(table.remembered(), 0u);
}

TEST_F(SocketTableTest, a_new_socket_on_the_same_five_tuple_is_not_the_remembered_owner) {
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 11, 42)}, now, now);
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 12, 0)}, now + 1s, now + 1s);
  const Lookup found = table.lookup({kTcp, kLocal, kRemote}, now + 1s);
  EXPECT_FALSE(found.owner);
  EXPECT_EQ(found.miss, Miss::pending);
}

TEST_F(SocketTableTest, a_remembered_owner_settles_a_flow_but_is_only_remembered) {
  const FlowQuery q{kTcp, kLocal, kRemote};
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 11, 42)}, now, now);
  EXPECT_TRUE(table.settled(q, now));
  EXPECT_FALSE(table.remembered_only(q, now));  // its socket is live
  table.replace({entry(kTcp, kLocal, kRemote, kTimeWait, 0, 0)}, now, now);
  EXPECT_TRUE(table.settled(q, now));
  EXPECT_TRUE(table.remembered_only(q, now));  // a new connection may reuse the 5-tuple
  // It does: a socket with another inode, its owner found by a targeted lookup.
  table.upsert(entry(kTcp, kLocal, kRemote, kEstablished, 12, 43), now);
  EXPECT_FALSE(table.remembered_only(q, now));
  ASSERT_TRUE(table.lookup(q, now).owner);
  EXPECT_EQ(table.lookup(q, now).owner->pid, 43);
}

TEST_F(SocketTableTest, unconnected_udp_matches_exact_address_then_wildcards) {
  table.replace({entry(kUdp, ep("10.0.0.1", 53), kAny4, kClose, 21, 7),
                 entry(kUdp, ep("0.0.0.0", 5353), kAny4, kClose, 22, 8),
                 entry(kUdp, ep("::", 6000), ep("::", 0), kClose, 23, 9)},
                now, now);
  const auto owner = [&](core::Endpoint a, core::Endpoint b) {
    return table.lookup({kUdp, a, b}, now).owner;
  };
  auto o = owner(kRemote, ep("10.0.0.1", 53));  // local end second: both orientations tried
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 7);
  EXPECT_EQ(o->quality, Quality::local_port);
  EXPECT_EQ(o->local, ep("10.0.0.1", 53));
  o = owner(ep("10.0.0.1", 5353), kRemote);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 8);
  EXPECT_EQ(o->local, ep("10.0.0.1", 5353));  // the flow's end, not 0.0.0.0
  o = owner(ep("10.0.0.1", 6000), kRemote);   // dual-stack [::] takes IPv4
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 9);
  o = owner(ep("2001:db8::1", 6000), ep("2001:db8::2", 9));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 9);
  EXPECT_FALSE(owner(ep("10.0.0.2", 53), kRemote));  // bound to another address
  EXPECT_FALSE(table.lookup({kTcp, ep("10.0.0.1", 53), kRemote}, now).owner);
}

TEST_F(SocketTableTest, connected_udp_socket_beats_the_bound_one) {
  table.replace({entry(kUdp, ep("0.0.0.0", 53), kAny4, kClose, 21, 7),
                 entry(kUdp, ep("10.0.0.1", 53), kRemote, kEstablished, 24, 70)},
                now, now);
  const auto o = table.lookup({kUdp, ep("10.0.0.1", 53), kRemote}, now).owner;
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 70);
  EXPECT_EQ(o->quality, Quality::exact);
}

TEST_F(SocketTableTest, listener_answers_for_accepted_connections_only_by_its_port) {
  table.replace({entry(kTcp, ep("0.0.0.0", 8080), kAny4, kListen, 31, 5),
                 // A TCP socket bound without listening is no listener.
                 entry(kTcp, ep("10.0.0.1", 9090), kAny4, kClose, 32, 6)},
                now, now);
  auto found = table.lookup({kTcp, ep("10.0.0.1", 8080), kRemote}, now);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->pid, 5);
  EXPECT_EQ(found.owner->quality, Quality::listener);
  EXPECT_EQ(found.owner->local, ep("10.0.0.1", 8080));
  EXPECT_FALSE(table.lookup({kTcp, ep("10.0.0.1", 9090), kRemote}, now).owner);
  // An exact socket wins over the listener.
  table.upsert(entry(kTcp, ep("10.0.0.1", 8080), kRemote, kEstablished, 33, 55), now);
  found = table.lookup({kTcp, ep("10.0.0.1", 8080), kRemote}, now);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->pid, 55);
  EXPECT_EQ(found.owner->quality, Quality::exact);
}

TEST_F(SocketTableTest, misses_come_from_the_socket_then_from_the_recorded_lookup) {
  SocketEntry tw = entry(kTcp, kLocal, kRemote, kTimeWait, 0, 0);
  tw.miss = Miss::closed;
  SocketEntry denied = entry(kTcp, ep("10.0.0.1", 40001), kRemote, kEstablished, 41, 0);
  denied.miss = Miss::no_permission;
  table.replace({tw, denied}, now, now);
  EXPECT_EQ(table.lookup({kTcp, kLocal, kRemote}, now).miss, Miss::closed);
  EXPECT_EQ(table.lookup({kTcp, kRemote, ep("10.0.0.1", 40001)}, now).miss, Miss::no_permission);
  const FlowQuery forwarded{kTcp, ep("192.168.7.1", 5000), ep("192.168.9.1", 80)};
  EXPECT_EQ(table.lookup(forwarded, now).miss, Miss::pending);
  EXPECT_FALSE(table.settled(forwarded, now));
  table.record_miss(forwarded, Miss::no_socket, now);
  // Recorded under the flow, whichever way round it is asked.
  EXPECT_EQ(table.lookup({kTcp, forwarded.b, forwarded.a}, now).miss, Miss::no_socket);
  EXPECT_TRUE(table.settled(forwarded, now));
  table.expire(now + 121s);
  EXPECT_EQ(table.lookup(forwarded, now + 121s).miss, Miss::pending);
  EXPECT_EQ(table.lookup({1, kLocal, kRemote}, now).miss, Miss::no_socket);  // ICMP
}

TEST_F(SocketTableTest, only_an_exact_owner_of_side_a_settles_a_flow) {
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 11, 42),
                 entry(kTcp, ep("0.0.0.0", 8080), kAny4, kListen, 31, 5)},
                now, now);
  EXPECT_TRUE(table.settled({kTcp, kLocal, kRemote}, now));
  EXPECT_FALSE(table.settled({kTcp, kRemote, kLocal}, now));                // side b's socket only
  EXPECT_FALSE(table.settled({kTcp, ep("10.0.0.1", 8080), kRemote}, now));  // a listener guess
}

TEST_F(SocketTableTest, upsert_keeps_a_known_owner_when_the_socket_is_seen_again) {
  table.upsert(entry(kTcp, kLocal, kRemote, kEstablished, 11, 42), now);
  SocketEntry again = entry(kTcp, kLocal, kRemote, 8 /* CLOSE_WAIT */, 11, 0);
  table.upsert(again, now);
  const auto o = table.lookup({kTcp, kLocal, kRemote}, now).owner;
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 42);
  EXPECT_EQ(o->kernel_state, 8);
}

// A targeted lookup served while a refresh dumped the namespaces found a socket the dump
// may have missed: the dump must not take it for closed.
TEST_F(SocketTableTest, a_socket_found_while_the_dump_ran_stays_live) {
  table.upsert(entry(kTcp, kLocal, kRemote, kEstablished, 11, 42), now + 1s);
  table.replace({}, /*dumped=*/now, now + 2s);
  auto found = table.lookup({kTcp, kLocal, kRemote}, now + 2s);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->pid, 42);
  EXPECT_EQ(found.owner->kernel_state, kEstablished);
  EXPECT_EQ(table.live(), 1u);
  EXPECT_EQ(table.remembered(), 0u);
  // The dump knew it without an owner: the owner found meanwhile stays.
  table.upsert(entry(kTcp, kLocal, ep("10.0.0.9", 80), kEstablished, 12, 43), now + 3s);
  table.replace({entry(kTcp, kLocal, ep("10.0.0.9", 80), kEstablished, 12, 0)}, now + 2s, now + 4s);
  found = table.lookup({kTcp, kLocal, ep("10.0.0.9", 80)}, now + 4s);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->pid, 43);
  // The next dump, which began after both, decides: gone means closed, and remembered.
  table.replace({}, now + 5s, now + 5s);
  found = table.lookup({kTcp, kLocal, kRemote}, now + 5s);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->kernel_state, kClose);
  EXPECT_EQ(table.live(), 0u);
  EXPECT_EQ(table.remembered(), 2u);
}

// The owner of a socket found by a targeted lookup before a dump began stays when the dump
// shows the same socket (same inode) without one: its process exited, or a listing
// forgot it, between the dump and the dump's fd-table side (a curl that lives 20 ms).
TEST_F(SocketTableTest, an_owner_found_before_a_dump_that_shows_the_socket_unowned_stays) {
  table.upsert(entry(kTcp, kLocal, kRemote, kEstablished, 11, 42), now);
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 11, 0)}, now + 1s, now + 2s);
  auto found = table.lookup({kTcp, kLocal, kRemote}, now + 2s);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->pid, 42);
  EXPECT_EQ(found.owner->start_time_ticks, 1042u);
  // A different socket (another inode) on the same 5-tuple is not that owner's.
  table.replace({entry(kTcp, kLocal, kRemote, kEstablished, 12, 0)}, now + 3s, now + 4s);
  found = table.lookup({kTcp, kLocal, kRemote}, now + 4s);
  EXPECT_FALSE(found.owner);
}

// A flow whose own socket was gone when looked up, between the listener of its server
// and the client: the listener is the guess, and the miss still says why it is one (the
// caller may reject the guess: the peer's listener in another namespace of this host).
TEST_F(SocketTableTest, a_guess_comes_with_the_miss_of_the_exact_lookup) {
  const core::Endpoint client = ep("10.0.0.1", 40000);
  const core::Endpoint server = ep("10.0.0.2", 8080);
  table.replace({entry(kTcp, ep("0.0.0.0", 8080), kAny4, kListen, 31, 5)}, now, now);
  const FlowQuery q{kTcp, client, server};
  Lookup found = table.lookup(q, now);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->quality, Quality::listener);
  EXPECT_EQ(found.miss, Miss::pending);
  table.record_miss(q, Miss::closed, now);
  found = table.lookup(q, now);
  ASSERT_TRUE(found.owner);
  EXPECT_EQ(found.owner->quality, Quality::listener);
  EXPECT_EQ(found.owner->local, server);
  EXPECT_EQ(found.miss, Miss::closed);
}

TEST_F(SocketTableTest, remembered_owners_are_bounded) {
  SocketTable small(120s, 3);
  for (std::uint16_t i = 0; i < 10; ++i) {
    small.replace({entry(kTcp, ep("10.0.0.1", 1000 + i), kRemote, kEstablished, 100u + i, 9)}, now,
                  now);
  }
  small.replace({}, now, now);
  EXPECT_EQ(small.remembered(), 3u);
  EXPECT_TRUE(small.lookup({kTcp, ep("10.0.0.1", 1009), kRemote}, now).owner);
  EXPECT_FALSE(small.lookup({kTcp, ep("10.0.0.1", 1000), kRemote}, now).owner);
}

TEST(QualityAndMissNames, are_the_json_words) {
  EXPECT_EQ(quality_name(Quality::exact), "exact");
  EXPECT_EQ(quality_name(Quality::listener), "listener");
  EXPECT_EQ(quality_name(Quality::local_port), "local_port");
  EXPECT_EQ(miss_name(Miss::pending), "pending");
  EXPECT_EQ(miss_name(Miss::no_socket), "no_socket");
  EXPECT_EQ(miss_name(Miss::no_permission), "no_permission");
  EXPECT_EQ(miss_name(Miss::closed), "closed");
}

}  // namespace
}  // namespace netscope::host
