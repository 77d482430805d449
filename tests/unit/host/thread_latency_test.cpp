// request_short_slice(): the calling thread's slice changes, nothing else does.
// RealtimeBudget: SCHED_FIFO 1 for the calling thread only, back to SCHED_OTHER once over
// its CPU budget, real-time again in the next window, also with CAP_SYS_NICE the only
// capability left (in a forked child, as the live monitor keeps it); bulk work at
// SCHED_OTHER, not charged to the budget.

#include "host/thread_latency.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "host/privileges.hpp"

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

int policy() {
  return ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
}

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Works (not sleeps) for `ns` of the calling thread's CPU time.
void burn(std::int64_t ns) {
  const std::int64_t until = thread_cpu_ns() + ns;
  volatile std::uint64_t sink = 0;
  while (thread_cpu_ns() < until) {
    for (int i = 0; i < 1000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  }
}

TEST(ThreadLatency, realtime_for_the_calling_thread_only_until_over_budget_then_again) {
  const int main_policy = policy();
  bool granted = false;
  int during = -1;
  int over_budget = -1;
  int next_window = -1;
  bool demoted = false;
  std::uint64_t demotions = 0;
  std::thread worker([&] {
    RealtimeBudget budget(RealtimeBudget::Config{std::chrono::microseconds(100),
                                                 std::chrono::milliseconds(400),
                                                 std::chrono::microseconds(2'000)});
    granted = budget.start();
    if (!granted) return;
    during = policy();
    budget.charge();  // well within the budget: nothing changes
    burn(3'000'000);
    budget.charge();
    over_budget = policy();
    demoted = budget.demoted();
    demotions = budget.demotions();
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    budget.charge();  // a new window
    next_window = policy();
  });
  worker.join();
  EXPECT_EQ(policy(), main_policy);  // this thread is untouched
  if (!granted) GTEST_SKIP() << "no real-time priority here (no CAP_SYS_NICE, RLIMIT_RTPRIO 0)";
  EXPECT_EQ(during, SCHED_FIFO);
  EXPECT_EQ(over_budget, SCHED_OTHER);
  EXPECT_TRUE(demoted);
  EXPECT_EQ(demotions, 1u);
  EXPECT_EQ(next_window, SCHED_FIFO);
}

TEST(ThreadLatency, bulk_work_runs_at_sched_other_and_is_not_charged_to_the_budget) {
  bool granted = false;
  int bulk = -1;
  int after_bulk = -1;
  int after_charge = -1;
  int after_real_work = -1;
  bool demoted_after_bulk = true;
  std::thread worker([&] {
    RealtimeBudget budget(RealtimeBudget::Config{std::chrono::microseconds(100),
                                                 std::chrono::milliseconds(2'000),
                                                 std::chrono::microseconds(2'000)});
    granted = budget.start();
    if (!granted) return;
    budget.begin_bulk();
    bulk = policy();
    burn(5'000'000);  // more than the budget, but bulk work
    budget.end_bulk();
    after_bulk = policy();
    budget.charge();
    after_charge = policy();
    demoted_after_bulk = budget.demoted();
    burn(3'000'000);  // real-time work over the budget: demoted as before
    budget.charge();
    after_real_work = policy();
  });
  worker.join();
  if (!granted) GTEST_SKIP() << "no real-time priority here (no CAP_SYS_NICE, RLIMIT_RTPRIO 0)";
  EXPECT_EQ(bulk, SCHED_OTHER);
  EXPECT_EQ(after_bulk, SCHED_FIFO);
  EXPECT_EQ(after_charge, SCHED_FIFO);
  EXPECT_FALSE(demoted_after_bulk);
  EXPECT_EQ(after_real_work, SCHED_OTHER);
}

TEST(ThreadLatency, realtime_back_and_forth_with_only_cap_sys_nice_kept) {
  if (!effective_capabilities().sys_nice) GTEST_SKIP() << "needs CAP_SYS_NICE (root)";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // 1: drop failed; 2: FIFO refused; 3: not demoted; 4: not real-time again
    if (!drop_capabilities_except({CAP_SYS_NICE}, nullptr)) ::_exit(1);
    RealtimeBudget budget(RealtimeBudget::Config{std::chrono::microseconds(100),
                                                 std::chrono::milliseconds(200),
                                                 std::chrono::microseconds(1'000)});
    if (!budget.start() || policy() != SCHED_FIFO) ::_exit(2);
    burn(2'000'000);
    budget.charge();
    if (policy() != SCHED_OTHER) ::_exit(3);
    ::usleep(250'000);
    budget.charge();
    if (policy() != SCHED_FIFO) ::_exit(4);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace netscope::host
