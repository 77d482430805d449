#include "host/thread_latency.hpp"

#include <sched.h>
#include <sys/syscall.h>
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

}  // namespace netscope::host
