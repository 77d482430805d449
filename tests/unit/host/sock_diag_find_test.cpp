// SockDiag::find: the targeted lookup by 5-tuple, against sockets this test opens in a
// network namespace of its own.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>

#include "host/sock_diag.hpp"
#include "live_sockets.hpp"

namespace netscope::host {
namespace {

using namespace test_support;

constexpr std::uint8_t kTcp = IPPROTO_TCP;
constexpr std::uint8_t kUdp = IPPROTO_UDP;

TEST(SockDiagFind, tcp_connection_by_five_tuple_in_either_direction) {
  in_new_netns_or_skip([] {
    for (const int family : {AF_INET, AF_INET6}) {
      Fd listener(bound_socket(family, SOCK_STREAM));
      ASSERT_GE(listener.get(), 0);
      ASSERT_EQ(::listen(listener.get(), 4), 0);
      Fd client(connect_to(family, local_port(listener.get())));
      ASSERT_GE(client.get(), 0);
      Fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      ASSERT_GE(server.get(), 0);
      const core::Endpoint c = local_endpoint(client.get());
      const core::Endpoint s = local_endpoint(server.get());

      SockDiag diag;
      SocketRecord record;
      ASSERT_EQ(diag.find(kTcp, c, s, record), FindResult::found) << diag.last_error();
      EXPECT_EQ(record.inode, inode_of(client.get()));
      EXPECT_EQ(record.local, c);
      EXPECT_EQ(record.remote, s);
      EXPECT_EQ(record.state_name(), "ESTABLISHED");
      EXPECT_TRUE(record.tcp_info);
      ASSERT_EQ(diag.find(kTcp, s, c, record), FindResult::found) << diag.last_error();
      EXPECT_EQ(record.inode, inode_of(server.get()));
      EXPECT_EQ(record.local, s);
    }
  });
}

TEST(SockDiagFind, tcp_lookup_falls_back_to_the_listener_and_reports_absence) {
  in_new_netns_or_skip([] {
    Fd listener(bound_socket(AF_INET, SOCK_STREAM));
    ASSERT_GE(listener.get(), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    const core::Endpoint l = local_endpoint(listener.get());
    const core::Endpoint stranger{core::IpAddress::from_v4(0x0a090909u), 40000};
    SockDiag diag;
    SocketRecord record;
    // No established socket: the kernel's inet_lookup() answers with the listener.
    ASSERT_EQ(diag.find(kTcp, l, stranger, record), FindResult::found) << diag.last_error();
    EXPECT_EQ(record.state_name(), "LISTEN");
    EXPECT_EQ(record.inode, inode_of(listener.get()));
    // Nothing on the port at all: ENOENT, not an error.
    const core::Endpoint closed_port{l.addr, static_cast<std::uint16_t>(l.port + 1)};
    EXPECT_EQ(diag.find(kTcp, closed_port, stranger, record), FindResult::absent);
    EXPECT_EQ(diag.find(kTcp, stranger, closed_port, record), FindResult::absent);
  });
}

TEST(SockDiagFind, udp_connected_and_bound_sockets_are_found_with_local_first) {
  in_new_netns_or_skip([] {
    Fd bound(bound_socket(AF_INET, SOCK_DGRAM));
    ASSERT_GE(bound.get(), 0);
    const core::Endpoint b = local_endpoint(bound.get());
    Fd connected(connect_to(AF_INET, SOCK_DGRAM, b.port));
    ASSERT_GE(connected.get(), 0);
    const core::Endpoint c = local_endpoint(connected.get());

    SockDiag diag;
    SocketRecord record;
    // udp_diag swaps src and dst; find() hides that: `local` is the socket's own end.
    ASSERT_EQ(diag.find(kUdp, c, b, record), FindResult::found) << diag.last_error();
    EXPECT_EQ(record.inode, inode_of(connected.get()));
    EXPECT_EQ(record.local, c);
    EXPECT_EQ(record.remote, b);
    EXPECT_FALSE(record.tcp_info);
    // The unconnected socket answers for any peer.
    const core::Endpoint peer{core::IpAddress::from_v4(0x0a090909u), 53};
    ASSERT_EQ(diag.find(kUdp, b, peer, record), FindResult::found) << diag.last_error();
    EXPECT_EQ(record.inode, inode_of(bound.get()));
    EXPECT_EQ(record.local, b);
    EXPECT_EQ(record.remote.port, 0);
    const core::Endpoint nobody{b.addr, static_cast<std::uint16_t>(b.port ^ 0x4000)};
    EXPECT_EQ(diag.find(kUdp, nobody, peer, record), FindResult::absent);
  });
}

TEST(SockDiagFind, reports_the_cost_of_a_targeted_lookup_and_of_a_dump) {
  in_new_netns_or_skip([] {
    Fd listener(bound_socket(AF_INET, SOCK_STREAM));
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    Fd client(connect_to(AF_INET, local_port(listener.get())));
    const core::Endpoint c = local_endpoint(client.get());
    const core::Endpoint l = local_endpoint(listener.get());
    SockDiag diag;
    SocketRecord record;
    constexpr int kRounds = 200;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) ASSERT_EQ(diag.find(kTcp, c, l, record), FindResult::found);
    const auto t1 = std::chrono::steady_clock::now();
    std::vector<SocketRecord> all;
    for (int i = 0; i < kRounds; ++i) {
      all.clear();
      ASSERT_TRUE(diag.dump(all));
    }
    const auto t2 = std::chrono::steady_clock::now();
    const auto us = [](auto d) {
      return std::chrono::duration<double, std::micro>(d).count() / kRounds;
    };
    std::printf(
        "[ figures  ] sock_diag targeted find %.1f us, full dump (4 requests, %zu sockets) "
        "%.1f us\n",
        us(t1 - t0), all.size(), us(t2 - t1));
  });
}

}  // namespace
}  // namespace netscope::host
