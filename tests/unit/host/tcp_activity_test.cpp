// TcpActivity: a namespace's TCP counters tell whether its socket dump can have changed;
// NamespaceDiags::dump() hands out the last TCP dump again while they stand still.

#include "host/tcp_activity.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "host/namespace_diags.hpp"
#include "live_sockets.hpp"

namespace netscope::host {
namespace {

using test_support::Fd;

// /proc/net/snmp and /proc/net/sockstat as Linux 6.18 writes them (the Ip, Icmp and Udp
// lines shortened).
constexpr std::string_view kSnmp =
    "Ip: Forwarding DefaultTTL InReceives\n"
    "Ip: 1 64 4128\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails "
    "EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
    "Tcp: 1 200 120000 -1 483 435 11 424 0 225344 222576 482 0 258 0\n"
    "Udp: InDatagrams NoPorts\n"
    "Udp: 7 0\n";
constexpr std::string_view kSockstat =
    "sockets: used 17\n"
    "TCP: inuse 1 orphan 0 tw 1 alloc 5 mem 389\n"
    "UDP: inuse 0 mem 0\n";

TEST(TcpActivityParse, snmp_gives_the_values_of_the_tcp_line) {
  std::vector<std::int64_t> out;
  ASSERT_TRUE(parse_snmp_tcp(kSnmp, out));
  const std::vector<std::int64_t> want{1, 200,    120000, -1,  483, 435, 11, 424,
                                       0, 225344, 222576, 482, 0,   258, 0};
  EXPECT_EQ(out, want);
}

TEST(TcpActivityParse, snmp_without_a_values_line_or_with_garbage_is_refused) {
  std::vector<std::int64_t> out;
  EXPECT_FALSE(parse_snmp_tcp("", out));
  EXPECT_FALSE(parse_snmp_tcp("Tcp: RtoAlgorithm RtoMin\n", out));
  EXPECT_FALSE(parse_snmp_tcp("Tcp: RtoAlgorithm RtoMin\nTcp: 1 2x\n", out));
  EXPECT_FALSE(parse_snmp_tcp("Tcp: RtoAlgorithm RtoMin\nTcp:\n", out));
  EXPECT_FALSE(parse_snmp_tcp("Udp: a\nUdp: 1\n", out));
}

TEST(TcpActivityParse, sockstat_gives_inuse_and_tw_only) {
  std::vector<std::int64_t> out;
  ASSERT_TRUE(parse_sockstat_tcp(kSockstat, out));
  EXPECT_EQ(out, (std::vector<std::int64_t>{1, 1}));
}

TEST(TcpActivityParse, sockstat_without_inuse_or_tw_is_refused) {
  std::vector<std::int64_t> out;
  EXPECT_FALSE(parse_sockstat_tcp("sockets: used 17\n", out));
  EXPECT_FALSE(parse_sockstat_tcp("TCP: inuse 1 orphan 0\n", out));
  EXPECT_FALSE(parse_sockstat_tcp("TCP: inuse 1 tw\n", out));
  EXPECT_FALSE(parse_sockstat_tcp("TCP: inuse x tw 0\n", out));
  EXPECT_TRUE(out.empty());
}

TEST(TcpActivity, an_unreadable_directory_gives_no_probe) {
  EXPECT_FALSE(TcpActivity::open("/nonexistent/net").has_value());
}

TEST(TcpActivity, listen_connect_and_close_move_the_counters_and_nothing_else_does) {
  test_support::in_new_netns_or_skip([] {
    std::optional<TcpActivity> activity = TcpActivity::open("/proc/thread-self/net");
    ASSERT_TRUE(activity.has_value());
    // Nobody else lives in this namespace: nothing moves.
    EXPECT_FALSE(activity->changed());
    EXPECT_FALSE(activity->changed());

    Fd listener(test_support::bound_socket(AF_INET, SOCK_STREAM));
    ASSERT_GE(listener.get(), 0);
    EXPECT_FALSE(activity->changed()) << "bind() alone hashes nothing";
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    EXPECT_TRUE(activity->changed()) << "listen() sends nothing but hashes the socket";
    EXPECT_FALSE(activity->changed());

    Fd client(test_support::connect_to(AF_INET, test_support::local_port(listener.get())));
    ASSERT_GE(client.get(), 0);
    EXPECT_TRUE(activity->changed());
    Fd accepted(::accept(listener.get(), nullptr, nullptr));
    ASSERT_GE(accepted.get(), 0);
    EXPECT_FALSE(activity->changed()) << "accept() sends nothing (dump() covers it)";

    client.reset();
    EXPECT_TRUE(activity->changed()) << "FIN";
    listener.reset();
    EXPECT_TRUE(activity->changed());
  });
}

std::size_t count_tcp(const std::vector<SocketRecord>& records) {
  return static_cast<std::size_t>(std::count_if(
      records.begin(), records.end(), [](const SocketRecord& r) { return r.protocol == 6; }));
}

TEST(NamespaceDiagsDump, tcp_sockets_are_dumped_again_only_when_something_moved) {
  test_support::in_new_netns_or_skip([] {
    NamespaceDiags diags("/proc");
    NamespaceDiags::Member& own = diags.members().front();
    ASSERT_TRUE(own.tcp_activity.has_value());
    std::vector<SocketRecord> records;
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(count_tcp(records), 0u);
    EXPECT_EQ(diags.tcp_dumps_saved(), 0u);

    Fd listener(test_support::bound_socket(AF_INET, SOCK_STREAM));
    ASSERT_GE(listener.get(), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(count_tcp(records), 1u) << "the listener";
    EXPECT_EQ(diags.tcp_dumps_saved(), 0u);

    // Idle: the same sockets, from the last dump.
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(count_tcp(records), 1u);
    EXPECT_EQ(diags.tcp_dumps_saved(), 1u);

    // A connection waits in the accept queue (inode 0): dumped again until it is
    // accepted, since accept() moves no counter.
    Fd client(test_support::connect_to(AF_INET, test_support::local_port(listener.get())));
    ASSERT_GE(client.get(), 0);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(count_tcp(records), 3u);
    Fd accepted(::accept(listener.get(), nullptr, nullptr));
    ASSERT_GE(accepted.get(), 0);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(diags.tcp_dumps_saved(), 1u) << "dumped again after accept()";
    const std::uint32_t inode = test_support::inode_of(accepted.get());
    EXPECT_TRUE(std::any_of(records.begin(), records.end(), [&](const SocketRecord& r) {
      return r.inode == inode;
    })) << "the accepted socket with its inode";

    // Idle again: reused, but dumped at least every kMaxTcpReuse + 1 refreshes.
    for (unsigned i = 0; i < kMaxTcpReuse; ++i) {
      records.clear();
      ASSERT_TRUE(diags.dump(own, records));
      EXPECT_EQ(count_tcp(records), 3u);
    }
    EXPECT_EQ(diags.tcp_dumps_saved(), 1u + kMaxTcpReuse);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(diags.tcp_dumps_saved(), 1u + kMaxTcpReuse) << "the forced dump";
    EXPECT_EQ(count_tcp(records), 3u);

    // It found what the counters said: the next one comes kMaxTcpReuseQuiet refreshes on.
    for (unsigned i = 0; i < kMaxTcpReuseQuiet; ++i) {
      records.clear();
      ASSERT_TRUE(diags.dump(own, records));
    }
    const std::uint64_t saved = 1u + kMaxTcpReuse + kMaxTcpReuseQuiet;
    EXPECT_EQ(diags.tcp_dumps_saved(), saved);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(diags.tcp_dumps_saved(), saved) << "the quiet forced dump";

    // A new connection moves the counters: dumped at once (and until accepted), and the
    // forced dumps are back to every kMaxTcpReuse + 1 refreshes.
    Fd client2(test_support::connect_to(AF_INET, test_support::local_port(listener.get())));
    ASSERT_GE(client2.get(), 0);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(count_tcp(records), 5u);
    Fd accepted2(::accept(listener.get(), nullptr, nullptr));
    ASSERT_GE(accepted2.get(), 0);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(diags.tcp_dumps_saved(), saved);
    for (unsigned i = 0; i < kMaxTcpReuse; ++i) {
      records.clear();
      ASSERT_TRUE(diags.dump(own, records));
    }
    EXPECT_EQ(diags.tcp_dumps_saved(), saved + kMaxTcpReuse);
    records.clear();
    ASSERT_TRUE(diags.dump(own, records));
    EXPECT_EQ(diags.tcp_dumps_saved(), saved + kMaxTcpReuse) << "a forced dump again";
  });
}

}  // namespace
}  // namespace netscope::host
