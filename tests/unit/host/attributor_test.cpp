// Attributor against real kernel objects: each test runs in a network namespace of its
// own (a thread that unshare()s, see live_sockets.hpp), with sockets and child processes
// it creates there.

#include "host/attributor.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "host/netns.hpp"
#include "host/privileges.hpp"
#include "host/proc_scanner.hpp"
#include "live_sockets.hpp"

namespace netscope::host {
namespace {

using namespace test_support;
using namespace std::chrono_literals;

constexpr std::uint8_t kTcp = IPPROTO_TCP;
constexpr std::uint8_t kUdp = IPPROTO_UDP;
constexpr std::uint8_t kEstablished = 1;

// Refreshes so rare that only a targeted lookup can find what a test creates after start.
AttributorConfig targeted_only(bool other_namespaces = false) {
  AttributorConfig config;
  config.refresh = std::chrono::hours(1);
  config.other_namespaces = other_namespaces;
  return config;
}

FlowQuery swapped(const FlowQuery& q) {
  return FlowQuery{q.proto, q.b, q.a};
}

std::optional<Owner> owner_eventually(const Attributor& attr, const FlowQuery& q) {
  std::optional<Owner> owner;
  eventually([&] {
    owner = attr.lookup(q).owner;
    return owner.has_value();
  });
  return owner;
}

// A connected loopback TCP pair in this namespace.
struct TcpPair {
  Fd listener{bound_socket(AF_INET, SOCK_STREAM)};
  Fd client;
  Fd server;
  TcpPair() {
    if (listener.get() < 0 || ::listen(listener.get(), 16) != 0) return;
    client.reset(connect_to(AF_INET, local_port(listener.get())));
    server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  }
  bool ok() const { return client.get() >= 0 && server.get() >= 0; }
  FlowQuery flow() const {
    return FlowQuery{kTcp, local_endpoint(client.get()), local_endpoint(server.get())};
  }
};

// Child processes that the test must not leave behind, whatever happens.
struct Children {
  std::vector<pid_t> pids;
  ~Children() {
    for (const pid_t pid : pids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

TEST(Attributor, tcp_connection_is_attributed_exactly_in_both_orientations) {
  in_new_netns_or_skip([] {
    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    TcpPair pair;  // created after the refresh: only request() can find it
    ASSERT_TRUE(pair.ok()) << std::strerror(errno);
    const FlowQuery q = pair.flow();
    EXPECT_EQ(attr.lookup(q).miss, Miss::pending);
    ASSERT_TRUE(attr.request(q));
    const auto owner = owner_eventually(attr, q);
    ASSERT_TRUE(owner);
    const auto self = read_process_info(::getpid());
    ASSERT_TRUE(self);
    for (const FlowQuery& asked : {q, swapped(q)}) {
      const Lookup found = attr.lookup(asked);
      ASSERT_TRUE(found.owner);
      const Owner& o = *found.owner;
      EXPECT_EQ(o.pid, ::getpid());
      EXPECT_EQ(o.start_time_ticks, self->start_time_ticks);
      EXPECT_EQ(o.quality, Quality::exact);
      EXPECT_EQ(o.kernel_state, kEstablished);
      EXPECT_TRUE(o.tcp_info);
      EXPECT_EQ(o.uid, ::getuid());
      EXPECT_EQ(o.netns, own_netns_inode());
      EXPECT_EQ(o.local, q.a);  // the targeted lookup found the client's socket
      EXPECT_EQ(o.inode, inode_of(pair.client.get()));
    }
    // After a full refresh each orientation has its own socket.
    ASSERT_TRUE(attr.refresh_now(10s));
    const auto server_side = attr.lookup(swapped(q)).owner;
    ASSERT_TRUE(server_side);
    EXPECT_EQ(server_side->local, q.b);
    EXPECT_EQ(server_side->inode, inode_of(pair.server.get()));

    const auto info = attr.process(server_side->pid);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->comm, self->comm);
    EXPECT_EQ(info->start_time_ticks, self->start_time_ticks);
    EXPECT_TRUE(attr.process(::getpid(), self->start_time_ticks));
    EXPECT_FALSE(attr.process(::getpid(), self->start_time_ticks + 1));
    EXPECT_TRUE(attr.alive(::getpid(), self->start_time_ticks));
    EXPECT_FALSE(attr.alive(::getpid(), self->start_time_ticks + 1));
    const AttributorStats stats = attr.stats();
    EXPECT_GE(stats.targeted_lookups, 1u);
    EXPECT_GE(stats.targeted_hits, 1u);
    EXPECT_EQ(stats.requests, 1u);
    EXPECT_GE(stats.full_dumps, 2u);
  });
}

// AttributorConfig::local_here orders the namespaces a targeted lookup asks; at the
// request rates of interactive use the others are still asked. A lie that no address is
// local puts the own namespace last, where the client's socket is still found; the
// truth finds it with the first query.
TEST(Attributor, local_here_orders_the_namespaces_a_targeted_lookup_asks) {
  in_new_netns_or_skip([] {
    for (const bool truth : {false, true}) {
      SCOPED_TRACE(truth ? "loopback is local" : "nothing is local");
      AttributorConfig config = targeted_only();
      config.local_here = [truth](const core::IpAddress& a) -> std::optional<bool> {
        return truth && a == core::IpAddress::from_v4(0x7f000001u);
      };
      Attributor attr(std::move(config));
      attr.start();
      ASSERT_TRUE(attr.wait_until_ready(10s));
      TcpPair pair;
      ASSERT_TRUE(pair.ok()) << std::strerror(errno);
      const FlowQuery q = pair.flow();
      ASSERT_TRUE(attr.request(q));
      const auto owner = owner_eventually(attr, q);
      ASSERT_TRUE(owner);
      EXPECT_EQ(owner->quality, Quality::exact);
      EXPECT_EQ(owner->local, q.a);
      EXPECT_EQ(owner->pid, ::getpid());
      const AttributorStats stats = attr.stats();
      EXPECT_EQ(stats.targeted_queries, 1u);  // side a, the own namespace: found at once
      EXPECT_EQ(stats.targeted_queries_skipped, 0u);
    }
  });
}

// Reads one value the child writes into a pipe; false on EOF (the child died early).
template <typename T>
bool read_from(int fd, T& value) {
  return ::read(fd, &value, sizeof(value)) == static_cast<ssize_t>(sizeof(value));
}

// A "container": a child in a network namespace of its own with a connection inside it,
// kept until the object goes (the child is then released, killed if need be, and reaped).
class ContainerChild {
 public:
  ContainerChild() {
    int ready[2];
    int release[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return;
    if (::pipe2(release, O_CLOEXEC) != 0) {
      ::close(ready[0]);
      ::close(ready[1]);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      if (::unshare(CLONE_NEWNET) != 0 || !bring_loopback_up()) ::_exit(1);
      TcpPair pair;
      if (!pair.ok()) ::_exit(2);
      const FlowQuery q = pair.flow();
      if (::write(ready[1], &q, sizeof(q)) != sizeof(q)) ::_exit(3);
      char byte;
      [[maybe_unused]] const auto n = ::read(release[0], &byte, 1);
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_.reset(release[1]);
    Fd from_child(ready[0]);
    if (pid_ > 0) {
      children_.pids.push_back(pid_);
      ok_ = read_from(from_child.get(), flow_);
    }
  }
  bool ok() const { return ok_; }  // false: the child could not set up its namespace
  pid_t pid() const { return pid_; }
  const FlowQuery& flow() const { return flow_; }
  std::uint64_t netns() const { return netns_inode("/proc/" + std::to_string(pid_) + "/ns/net"); }

 private:
  Children children_;  // declared before release_: released first, then reaped
  Fd release_;
  pid_t pid_ = -1;
  FlowQuery flow_;
  bool ok_ = false;
};

TEST(Attributor, short_lived_connections_from_child_processes_are_attributed) {
  in_new_netns_or_skip([] {
    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    Fd listener(bound_socket(AF_INET, SOCK_STREAM));
    ASSERT_EQ(::listen(listener.get(), 16), 0);
    const core::Endpoint server = local_endpoint(listener.get());

    constexpr int kConnections = 20;
    int attributed = 0;
    Children children;
    for (int i = 0; i < kConnections; ++i) {
      const pid_t child = ::fork();
      ASSERT_GE(child, 0);
      if (child == 0) {
        // Connect, send a little, live about 20 ms, close: a curl-sized connection.
        const int fd = connect_to(AF_INET, server.port);
        if (fd < 0 || ::send(fd, "hello", 5, 0) != 5) ::_exit(1);
        ::usleep(20'000);
        ::close(fd);
        ::_exit(0);
      }
      children.pids.push_back(child);
      sockaddr_storage peer{};
      socklen_t len = sizeof(peer);
      Fd accepted(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len, 0));
      ASSERT_GE(accepted.get(), 0);
      // The packet path's view: a new flow, the child's end first.
      const FlowQuery q{kTcp, endpoint_of(peer), server};
      ASSERT_TRUE(attr.request(q));
      // The child is alive or a zombie until waitpid(): its stat is still readable.
      const auto start = read_start_time(child);
      char buf[8];
      [[maybe_unused]] const auto got = ::recv(accepted.get(), buf, sizeof(buf), 0);
      const auto owner = owner_eventually(attr, q);
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      children.pids.pop_back();
      ASSERT_TRUE(start);
      if (owner && owner->pid == child && owner->start_time_ticks == *start &&
          owner->quality == Quality::exact) {
        ++attributed;
      } else {
        ADD_FAILURE() << "connection " << i << " from child " << child << ": "
                      << (owner ? "owner pid " + std::to_string(owner->pid)
                                : "no owner: " + std::string(miss_name(attr.lookup(q).miss)));
      }
    }
    const AttributorStats stats = attr.stats();
    std::printf(
        "[ figures  ] short-lived: %d/%d attributed, %llu targeted lookups, mean %.0f us "
        "per lookup (sock_diag + /proc; %.0f us of it on a CPU), %llu fd tables read\n",
        attributed, kConnections, static_cast<unsigned long long>(stats.targeted_lookups),
        stats.mean_lookup_us, stats.mean_lookup_cpu_us,
        static_cast<unsigned long long>(stats.proc_scans));
    EXPECT_EQ(attributed, kConnections);
  });
}

// An idle namespace: the dump stands still, so refreshes leave the table as it is
// (unchanged_refreshes), yet a socket that changes hands without a packet (fork, then the
// parent closes its copy) is found with its new holder by the fd tables re-read on the way.
TEST(Attributor, a_socket_handed_to_a_child_is_found_while_the_dump_stands_still) {
  in_new_netns_or_skip([] {
    AttributorConfig config;
    config.refresh = 50ms;
    config.other_namespaces = false;
    Attributor attr(config);
    TcpPair pair;
    ASSERT_TRUE(pair.ok());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    const FlowQuery q = pair.flow();  // the client's socket first
    const auto first = owner_eventually(attr, q);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->pid, ::getpid());
    ASSERT_TRUE(eventually([&] { return attr.stats().unchanged_refreshes >= 3; }, 10s))
        << "an idle namespace's refreshes find nothing changed";
    EXPECT_GT(attr.stats().tcp_dumps_saved, 0u);

    int ready[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    Fd ready_read(ready[0]);
    Fd ready_write(ready[1]);
    Children children;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Holds the inherited sockets until killed.
      ::close(ready[0]);
      [[maybe_unused]] const auto n = ::write(ready[1], "x", 1);
      ::pause();
      ::_exit(0);
    }
    children.pids.push_back(child);
    char byte = 0;
    ASSERT_EQ(::read(ready_read.get(), &byte, 1), 1);
    pair.client.reset();  // the child's copy is the only one now: no packet, no counter
    const bool handed = eventually(
        [&] {
          const auto owner = attr.lookup(q).owner;
          return owner && owner->pid == child;
        },
        20s);
    EXPECT_TRUE(handed) << "the child holds the client's socket now";
  });
}

// The curl case: a process connects, is identified, and exits right away; the tick asks
// for its details only after it is gone and a refresh has run. They must have been read
// while its fd table showed the socket, not after the owner became visible.
TEST(Attributor, details_of_short_lived_owners_outlive_them) {
  in_new_netns_or_skip([] {
    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    Fd listener(bound_socket(AF_INET, SOCK_STREAM));
    ASSERT_EQ(::listen(listener.get(), 128), 0);
    const core::Endpoint server = local_endpoint(listener.get());
    int reports[2];
    int release[2];
    ASSERT_EQ(::pipe2(reports, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
    Fd from_children(reports[0]);
    Fd release_children(release[1]);

    constexpr int kChildren = 32;
    Children children;
    for (int i = 0; i < kChildren; ++i) {
      const pid_t child = ::fork();
      ASSERT_GE(child, 0);
      if (child == 0) {
        // Connect, report the port, and exit as soon as the parent lets go (EOF).
        ::close(release[1]);
        const int fd = connect_to(AF_INET, server.port);
        const std::uint16_t port = fd < 0 ? 0 : local_port(fd);
        if (::write(reports[1], &port, sizeof(port)) != sizeof(port)) ::_exit(1);
        char byte;
        [[maybe_unused]] const auto n = ::read(release[0], &byte, 1);
        ::_exit(0);
      }
      children.pids.push_back(child);
    }
    ::close(reports[1]);
    ::close(release[0]);
    std::vector<FlowQuery> flows;
    for (int i = 0; i < kChildren; ++i) {
      std::uint16_t port = 0;
      ASSERT_TRUE(read_from(from_children.get(), port));
      ASSERT_NE(port, 0) << "a child could not connect";
      flows.push_back(FlowQuery{kTcp, {server.addr, port}, server});
    }
    for (const FlowQuery& q : flows) ASSERT_TRUE(attr.request(q));
    ASSERT_TRUE(eventually(
        [&] {
          return std::all_of(flows.begin(), flows.end(),
                             [&](const FlowQuery& q) { return attr.lookup(q).owner.has_value(); });
        },
        10s));
    // Every owner is known: the children exit now, and are reaped.
    release_children.reset();
    for (const pid_t child : children.pids) ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    const std::vector<pid_t> pids = std::move(children.pids);
    children.pids.clear();
    ASSERT_TRUE(attr.refresh_now(10s));

    const auto self = read_process_info(::getpid());
    ASSERT_TRUE(self);
    int named = 0;
    for (const FlowQuery& q : flows) {
      const auto owner = attr.lookup(q).owner;
      ASSERT_TRUE(owner);
      EXPECT_EQ(owner->quality, Quality::exact);
      EXPECT_NE(std::find(pids.begin(), pids.end(), owner->pid), pids.end());
      EXPECT_FALSE(attr.alive(owner->pid, owner->start_time_ticks));
      const auto info = attr.process(owner->pid, owner->start_time_ticks);
      if (!info) {
        ADD_FAILURE() << "no details for exited owner " << owner->pid;
        continue;
      }
      EXPECT_EQ(info->comm, self->comm);
      EXPECT_EQ(info->cmdline, self->cmdline);  // read before it exited: a zombie has none
      EXPECT_EQ(info->ppid, ::getpid());
      ++named;
    }
    EXPECT_EQ(named, kChildren);
  });
}

TEST(Attributor, unconnected_udp_socket_is_attributed_by_local_port) {
  in_new_netns_or_skip([] {
    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    Fd on_loopback(bound_socket(AF_INET, SOCK_DGRAM));
    Fd on_any(bound_socket(AF_INET, SOCK_DGRAM, 0, /*any=*/true));
    Fd on_any6(bound_socket(AF_INET6, SOCK_DGRAM, 0, /*any=*/true));  // dual-stack [::]
    ASSERT_TRUE(on_loopback.get() >= 0 && on_any.get() >= 0 && on_any6.get() >= 0);
    const auto loopback = core::IpAddress::from_v4(0x7f000001u);
    const core::Endpoint dns_server{core::IpAddress::from_v4(0x0a090909u), 53};
    struct Case {
      int fd;
      core::Endpoint local;
    };
    for (const Case& c : {Case{on_loopback.get(), local_endpoint(on_loopback.get())},
                          Case{on_any.get(), {loopback, local_port(on_any.get())}},
                          Case{on_any6.get(), {loopback, local_port(on_any6.get())}}}) {
      const FlowQuery q{kUdp, dns_server, c.local};  // the local end second: both are tried
      ASSERT_TRUE(attr.request(q));
      const auto owner = owner_eventually(attr, q);
      ASSERT_TRUE(owner) << c.local.to_string();
      EXPECT_EQ(owner->pid, ::getpid());
      EXPECT_EQ(owner->quality, Quality::local_port);
      EXPECT_EQ(owner->local, c.local);
      EXPECT_EQ(owner->inode, inode_of(c.fd));
      EXPECT_FALSE(owner->tcp_info);
    }
    // A connected UDP socket is an exact match.
    Fd connected(connect_to(AF_INET, SOCK_DGRAM, local_port(on_loopback.get())));
    const FlowQuery q{kUdp, local_endpoint(connected.get()), local_endpoint(on_loopback.get())};
    // Until the targeted lookup answers, the bound socket at the other end is the guess.
    ASSERT_TRUE(attr.request(q));
    ASSERT_TRUE(eventually([&] {
      const auto o = attr.lookup(q).owner;
      return o && o->quality == Quality::exact;
    }));
    EXPECT_EQ(attr.lookup(q).owner->inode, inode_of(connected.get()));
  });
}

TEST(Attributor, accepted_connection_whose_socket_closed_falls_back_to_the_listener) {
  in_new_netns_or_skip([] {
    TcpPair pair;
    ASSERT_TRUE(pair.ok());
    const FlowQuery q = pair.flow();  // client end, server end
    pair.server.reset();              // the server closes first: its side ends in TIME_WAIT
    pair.client.reset();
    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    // Never seen while it was open, so no remembered owner: the listener on the server's
    // port is the best guess, and it is marked as one.
    const Lookup found = attr.lookup(q);
    ASSERT_TRUE(found.owner);
    EXPECT_EQ(found.owner->pid, ::getpid());
    EXPECT_EQ(found.owner->quality, Quality::listener);
    EXPECT_EQ(found.owner->local, q.b);
    EXPECT_EQ(found.owner->inode, inode_of(pair.listener.get()));
    EXPECT_EQ(found.owner->kernel_state, 10);  // LISTEN

    // A listener that closes is remembered like any other owner.
    pair.listener.reset();
    ASSERT_TRUE(attr.refresh_now(10s));
    ASSERT_TRUE(attr.lookup(q).owner);
    EXPECT_EQ(attr.lookup(q).owner->quality, Quality::listener);
    // A connection whose listener was never seen: its TIME_WAIT socket only tells that the
    // flow closed.
    TcpPair second;
    ASSERT_TRUE(second.ok());
    const FlowQuery q2 = second.flow();
    second.server.reset();
    second.client.reset();
    second.listener.reset();
    ASSERT_TRUE(attr.request(q2));
    ASSERT_TRUE(eventually([&] { return attr.lookup(q2).miss != Miss::pending; }));
    EXPECT_FALSE(attr.lookup(q2).owner);
    EXPECT_EQ(attr.lookup(q2).miss, Miss::closed);
    // And a flow the kernel never had a socket for (forwarded traffic) says so.
    const FlowQuery forwarded{kTcp,
                              {core::IpAddress::from_v4(0x0a000001u), 40000},
                              {core::IpAddress::from_v4(0x0a000002u), 80}};
    ASSERT_TRUE(attr.request(forwarded));
    ASSERT_TRUE(eventually([&] { return attr.lookup(forwarded).miss != Miss::pending; }));
    EXPECT_EQ(attr.lookup(forwarded).miss, Miss::no_socket);
  });
}

TEST(Attributor, owner_is_remembered_after_the_connection_closes) {
  in_new_netns_or_skip([] {
    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    auto pair = std::make_unique<TcpPair>();
    ASSERT_TRUE(pair->ok());
    const FlowQuery q = pair->flow();
    ASSERT_TRUE(attr.request(q));
    ASSERT_TRUE(owner_eventually(attr, q));
    pair.reset();  // every socket closed
    ASSERT_TRUE(attr.refresh_now(10s));
    const Lookup found = attr.lookup(q);
    ASSERT_TRUE(found.owner);
    EXPECT_EQ(found.owner->pid, ::getpid());
    EXPECT_EQ(found.owner->quality, Quality::exact);
    // The client closed first and waits in TIME_WAIT; else the socket is gone (CLOSE).
    EXPECT_TRUE(found.owner->kernel_state == 6 || found.owner->kernel_state == 7)
        << tcp_state_name(found.owner->kernel_state);
  });
}

TEST(Attributor, socket_in_another_network_namespace_is_found_with_its_namespace) {
  in_new_netns_or_skip([] {
    ContainerChild container;
    ASSERT_TRUE(container.ok()) << "the child could not set up its namespace";
    const pid_t child = container.pid();
    const FlowQuery q = container.flow();
    const std::uint64_t child_ns = container.netns();
    ASSERT_NE(child_ns, 0u);
    ASSERT_NE(child_ns, own_netns_inode());

    Attributor attr(targeted_only(/*other_namespaces=*/true));
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    // The refresh dumped the child's namespace too ...
    EXPECT_GE(attr.stats().namespaces, 2u);
    auto owner = attr.lookup(q).owner;
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->pid, child);
    EXPECT_EQ(owner->netns, child_ns);
    EXPECT_EQ(owner->quality, Quality::exact);

    // ... and a targeted lookup reaches a connection opened there after it.
    Attributor targeted(targeted_only(/*other_namespaces=*/true));
    targeted.start();
    ASSERT_TRUE(targeted.wait_until_ready(10s));
    ASSERT_TRUE(targeted.request(swapped(q)));
    owner = owner_eventually(targeted, swapped(q));
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->pid, child);
    EXPECT_EQ(owner->netns, child_ns);

    // Without other namespaces, it stays unknown.
    Attributor own_only(targeted_only(/*other_namespaces=*/false));
    own_only.start();
    ASSERT_TRUE(own_only.wait_until_ready(10s));
    EXPECT_EQ(own_only.stats().namespaces, 1u);
    EXPECT_FALSE(own_only.lookup(q).owner);
  });
}

// A container started after the last refresh: its first connections are looked up before
// any refresh has dumped its namespace, so the lookup has to find the namespace itself.
TEST(Attributor, a_namespace_entered_after_the_last_refresh_is_reached_by_a_lookup) {
  in_new_netns_or_skip([] {
    Attributor attr(targeted_only(/*other_namespaces=*/true));
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    const AttributorStats before = attr.stats();
    ContainerChild container;
    ASSERT_TRUE(container.ok()) << "the child could not set up its namespace";
    const pid_t child = container.pid();
    const FlowQuery q = container.flow();
    const std::uint64_t child_ns = container.netns();
    ASSERT_TRUE(attr.request(q));
    const auto owner = owner_eventually(attr, q);
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->pid, child);
    EXPECT_EQ(owner->netns, child_ns);
    EXPECT_EQ(owner->quality, Quality::exact);
    EXPECT_EQ(owner->local, q.a);
    EXPECT_EQ(attr.stats().full_dumps, before.full_dumps);  // no refresh helped
  });
}

TEST(Attributor, refresh_cost_with_many_processes_and_every_socket_attributed) {
  in_new_netns_or_skip([] {
    constexpr int kProcesses = 200;
    int ports[2];
    ASSERT_EQ(::pipe2(ports, O_CLOEXEC), 0);
    Fd from_children(ports[0]);
    Children children;  // killed and reaped when the test ends, however it ends
    for (int i = 0; i < kProcesses; ++i) {
      const pid_t child = ::fork();
      ASSERT_GE(child, 0);
      if (child == 0) {
        // Two UDP sockets each, reported back, held until the child is killed.
        const int a = bound_socket(AF_INET, SOCK_DGRAM);
        const int b = bound_socket(AF_INET, SOCK_DGRAM);
        const std::uint16_t mine[2] = {local_port(a), local_port(b)};
        const pid_t self = ::getpid();
        char report[sizeof(self) + sizeof(mine)];
        std::memcpy(report, &self, sizeof(self));
        std::memcpy(report + sizeof(self), mine, sizeof(mine));
        if (a < 0 || b < 0 || ::write(ports[1], report, sizeof(report)) != sizeof(report)) {
          ::_exit(1);
        }
        ::close(ports[1]);
        for (;;) ::pause();
      }
      children.pids.push_back(child);
    }
    ::close(ports[1]);  // a child that dies early then ends the reads below with EOF
    struct Held {
      pid_t pid;
      std::uint16_t port[2];
    };
    std::vector<Held> held(kProcesses);
    for (Held& h : held) {
      char report[sizeof(pid_t) + 2 * sizeof(std::uint16_t)];
      ASSERT_EQ(::read(from_children.get(), report, sizeof(report)),
                static_cast<ssize_t>(sizeof(report)));
      std::memcpy(&h.pid, report, sizeof(h.pid));
      std::memcpy(h.port, report + sizeof(h.pid), sizeof(h.port));
    }

    Attributor attr(targeted_only());
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(30s));
    const AttributorStats cold = attr.stats();
    double warm_ms = 0;
    constexpr int kWarm = 5;
    for (int i = 0; i < kWarm; ++i) {
      ASSERT_TRUE(attr.refresh_now(30s));
      warm_ms += attr.stats().last_refresh_ms;
    }
    const AttributorStats warm = attr.stats();
    ProcScanner full;
    ASSERT_TRUE(full.scan());
    std::printf(
        "[ figures  ] refresh with %llu processes (%d of them holding 2 UDP sockets "
        "each): first %.1f ms (%llu fd tables read), then %.2f ms per refresh (%.0f fd "
        "tables); a full /proc fd scan takes %.1f ms (%llu tables, %llu fds)\n",
        static_cast<unsigned long long>(warm.processes), kProcesses, cold.last_refresh_ms,
        static_cast<unsigned long long>(cold.proc_scans), warm_ms / kWarm,
        static_cast<double>(warm.proc_scans - cold.proc_scans) / kWarm,
        std::chrono::duration<double, std::milli>(full.stats().duration).count(),
        static_cast<unsigned long long>(full.stats().fd_tables),
        static_cast<unsigned long long>(full.stats().fds));

    const core::Endpoint dns_server{core::IpAddress::from_v4(0x0a090909u), 53};
    int attributed = 0;
    for (const Held& h : held) {
      for (const std::uint16_t port : h.port) {
        const auto o =
            attr.lookup({kUdp, {core::IpAddress::from_v4(0x7f000001u), port}, dns_server}).owner;
        if (o && o->pid == h.pid && o->quality == Quality::local_port) ++attributed;
      }
    }
    EXPECT_EQ(attributed, 2 * kProcesses);
  });
}

// Runs `check` in a forked child (single-threaded, so credential changes stay there) and
// returns its exit status: 0 when every check passed, else a bit per failed check.
int in_child(const std::function<int()>& check) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) ::_exit(check());
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(Attributor, without_cap_sys_admin_other_namespaces_are_counted_and_skipped) {
  in_new_netns_or_skip([] {
    // The host's namespace is "another" one from here; entering it needs CAP_SYS_ADMIN.
    const int status = in_child([] {
      std::string error;
      if (!drop_capabilities_except({CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH}, &error)) return 1;
      Attributor attr(targeted_only(/*other_namespaces=*/true));
      attr.start();
      if (!attr.wait_until_ready(10s)) return 2;
      // A namespace is entered through one of its processes; when that one exits first
      // (a busy machine: other tests' short-lived processes), it is tried again at the
      // next refresh through another.
      for (int i = 0; i < 5 && attr.stats().namespace_errors == 0; ++i) {
        if (!attr.refresh_now(10s)) return 2;
      }
      const AttributorStats stats = attr.stats();
      if (stats.namespace_errors == 0) return 4;
      if (stats.namespaces != 1) return 8;
      // It keeps working in its own namespace.
      TcpPair pair;
      if (!pair.ok() || !attr.request(pair.flow())) return 16;
      const auto owner = owner_eventually(attr, pair.flow());
      return owner && owner->pid == ::getpid() ? 0 : 32;
    });
    EXPECT_EQ(status, 0);
  });
}

TEST(Attributor, another_users_socket_is_no_permission_for_an_unprivileged_reader) {
  in_new_netns_or_skip([] {
    TcpPair pair;  // owned by root, this process
    ASSERT_TRUE(pair.ok());
    const FlowQuery q = pair.flow();
    const int fds[] = {pair.client.get(), pair.server.get(), pair.listener.get()};
    const int status = in_child([&] {
      for (const int fd : fds) ::close(fd);  // fork() copied them: they are not ours
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 1;  // nobody, no capabilities
      Attributor attr(targeted_only());
      attr.start();
      if (!attr.wait_until_ready(10s)) return 2;
      if (!attr.request(q)) return 4;
      if (!eventually([&] { return attr.lookup(q).miss != Miss::pending; })) return 8;
      const Lookup found = attr.lookup(q);
      if (found.owner) return 16;
      if (found.miss != Miss::no_permission) return 32;
      return attr.stats().permission_denied > 0 ? 0 : 64;
    });
    EXPECT_EQ(status, 0);
  });
}

TEST(Attributor, full_queue_refuses_and_counts_requests_without_blocking) {
  Attributor attr([] {
    AttributorConfig config;
    config.queue_capacity = 2;
    return config;
  }());  // not started: nothing drains the queue
  const FlowQuery q{
      kTcp, {core::IpAddress::from_v4(0x0a000001u), 1}, {core::IpAddress::from_v4(0x0a000002u), 2}};
  EXPECT_TRUE(attr.request(q));
  EXPECT_TRUE(attr.request(q));
  EXPECT_FALSE(attr.request(q));
  EXPECT_TRUE(attr.request(FlowQuery{1 /* ICMP: no sockets */, q.a, q.b}));
  const AttributorStats stats = attr.stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.queue_overflow, 1u);
  EXPECT_EQ(attr.lookup(FlowQuery{1, q.a, q.b}).miss, Miss::no_socket);
}

// A flood of new flows (over 2,000 a second) makes the lookup thread wait a moment for
// more requests before each turn, and its lookups ask only the likely namespaces; a
// trickle never does. Flows without sockets: the lookups find nothing, which is what a
// scan or forwarded traffic asks for.
TEST(Attributor, a_flood_of_requests_is_served_in_coalesced_turns) {
  in_new_netns_or_skip([] {
    AttributorConfig config = targeted_only();
    // No address is local: under the flood the own namespace is not asked at all.
    config.local_here = [](const core::IpAddress&) -> std::optional<bool> { return false; };
    Attributor attr(std::move(config));
    attr.start();
    ASSERT_TRUE(attr.wait_until_ready(10s));
    std::uint16_t port = 1;
    const auto ask = [&] {
      const FlowQuery q{kUdp,
                        {core::IpAddress::from_v4(0x0a000001u), port},
                        {core::IpAddress::from_v4(0x0a000002u), 53}};
      ++port;
      return attr.request(q);
    };
    // A trickle: one request every 5 ms for 300 ms.
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(ask());
      std::this_thread::sleep_for(5ms);
    }
    // Both ends asked in the own namespace (the only one), after the others (none).
    EXPECT_TRUE(eventually([&] {
      const AttributorStats st = attr.stats();
      return st.targeted_lookups == 60u && st.targeted_queries == 120u;
    }));
    EXPECT_EQ(attr.stats().coalesced_turns, 0u);
    EXPECT_EQ(attr.stats().targeted_queries_skipped, 0u);
    // A flood: 40 requests every 4 ms (10,000 a second) until a turn has waited for
    // company, for at most 2 s.
    // (A loaded machine may fill the queue: a refused request is not looked up.)
    std::uint64_t asked = 60;
    for (int i = 0; i < 500 && attr.stats().coalesced_turns == 0; ++i) {
      for (int j = 0; j < 40; ++j) asked += ask() ? 1 : 0;
      std::this_thread::sleep_for(4ms);
    }
    EXPECT_GE(attr.stats().coalesced_turns, 1u);
    EXPECT_TRUE(eventually([&] { return attr.stats().targeted_lookups == asked; }, 10s));
    EXPECT_GT(attr.stats().targeted_queries_skipped, 0u);  // the flood's lookups: strict
  });
}

}  // namespace
}  // namespace netscope::host
