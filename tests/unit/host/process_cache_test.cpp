// ProcessCache: details kept after the process exits, not spoiled by a re-read of a
// zombie, refreshed after an exec, and bounded by least recent use.

#include "host/process_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "fake_proc.hpp"

namespace netscope::host {
namespace {

using namespace std::chrono_literals;
using Reread = ProcessCache::Reread;
using Clock = ProcessCache::Clock;

constexpr std::size_t kPlenty = 100;

// Polls `done` until it holds or two seconds pass: a bound, not a timing assertion.
template <typename Predicate>
bool eventually(Predicate done) {
  const auto deadline = Clock::now() + 2s;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

// A forked child that waits for a byte (or EOF) on a pipe, then runs `then`; killed and
// reaped by the destructor if the test has not reaped it.
class Child {
 public:
  template <typename Then>
  explicit Child(Then then) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      char byte;
      [[maybe_unused]] const auto n = ::read(fds[0], &byte, 1);
      then();
      ::_exit(0);
    }
    ::close(fds[0]);
    go_ = fds[1];
  }
  ~Child() {
    if (go_ >= 0) ::close(go_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void go() {
    ::close(go_);
    go_ = -1;
  }
  void reap() {
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool reaped_ = false;
};

char state_of(pid_t pid) {
  const auto info = read_process_info(pid);
  return info ? info->state : '?';
}

TEST(ProcessCache, details_read_while_it_ran_outlive_the_process) {
  Child child([] {});
  ASSERT_GT(child.pid(), 0);
  const auto start = read_start_time(child.pid());
  ASSERT_TRUE(start);
  ProcessCache cache("/proc", kPlenty);
  cache.note_owner(child.pid(), *start, Reread::no, Clock::now());
  child.go();
  child.reap();
  ASSERT_FALSE(read_start_time(child.pid()));  // gone from /proc
  const auto self = read_process_info(::getpid());
  ASSERT_TRUE(self);
  for (const auto& info : {cache.get(child.pid(), *start), cache.get(child.pid())}) {
    ASSERT_TRUE(info);
    EXPECT_EQ(info->comm, self->comm);
    EXPECT_EQ(info->cmdline, self->cmdline);
    EXPECT_EQ(info->ppid, ::getpid());
  }
  EXPECT_FALSE(cache.get(child.pid(), *start + 1));  // another incarnation: unknown
}

TEST(ProcessCache, a_reread_of_a_zombie_keeps_the_details_read_while_it_ran) {
  Child child([] {});
  const auto start = read_start_time(child.pid());
  ASSERT_TRUE(start);
  ProcessCache cache("/proc", kPlenty);
  cache.note_owner(child.pid(), *start, Reread::no, Clock::now());
  child.go();  // exits, and stays a zombie until reaped
  ASSERT_TRUE(eventually([&] { return state_of(child.pid()) == 'Z'; }));
  cache.note_owner(child.pid(), *start, Reread::yes, Clock::now());
  const auto info = cache.get(child.pid(), *start);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->cmdline.empty());
  EXPECT_FALSE(info->exe.empty());
  child.reap();
}

TEST(ProcessCache, an_exec_is_noticed_by_the_exe_link) {
  if (::access("/bin/sleep", X_OK) != 0) GTEST_SKIP() << "no /bin/sleep";
  Child child([] {
    const char* argv[] = {"sleep", "30", nullptr};
    ::execv("/bin/sleep", const_cast<char* const*>(argv));
  });
  const auto start = read_start_time(child.pid());
  ASSERT_TRUE(start);
  ProcessCache cache("/proc", kPlenty);
  cache.note_owner(child.pid(), *start, Reread::no, Clock::now());
  const std::string before = cache.get(child.pid(), *start)->exe;
  child.go();
  ASSERT_TRUE(eventually([&] {
    // The exe link changes first; the arguments are in place a moment later.
    const auto now = read_process_info(child.pid());
    return now && !now->exe.empty() && now->exe != before && !now->cmdline.empty();
  }));
  // Same pid, same start time: only the exe link tells.
  cache.note_owner(child.pid(), *start, Reread::no, Clock::now());
  EXPECT_NE(cache.get(child.pid(), *start)->comm, "sleep");
  cache.note_owner(child.pid(), *start, Reread::if_exec, Clock::now());
  const auto info = cache.get(child.pid(), *start);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->comm, "sleep");
  EXPECT_EQ(info->cmdline, "sleep 30");
}

TEST(ProcessCache, least_recently_used_go_first_beyond_the_bound) {
  test_support::FakeProc proc;
  for (const int pid : {101, 102, 103}) {
    proc.add_process(pid, 500 + static_cast<std::uint64_t>(pid));
  }
  ProcessCache cache(proc.path(), 2);
  const auto t0 = Clock::now();
  cache.note_owner(101, 601, Reread::no, t0);
  cache.note_owner(102, 602, Reread::no, t0 + 1s);
  cache.note_owner(103, 603, Reread::no, t0 + 2s);
  cache.note_owner(101, 601, Reread::no, t0 + 3s);  // in use again
  for (const int pid : {101, 102, 103}) proc.remove_process(pid);
  const auto alive = [](pid_t, std::uint64_t) { return true; };
  cache.expire(t0, alive);  // nothing idle yet: only the bound applies
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.get(101, 601));
  EXPECT_FALSE(cache.get(102, 602));
  EXPECT_TRUE(cache.get(103, 603));
  // Unused for the whole window and exited: dropped.
  cache.expire(Clock::now() + 1s, [](pid_t, std::uint64_t) { return false; });
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace netscope::host
