// NamespaceDiags: sockets for the namespaces processes live in, kept for a grace period
// after the last process left, published to the lookup thread as a snapshot.

#include "host/namespace_diags.hpp"

#include <netinet/in.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "host/netns.hpp"
#include "live_sockets.hpp"

namespace netscope::host {
namespace {

using namespace std::chrono_literals;
using test_support::is_root;

// A thread in a network namespace of its own (reachable as /proc/<tid>/ns/net), alive
// until the object goes.
class NamespaceThread {
 public:
  NamespaceThread() {
    thread_ = std::thread([this] {
      const bool ok = ::unshare(CLONE_NEWNET) == 0;
      std::unique_lock lock(mutex_);
      tid_ = ok ? static_cast<pid_t>(::syscall(SYS_gettid)) : -1;
      netns_ = ok ? own_netns_inode() : 0;
      changed_.notify_all();
      changed_.wait(lock, [&] { return done_; });
    });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return tid_ != 0; });
  }
  ~NamespaceThread() {
    {
      const std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  NamespaceThread(const NamespaceThread&) = delete;
  NamespaceThread& operator=(const NamespaceThread&) = delete;

  pid_t tid() const { return tid_; }
  std::uint64_t netns() const { return netns_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  pid_t tid_ = 0;
  std::uint64_t netns_ = 0;
  bool done_ = false;
  std::thread thread_;
};

TEST(NamespaceDiags, an_empty_namespace_is_kept_for_the_grace_period_then_let_go) {
  if (!is_root()) GTEST_SKIP() << "needs root to enter another network namespace";
  NamespaceThread other;
  ASSERT_GT(other.tid(), 0) << "unshare(CLONE_NEWNET) failed";
  NamespaceDiags diags("/proc");
  const std::uint64_t own = diags.own();
  ASSERT_NE(other.netns(), own);
  const auto t0 = std::chrono::steady_clock::now();
  diags.update({{other.netns(), other.tid()}}, /*others=*/true, t0);
  ASSERT_EQ(diags.members().size(), 2u);
  EXPECT_EQ(diags.members().front().netns, own);
  EXPECT_EQ(diags.members().back().netns, other.netns());
  const NamespaceDiags::Finders finders = diags.finders();
  ASSERT_EQ(finders->size(), 2u);
  EXPECT_EQ((*finders)[1].netns, other.netns());

  // Nobody there any more (the container runs its next command in a moment): kept...
  diags.update({}, true, t0 + kNamespaceGrace - 1s);
  EXPECT_EQ(diags.members().size(), 2u);
  // ... until the grace period has passed.
  diags.update({}, true, t0 + kNamespaceGrace);
  EXPECT_EQ(diags.members().size(), 1u);
  EXPECT_EQ(diags.finders()->size(), 1u);
  // A snapshot taken before still works: it holds its sockets.
  SocketRecord record;
  EXPECT_NE((*finders)[1].diag->find(IPPROTO_TCP, {}, {}, record), FindResult::failed);

  // Asked for the own namespace only, the others go at once.
  diags.update({{other.netns(), other.tid()}}, true, t0 + 10s);
  ASSERT_EQ(diags.members().size(), 2u);
  diags.update({{other.netns(), other.tid()}}, /*others=*/false, t0 + 10s);
  EXPECT_EQ(diags.members().size(), 1u);
  EXPECT_EQ(diags.enter_failures(), 0u);
}

TEST(NamespaceDiags, the_open_file_limit_sizes_how_many_namespaces_are_held) {
  EXPECT_EQ(namespace_capacity(1024), (1024 - kFilesReserved) / kFilesPerNamespace);
  EXPECT_EQ(namespace_capacity(100), 16u);  // a floor, however low the limit
  EXPECT_EQ(namespace_capacity(1'048'576), 8192u);
  EXPECT_EQ(namespace_capacity(~std::uint64_t{0}), 8192u);
}

// At the bound, a further namespace is not entered but counted once while it is in use;
// once a member is let go, it is entered at the next update.
TEST(NamespaceDiags, past_the_bound_a_namespace_is_counted_not_entered) {
  if (!is_root()) GTEST_SKIP() << "needs root to enter another network namespace";
  NamespaceThread a;
  NamespaceThread b;
  ASSERT_GT(a.tid(), 0) << "unshare(CLONE_NEWNET) failed";
  ASSERT_GT(b.tid(), 0) << "unshare(CLONE_NEWNET) failed";
  NamespaceDiags diags("/proc");
  diags.set_max_members(2);  // the own namespace and one other
  const auto t0 = std::chrono::steady_clock::now();
  const std::unordered_map<std::uint64_t, pid_t> both{{a.netns(), a.tid()}, {b.netns(), b.tid()}};
  diags.update(both, true, t0);
  EXPECT_EQ(diags.members().size(), 2u);
  EXPECT_EQ(diags.capacity_skips(), 1u);
  diags.update(both, true, t0 + 1s);
  EXPECT_EQ(diags.capacity_skips(), 1u);  // the same namespace, still in use: counted once
  // The one held goes unused past the grace period: the other is entered.
  const std::uint64_t held = diags.members().back().netns;
  const bool a_held = held == a.netns();
  const std::unordered_map<std::uint64_t, pid_t> other{a_held ? std::pair{b.netns(), b.tid()}
                                                              : std::pair{a.netns(), a.tid()}};
  diags.update(other, true, t0 + 1s + kNamespaceGrace);
  ASSERT_EQ(diags.members().size(), 2u);
  EXPECT_EQ(diags.members().back().netns, a_held ? b.netns() : a.netns());
  EXPECT_EQ(diags.capacity_skips(), 1u);
}

}  // namespace
}  // namespace netscope::host
