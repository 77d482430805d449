#include "capture/replay_pacer.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace netscope::capture {
namespace {

// b - a, exact when it fits in int64 (always, for real captures), else approximated.
double difference_ns(std::int64_t a, std::int64_t b) {
  std::int64_t d = 0;
  if (!__builtin_sub_overflow(b, a, &d)) return static_cast<double>(d);
  return static_cast<double>(b) - static_cast<double>(a);
}

std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ReplayPacer::ReplayPacer(double speed) : speed_(speed) {
  if (!std::isfinite(speed) || speed < 0) {
    throw std::invalid_argument(
        "replay speed must be a number >= 0 (0: as fast as possible), not " +
        std::to_string(speed));
  }
  if (speed_ > 0) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      throw std::runtime_error(std::string("replay pacer: eventfd: ") + std::strerror(errno));
    }
  }
}

ReplayPacer::~ReplayPacer() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool ReplayPacer::pace(core::Timestamp ts) {
  if (speed_ == 0) return true;
  const std::int64_t now = monotonic_ns();
  if (!anchored_) {
    anchored_ = true;
    wall0_ns_ = now;
    ts0_ = ts;
    last_ts_ = ts;
    return true;
  }
  if (ts < last_ts_) {
    // Stitch the file's time axis at the jump: this packet is due when the previous one
    // was, and the ones after it keep their spacing from it. Re-anchoring at "now"
    // instead would forgive lateness and drift on the small reorderings that merged
    // captures are full of. An absurd jump that would overflow re-anchors.
    std::int64_t back = 0;
    std::int64_t shifted = 0;
    if (__builtin_sub_overflow(last_ts_.ns, ts.ns, &back) ||
        __builtin_sub_overflow(ts0_.ns, back, &shifted)) {
      wall0_ns_ = now;
      shifted = ts.ns;
    }
    ts0_.ns = shifted;
    last_ts_ = ts;
    return true;
  }
  last_ts_ = ts;
  // Wall time after the anchor at which the packet is due. In double: (ts - ts0) / speed
  // exceeds int64 only for absurd gaps or speeds, which the clamp turns into a very long
  // (interruptible) sleep.
  const double due = difference_ns(ts0_.ns, ts.ns) / speed_;
  const auto remaining_at = [&](std::int64_t t) {
    const double left = due - static_cast<double>(t - wall0_ns_);
    return static_cast<std::int64_t>(
        std::min(left, static_cast<double>(std::numeric_limits<std::int64_t>::max()) / 2));
  };
  std::int64_t remaining = remaining_at(now);
  std::int64_t before = now;
  while (remaining > 0) {
    timespec wait{static_cast<time_t>(remaining / 1'000'000'000),
                  static_cast<long>(remaining % 1'000'000'000)};
    pollfd pfd{wake_fd_, POLLIN, 0};
    const int rc = ::ppoll(&pfd, 1, &wait, nullptr);
    const std::int64_t after = monotonic_ns();
    slept_ns_ += after - before;
    before = after;
    if (rc > 0) {
      std::uint64_t count = 0;
      while (::read(wake_fd_, &count, sizeof(count)) > 0) {
      }
      return false;
    }
    remaining = remaining_at(after);
    if (rc < 0 && errno != EINTR) break;
  }
  return true;
}

void ReplayPacer::interrupt() {
  if (wake_fd_ < 0) return;  // speed 0 never sleeps
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

}  // namespace netscope::capture
