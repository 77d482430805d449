// request_short_slice(): the calling thread's slice changes, nothing else does.

#include "host/thread_latency.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace netscope::host {
namespace {

// The "se.slice" line of /proc/thread-self/sched (ns), where the kernel shows it.
std::optional<long long> own_slice_ns() {
  std::ifstream in("/proc/thread-self/sched");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("se.slice", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    return std::stoll(line.substr(colon + 1));
  }
  return std::nullopt;
}

TEST(ThreadLatency, short_slice_applies_to_the_calling_thread_only_and_keeps_nice) {
  const auto before = own_slice_ns();
  bool granted = false;
  std::optional<long long> in_thread;
  int nice_before = 0;
  int nice_after = 0;
  std::thread worker([&] {
    nice_before = ::getpriority(PRIO_PROCESS, 0);
    granted = request_short_slice(std::chrono::microseconds(100));
    in_thread = own_slice_ns();
    nice_after = ::getpriority(PRIO_PROCESS, 0);
  });
  worker.join();
  EXPECT_EQ(nice_after, nice_before);
  if (!granted) GTEST_SKIP() << "the kernel refused a custom slice (before Linux 6.12?)";
  if (!in_thread || !before) GTEST_SKIP() << "no se.slice in /proc/thread-self/sched";
  EXPECT_EQ(*in_thread, 100'000);
  EXPECT_EQ(own_slice_ns(), before);  // this thread is untouched
}

}  // namespace
}  // namespace netscope::host
