#pragma once
// Helpers for the host tests that use real kernel objects: sockets on loopback, a private
// network namespace per test, and forked children that report back through a pipe.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "core/ip_address.hpp"

namespace netscope::host::test_support {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

inline std::uint32_t inode_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<std::uint32_t>(st.st_ino);
}

inline sockaddr_storage sockaddr_of(int family, std::uint16_t port, bool any = false) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
    sin->sin_port = htons(port);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = any ? in6addr_any : in6addr_loopback;
    sin6->sin6_port = htons(port);
  }
  return ss;
}

inline socklen_t sockaddr_size(int family) {
  return family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

inline core::Endpoint endpoint_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    return {core::IpAddress::from_v4(ntohl(sin->sin_addr.s_addr)), ntohs(sin->sin_port)};
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  return {core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(sin6->sin6_addr.s6_addr)),
          ntohs(sin6->sin6_port)};
}

inline core::Endpoint local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return endpoint_of(ss);
}

inline std::uint16_t local_port(int fd) {
  return local_endpoint(fd).port;
}

// Binds to the loopback address (or the wildcard) of `family` with `port` (0: ephemeral);
// -1 if unavailable.
inline int bound_socket(int family, int type, std::uint16_t port = 0, bool any = false) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_storage ss = sockaddr_of(family, port, any);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), sockaddr_size(family)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline int connect_to(int family, int type, std::uint16_t port) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  const sockaddr_storage ss = sockaddr_of(family, port);
  if (fd >= 0 &&
      ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), sockaddr_size(family)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline int connect_to(int family, std::uint16_t port) {
  return connect_to(family, SOCK_STREAM, port);
}

// Sets IFF_UP on the loopback device of the calling thread's network namespace.
inline bool bring_loopback_up() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ::ioctl(fd.get(), SIOCSIFFLAGS, &ifr) == 0;
}

// Runs `body` on a thread of its own that unshare()s a new network namespace with lo up.
// Only that thread (and what it starts or forks) lives there, and the namespace goes away
// with the thread and its sockets, so nothing leaks into other tests even on failure.
// Returns false with `why` set when namespaces are unavailable (not root).
inline bool run_in_new_netns(const std::function<void()>& body, std::string* why) {
  bool ok = false;
  std::thread runner([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      *why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    if (!bring_loopback_up()) {
      *why = std::string("bringing lo up: ") + std::strerror(errno);
      return;
    }
    ok = true;
    body();
  });
  runner.join();
  return ok;
}

// The uid-0 check the namespace tests skip on.
inline bool is_root() {
  return ::geteuid() == 0;
}

// run_in_new_netns() for a test body: skips the test when that is not possible. Call it
// as the test's only statement (GTEST_SKIP returns from this helper, not the test).
inline void in_new_netns_or_skip(const std::function<void()>& body) {
  if (!is_root()) GTEST_SKIP() << "needs root for a private network namespace";
  std::string why;
  if (!run_in_new_netns(body, &why)) GTEST_SKIP() << why;
}

// Polls `done` until it holds or `limit` passes: a bound, not a timing assertion.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace netscope::host::test_support
