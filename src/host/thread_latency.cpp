#include "host/thread_latency.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

namespace netscope::host {

namespace {

// struct sched_attr of include/uapi/linux/sched/types.h (SCHED_ATTR_SIZE_VER1). glibc
// 2.36 has no wrapper, and the kernel header clashes with glibc's struct sched_param.
struct SchedAttr {
  std::uint32_t size = sizeof(SchedAttr);
  std::uint32_t sched_policy = 0;
  std::uint64_t sched_flags = 0;
  std::int32_t sched_nice = 0;
  std::uint32_t sched_priority = 0;
  std::uint64_t sched_runtime = 0;  // for SCHED_OTHER: the requested slice, ns
  std::uint64_t sched_deadline = 0;
  std::uint64_t sched_period = 0;
  std::uint32_t sched_util_min = 0;
  std::uint32_t sched_util_max = 0;
};
static_assert(sizeof(SchedAttr) == 56);

constexpr std::uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK
constexpr int kRealtimePriority = 1;          // SCHED_FIFO's lowest

std::int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// SCHED_FIFO priority 1 for the calling thread; a child it forks starts as SCHED_OTHER.
bool set_fifo() {
  sched_param param{};
  param.sched_priority = kRealtimePriority;
  return ::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0;
}

// Back to SCHED_OTHER (nice 0) with the short slice, in one call.
bool set_other(std::chrono::microseconds slice) {
  SchedAttr attr;
  attr.sched_policy = SCHED_OTHER;
  attr.sched_flags = kResetOnFork;
  attr.sched_runtime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count());
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) == 0) return true;
  // A kernel without custom slices refuses sched_runtime for SCHED_OTHER: plain policy.
  sched_param param{};
  return ::sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &param) == 0;
}

}  // namespace

bool request_short_slice(std::chrono::microseconds slice) {
  SchedAttr attr;
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return false;
  if (attr.sched_policy != SCHED_OTHER) return false;
  // Same policy and nice value: only the slice changes, which needs no privilege. Utilization
  // clamps stay as they are when their flags are not passed.
  attr.size = sizeof(attr);
  attr.sched_flags &= kResetOnFork;
  attr.sched_runtime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count());
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

bool RealtimeBudget::start() {
  granted_ = set_fifo();
  demoted_ = false;
  if (!granted_) {
    short_slice_ = request_short_slice(config_.slice);
    return false;
  }
  window_end_ns_ = clock_ns(CLOCK_MONOTONIC) +
                   std::chrono::duration_cast<std::chrono::nanoseconds>(config_.window).count();
  window_cpu_ns_ = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  return true;
}

void RealtimeBudget::charge() {
  if (!granted_) return;
  const std::int64_t now = clock_ns(CLOCK_MONOTONIC);
  const std::int64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  if (now >= window_end_ns_) {
    if (demoted_) {
      granted_ = set_fifo();  // refused now (the limit changed): stay as we are
      demoted_ = false;
    }
    window_end_ns_ =
        now + std::chrono::duration_cast<std::chrono::nanoseconds>(config_.window).count();
    window_cpu_ns_ = cpu;
    return;
  }
  const auto budget = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.budget);
  if (!demoted_ && cpu - window_cpu_ns_ > budget.count()) {
    set_other(config_.slice);
    demoted_ = true;
    ++demotions_;
  }
}

void RealtimeBudget::begin_bulk() {
  if (!granted_ || demoted_ || bulk_) return;
  if (!set_other(config_.slice)) return;  // stays real-time: charged as before
  bulk_ = true;
  bulk_cpu_ns_ = clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void RealtimeBudget::end_bulk() {
  if (!bulk_) return;
  bulk_ = false;
  // Not real-time work: the window's budget does not pay for it.
  window_cpu_ns_ += clock_ns(CLOCK_THREAD_CPUTIME_ID) - bulk_cpu_ns_;
  granted_ = set_fifo();  // refused now (the limit changed): stay as we are
}

}  // namespace netscope::host
