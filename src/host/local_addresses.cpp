#include "host/local_addresses.hpp"

#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace netscope::host {

namespace {

constexpr int kDumpTimeoutMs = 2000;
// Room for bursts of events (an interface coming up with many addresses) before the
// kernel drops them with ENOBUFS.
constexpr int kEventBufferBytes = 1 << 20;

}  // namespace

LocalAddresses::LocalAddresses()
    : snapshot_(std::make_shared<const Snapshot>()), buffer_(64 * 1024) {}

LocalAddresses::~LocalAddresses() {
  stop();
}

bool LocalAddresses::start(std::string* error) {
  stop();
  // Subscribe before the dump: an event that races with the dump is then applied after
  // it, and replaying add/del events over any earlier state converges to the last one.
  if (!events_.open(NETLINK_ROUTE, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, error)) return false;
  ::setsockopt(events_.fd(), SOL_SOCKET, SO_RCVBUF, &kEventBufferBytes, sizeof(kEventBufferBytes));
  if (!requests_.open(NETLINK_ROUTE, 0, error) ||
      !requests_.set_receive_timeout(kDumpTimeoutMs, error)) {
    return false;
  }
  std::vector<AddressMessage> initial;
  if (!dump(initial, error)) return false;
  state_.clear();
  apply(initial);
  publish();
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    if (error != nullptr) *error = std::string("eventfd failed: ") + std::strerror(errno);
    return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void LocalAddresses::stop() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (stop_fd_ >= 0) {
    ::close(stop_fd_);
    stop_fd_ = -1;
  }
}

bool LocalAddresses::contains(const core::IpAddress& addr) const {
  const auto snap = snapshot_.load(std::memory_order_acquire);
  if (std::binary_search(snap->exact.begin(), snap->exact.end(), addr)) return true;
  return std::any_of(snap->ranges.begin(), snap->ranges.end(),
                     [&](const Cidr& range) { return range.contains(addr); });
}

std::vector<core::IpAddress> LocalAddresses::addresses() const {
  return snapshot_.load(std::memory_order_acquire)->exact;
}

bool LocalAddresses::dump(std::vector<AddressMessage>& out, std::string* error) {
  auto request = netlink::make_request<ifaddrmsg>(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP,
                                                  requests_.next_seq());
  request.body.ifa_family = AF_UNSPEC;  // IPv4 and IPv6
  if (!requests_.send(&request, sizeof(request), error)) return false;
  netlink::ReplyStatus status;
  status.seq = request.header.seq;
  while (!status.done) {
    const long got = requests_.receive(buffer_, error);
    if (got <= 0) {
      if (got == 0 && error != nullptr) *error = "netlink: RTM_GETADDR dump ended early";
      return false;
    }
    const std::span<const std::uint8_t> bytes(buffer_.data(), static_cast<std::size_t>(got));
    if (!parse_address_messages(bytes, out, status)) {
      if (error != nullptr) {
        *error = status.error != 0
                     ? std::string("netlink: RTM_GETADDR failed: ") + std::strerror(status.error)
                     : std::string("netlink: malformed RTM_GETADDR reply");
      }
      return false;
    }
  }
  return true;
}

void LocalAddresses::apply(const std::vector<AddressMessage>& messages) {
  for (const AddressMessage& m : messages) {
    const Key key{m.ifindex, m.address, m.prefix_len};
    if (m.added) {
      state_[key] = m;
    } else {
      state_.erase(key);
    }
  }
}

void LocalAddresses::publish() {
  auto next = std::make_shared<Snapshot>();
  for (const auto& [key, m] : state_) {
    next->exact.push_back(m.address);
    if (m.scope == RT_SCOPE_HOST) next->ranges.push_back(Cidr::of(m.address, m.prefix_len));
  }
  std::sort(next->exact.begin(), next->exact.end());
  next->exact.erase(std::unique(next->exact.begin(), next->exact.end()), next->exact.end());
  const auto current = snapshot_.load(std::memory_order_acquire);
  const auto same_range = [](const Cidr& a, const Cidr& b) {
    return a.network == b.network && a.prefix_len == b.prefix_len && a.v6 == b.v6;
  };
  if (current->exact == next->exact &&
      std::equal(current->ranges.begin(), current->ranges.end(), next->ranges.begin(),
                 next->ranges.end(), same_range)) {
    return;
  }
  snapshot_.store(std::move(next), std::memory_order_release);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void LocalAddresses::run() {
  pollfd fds[2] = {{events_.fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  std::vector<AddressMessage> messages;
  for (;;) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    bool changed = false;
    for (;;) {
      const long got = events_.receive(buffer_, nullptr, /*nonblocking=*/true);
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {
          // Events were dropped: the set may be stale, so read it whole again.
          resyncs_.fetch_add(1, std::memory_order_relaxed);
          messages.clear();
          if (dump(messages, nullptr)) {
            state_.clear();
            apply(messages);
            changed = true;
          } else {
            errors_.fetch_add(1, std::memory_order_relaxed);
          }
          continue;
        }
        errors_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      messages.clear();
      netlink::ReplyStatus status;  // events carry sequence number 0
      if (!parse_address_messages(
              std::span<const std::uint8_t>(buffer_.data(), static_cast<std::size_t>(got)),
              messages, status)) {
        errors_.fetch_add(1, std::memory_order_relaxed);
      }
      apply(messages);
      changed = true;
    }
    if (changed) publish();
  }
}

}  // namespace netscope::host
