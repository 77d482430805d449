#pragma once
// Helpers for the live-capture tests, which send real packets inside a private network
// namespace so that they never touch the host's interfaces.
//
// in_fresh_netns() runs the test body on its own thread after unshare(CLONE_NEWNET):
// the namespace belongs to that thread only, so tests cannot leak it into one another,
// and every link created inside disappears with the namespace when the thread ends, even
// when an assertion fails half-way. Commands run with sh() are forked from that thread
// and so inherit its namespace. (/sys/class/net still shows the mounter's namespace,
// which is why the code under test reads links over netlink.)

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace netscope::capture::test {

// Runs `body` in a new network namespace on a dedicated thread. Returns "" when it ran,
// else why no namespace could be made (the caller skips the test).
inline std::string in_fresh_netns(const std::function<void()>& body) {
  if (::geteuid() != 0) return "needs root to create a network namespace";
  std::string why;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    body();
  });
  t.join();
  return why;
}

// Variadic: the lambda passed in usually contains commas.
#define NETSCOPE_IN_NETNS(...)                                                       \
  do {                                                                               \
    const std::string why_ = ::netscope::capture::test::in_fresh_netns(__VA_ARGS__); \
    if (!why_.empty()) GTEST_SKIP() << why_;                                         \
  } while (0)

// Runs a shell command in the calling thread's namespace; a failure fails the test.
inline bool sh(const std::string& command) {
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << command;
  return rc == 0;
}

// A veth pair with fixed MAC addresses. `a` gets `addr_a`/24 when given; a permanent
// neighbour entry sends `peer_ip` to b's MAC, so datagrams to it leave through a and
// arrive on b without b having any address (nothing answers, nothing is routed back).
inline bool make_veth(const std::string& a, const std::string& b, int n, const std::string& addr_a,
                      const std::string& peer_ip) {
  const std::string mac_a = "02:00:00:00:0" + std::to_string(n) + ":01";
  const std::string mac_b = "02:00:00:00:0" + std::to_string(n) + ":02";
  bool ok = sh("ip link add " + a + " address " + mac_a + " type veth peer name " + b +
               " address " + mac_b);
  // No IPv6 on the test links: no router solicitations or MLD reports in the counts.
  ok = ok && sh("ip link set dev " + a + " addrgenmode none && ip link set dev " + b +
                " addrgenmode none");
  if (!addr_a.empty()) ok = ok && sh("ip addr add " + addr_a + "/24 dev " + a);
  ok = ok && sh("ip link set dev " + a + " up && ip link set dev " + b + " up");
  if (!peer_ip.empty()) {
    ok = ok &&
         sh("ip neigh replace " + peer_ip + " lladdr " + mac_b + " dev " + a + " nud permanent");
  }
  return ok;
}

// Sends one UDP datagram per entry of `sizes` (payload bytes) from `src` to dst:port.
inline void send_udp(const std::string& src, const std::string& dst, std::uint16_t port,
                     const std::vector<std::size_t>& sizes) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, src.c_str(), &from.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0)
      << std::strerror(errno);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, dst.c_str(), &to.sin_addr);
  for (std::size_t size : sizes) {
    const std::vector<char> payload(size, 'x');
    const ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0,
                               reinterpret_cast<sockaddr*>(&to), sizeof(to));
    EXPECT_EQ(n, static_cast<ssize_t>(size)) << std::strerror(errno);
  }
  ::close(fd);
}

}  // namespace netscope::capture::test
