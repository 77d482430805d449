// ProcScanner's incremental index on fake /proc trees: which fd tables it reads, in what
// order, and how it notices exited processes, reused pids and sockets that change hands.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "fake_proc.hpp"
#include "host/proc_scanner.hpp"
#include "host/process_info.hpp"

namespace netscope::host {
namespace {

namespace fs = std::filesystem;
using test_support::FakeProc;

std::vector<WantedSocket> want(std::initializer_list<std::uint64_t> inodes, std::uint32_t uid = 0) {
  std::vector<WantedSocket> out;
  for (const std::uint64_t inode : inodes) out.push_back({inode, uid});
  return out;
}

bool was_read(const ProcScanner& s, pid_t pid) {
  const ProcessEntry* e = s.process(pid);
  return e != nullptr && e->read_stamp != 0;
}

TEST(ProcScannerIncremental, listing_reads_identity_but_no_fd_table) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  ASSERT_NE(scanner.process(100), nullptr);
  EXPECT_EQ(scanner.process(100)->start_time_ticks, 500u);
  EXPECT_EQ(scanner.process(100)->uid, ::geteuid());
  EXPECT_EQ(scanner.stats().fd_tables, 0u);
  EXPECT_FALSE(scanner.owner_of(7001));
}

TEST(ProcScannerIncremental, resolve_reads_newest_processes_first_and_stops_when_found) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_process(200, 300);
  proc.add_process(300, 900);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  const ResolveResult r = scanner.resolve(want({7001}, ::geteuid()), scanner.stamp(), true);
  EXPECT_EQ(r.unresolved, 0u);
  EXPECT_EQ(r.tables_read, 2u);  // 300 (newest), then 100
  EXPECT_EQ(scanner.owner_of(7001), 100);
  EXPECT_TRUE(was_read(scanner, 300));
  EXPECT_FALSE(was_read(scanner, 200));
  // Known sockets cost nothing.
  EXPECT_EQ(scanner.resolve(want({7001}), scanner.stamp(), true).tables_read, 0u);
}

TEST(ProcScannerIncremental, resolve_tries_processes_of_the_sockets_uid_first) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the fake process directories";
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_process(300, 900);
  proc.add_socket(100, 3, 7001);
  fs::path newest = proc.root / "300";
  ASSERT_EQ(::chown(newest.c_str(), 1000, 1000), 0);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  EXPECT_EQ(scanner.process(300)->uid, 1000u);
  const ResolveResult r = scanner.resolve(want({7001}, 0), scanner.stamp(), true);
  EXPECT_EQ(r.tables_read, 1u);  // root's 100 before the newer process of uid 1000
  EXPECT_EQ(scanner.owner_of(7001), 100);
  // With any_uid false, a socket of a uid no process has is not searched for at all.
  proc.add_socket(300, 4, 7002);
  EXPECT_EQ(scanner.resolve(want({7002}, 4242), scanner.stamp(), false).unresolved, 1u);
  EXPECT_EQ(scanner.resolve(want({7002}, 4242), scanner.stamp(), true).unresolved, 0u);
  EXPECT_EQ(scanner.owner_of(7002), 300);
}

// A stand-in for /proc/<pid>/ns/net: a file whose inode plays the namespace's.
std::uint64_t add_netns(const FakeProc& proc, int pid, const std::string& name) {
  const fs::path shared = proc.root / ("ns-" + name);
  if (!fs::exists(shared)) std::ofstream(shared.string()) << name;
  fs::create_directories(proc.root / std::to_string(pid) / "ns");
  fs::create_hard_link(shared, proc.root / std::to_string(pid) / "ns" / "net");
  struct stat st {};
  return ::stat(shared.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(ProcScannerIncremental, resolve_reads_processes_of_the_sockets_namespace_first) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_process(200, 700);
  proc.add_process(300, 900);
  const std::uint64_t ours = add_netns(proc, 100, "ours");
  add_netns(proc, 200, "other");
  add_netns(proc, 300, "other");
  proc.add_socket(100, 3, 7001);
  proc.add_socket(300, 3, 7002);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  // The newer processes of another namespace are not read before the socket's holder.
  ResolveResult r =
      scanner.resolve(std::vector<WantedSocket>{{7001, ::geteuid(), ours}}, scanner.stamp(), true);
  EXPECT_EQ(r.unresolved, 0u);
  EXPECT_EQ(r.tables_read, 1u);
  EXPECT_EQ(scanner.owner_of(7001), 100);
  EXPECT_FALSE(was_read(scanner, 300));
  // A holder in another namespace (a socket passed across) is still found, last.
  r = scanner.resolve(std::vector<WantedSocket>{{7002, ::geteuid(), ours}}, scanner.stamp(), true);
  EXPECT_EQ(r.unresolved, 0u);
  EXPECT_EQ(scanner.owner_of(7002), 300);
}

TEST(ProcScannerIncremental, tables_read_after_since_are_not_read_again) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  const std::uint64_t before = scanner.stamp();
  ASSERT_EQ(scanner.resolve(want({7001}), before, true).unresolved, 0u);
  proc.add_socket(100, 4, 7002);  // opened after the table was read
  const ResolveResult stale = scanner.resolve(want({7002}), before, true);
  EXPECT_EQ(stale.tables_read, 0u);
  EXPECT_EQ(stale.unresolved, 1u);
  EXPECT_EQ(scanner.resolve(want({7002}), scanner.stamp(), true).unresolved, 0u);
  EXPECT_EQ(scanner.owner_of(7002), 100);
}

TEST(ProcScannerIncremental, processes_seen_opening_sockets_are_searched_before_idle_ones) {
  FakeProc proc;
  proc.add_process(100, 900);  // newest, idle
  proc.add_process(200, 100);  // oldest, opens sockets while we watch
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.scan());
  proc.add_socket(200, 3, 7002);
  ASSERT_EQ(scanner.resolve(want({7002}), scanner.stamp(), true).tables_read, 2u);
  EXPECT_NE(scanner.process(200)->gained_stamp, 0u);
  EXPECT_EQ(scanner.process(100)->gained_stamp, 0u);
  proc.add_socket(200, 4, 7003);
  EXPECT_EQ(scanner.resolve(want({7003}), scanner.stamp(), true).tables_read, 1u);
  EXPECT_EQ(scanner.owner_of(7003), 200);
}

TEST(ProcScannerIncremental, exited_process_is_forgotten_with_its_sockets) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.scan());
  ASSERT_EQ(scanner.owner_of(7001), 100);
  proc.remove_process(100);
  ASSERT_TRUE(scanner.list_processes());
  EXPECT_EQ(scanner.process(100), nullptr);
  EXPECT_FALSE(scanner.owner_of(7001));
  EXPECT_EQ(scanner.stats().sockets, 0u);
}

TEST(ProcScannerIncremental, reused_pid_starts_afresh) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.scan());
  // The process exits and another one gets its pid before the next listing.
  proc.remove_process(100);
  proc.add_process(100, 800);
  proc.add_socket(100, 3, 7002);
  ASSERT_EQ(scanner.revalidate(10, scanner.stamp()), 1u);
  EXPECT_EQ(scanner.process(100)->start_time_ticks, 800u);
  EXPECT_FALSE(scanner.owner_of(7001));
  EXPECT_EQ(scanner.owner_of(7002), 100);
}

TEST(ProcScannerIncremental, revalidation_finds_a_socket_that_changed_hands) {
  FakeProc proc;
  proc.add_process(100, 500);
  proc.add_process(200, 600);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  ASSERT_EQ(scanner.resolve(want({7001}), scanner.stamp(), true).unresolved, 0u);
  // 100 forks 200, which keeps the socket while 100 closes its copy.
  proc.remove_fd(100, 3);
  proc.add_socket(200, 5, 7001);
  ASSERT_EQ(scanner.owner_of(7001), 100);  // stale until the tables are read again
  // One table per round, least recently read first: both within two rounds.
  EXPECT_EQ(scanner.revalidate(1, scanner.stamp()), 1u);
  EXPECT_EQ(scanner.revalidate(1, scanner.stamp()), 1u);
  EXPECT_EQ(scanner.owner_of(7001), 200);
  EXPECT_TRUE(scanner.find(7001)->others.empty());
}

// A table costs a readlink per fd: revalidation weighs tables by their entries, oldest
// first, and stops before one that the budget does not cover.
TEST(ProcScannerIncremental, revalidation_spends_an_fd_budget_oldest_table_first) {
  FakeProc proc;
  proc.add_process(100, 100);
  proc.add_process(200, 200);
  proc.add_process(300, 300);
  for (int fd = 3; fd < 3 + 40; ++fd) proc.add_socket(100, fd, 7000 + fd);  // a big holder
  proc.add_socket(200, 3, 8001);
  proc.add_socket(300, 3, 9001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  ASSERT_EQ(scanner.resolve(want({7003}), scanner.stamp(), true).unresolved, 0u);
  // The two others read after it (never read, or read before it): 100 is now the oldest.
  ASSERT_EQ(scanner.revalidate(2, scanner.stamp()), 2u);
  ASSERT_EQ(scanner.owner_of(8001), 200);
  EXPECT_EQ(scanner.process(100)->fds, 40u);
  EXPECT_EQ(scanner.process(200)->fds, 1u);
  EXPECT_EQ(scanner.known_fds(), 42u);
  const std::uint64_t before = scanner.stats().fd_tables;
  std::size_t fds = 0;
  // The oldest (40 entries) does not fit in 39: nothing is read, not the small ones either.
  EXPECT_EQ(scanner.revalidate(3, scanner.stamp(), {}, 39, &fds), 0u);
  EXPECT_EQ(fds, 0u);
  EXPECT_EQ(scanner.stats().fd_tables, before);
  // 40 covers it (39 entries as read now) and one small table, not both.
  proc.remove_fd(100, 3);
  EXPECT_EQ(scanner.revalidate(3, scanner.stamp(), {}, 40, &fds), 2u);
  EXPECT_EQ(fds, 40u);
  EXPECT_EQ(scanner.process(100)->fds, 39u);
  EXPECT_FALSE(scanner.owner_of(7003));
  // Without a budget, every stale table up to the count.
  EXPECT_EQ(scanner.revalidate(3, scanner.stamp()), 3u);
}

TEST(ProcScannerIncremental, shared_socket_owner_is_the_lowest_pid_as_holders_come_and_go) {
  FakeProc proc;
  proc.add_process(300, 500);
  proc.add_process(200, 400);
  proc.add_socket(300, 3, 7001);
  proc.add_socket(200, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.scan());
  EXPECT_EQ(scanner.owner_of(7001), 200);
  EXPECT_EQ(scanner.find(7001)->others, std::vector<pid_t>{300});
  proc.remove_process(200);
  ASSERT_TRUE(scanner.list_processes());
  EXPECT_EQ(scanner.owner_of(7001), 300);
  EXPECT_TRUE(scanner.find(7001)->others.empty());
}

TEST(ProcScannerIncremental, resolve_stops_after_max_tables_and_goes_on_where_it_stopped) {
  FakeProc proc;
  proc.add_process(100, 100);  // the oldest holds it: read last
  proc.add_process(200, 200);
  proc.add_process(300, 300);
  proc.add_socket(100, 3, 7001);
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.list_processes());
  const std::uint64_t since = scanner.stamp();
  ResolveSteps steps;
  steps.max_tables = 2;
  ResolveResult r = scanner.resolve(want({7001}), since, true, steps);
  EXPECT_EQ(r.tables_read, 2u);
  EXPECT_EQ(r.unresolved, 1u);
  EXPECT_TRUE(r.more);
  r = scanner.resolve(want({7001}), since, true, steps);
  EXPECT_EQ(r.tables_read, 1u);  // the two read before are newer than `since`
  EXPECT_EQ(r.unresolved, 0u);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(scanner.owner_of(7001), 100);
  EXPECT_EQ(scanner.stats().fd_tables, 3u);
}

TEST(ProcScannerIncremental, a_table_with_new_sockets_is_reported_and_can_pause_the_search) {
  FakeProc proc;
  proc.add_process(100, 100);
  proc.add_process(200, 200);
  proc.add_process(300, 300);
  proc.add_socket(200, 3, 7001);
  proc.add_socket(100, 3, 7002);
  ProcScanner scanner(proc.path());
  std::vector<pid_t> gained;
  scanner.on_sockets_gained([&](const ProcessEntry& e) {
    EXPECT_TRUE(e.identified);
    gained.push_back(e.pid);
  });
  ASSERT_TRUE(scanner.list_processes());
  ResolveSteps steps;
  steps.pause = [&] { return !gained.empty(); };
  const ResolveResult r = scanner.resolve(want({7001, 7002}), scanner.stamp(), true, steps);
  EXPECT_EQ(r.tables_read, 2u);  // 300, then 200, which holds 7001: stop there
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.unresolved, 1u);
  EXPECT_EQ(gained, std::vector<pid_t>{200});
  // A re-read that finds nothing new says nothing; one that does, says so.
  gained.clear();
  EXPECT_EQ(scanner.revalidate(3, scanner.stamp()), 3u);
  EXPECT_EQ(gained, std::vector<pid_t>{100});
}

// Clock ticks since boot, as /proc/<pid>/stat counts a process's start time.
std::uint64_t boot_ticks_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  const auto hz = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  return static_cast<std::uint64_t>(ts.tv_sec) * hz +
         static_cast<std::uint64_t>(ts.tv_nsec) * hz / 1'000'000'000;
}

// `ip netns exec` and shells fork, are listed and maybe read, then exec the program that
// connects: a process that young is searched first although its table was read.
TEST(ProcScannerIncremental, a_young_process_is_searched_before_ones_seen_opening_sockets) {
  FakeProc proc;
  proc.add_process(100, 100);
  proc.add_socket(100, 3, 7001);
  proc.add_process(200, boot_ticks_now());
  ProcScanner scanner(proc.path());
  ASSERT_TRUE(scanner.scan());    // both read: 200 holds nothing yet
  proc.add_socket(100, 4, 7002);  // 100 is seen opening a socket
  ASSERT_EQ(scanner.revalidate(2, scanner.stamp()), 2u);
  ASSERT_NE(scanner.process(100)->gained_stamp, 0u);
  proc.add_socket(200, 3, 7003);  // then the young one connects
  const ResolveResult r = scanner.resolve(want({7003}), scanner.stamp(), true);
  EXPECT_EQ(r.tables_read, 1u);
  EXPECT_EQ(scanner.owner_of(7003), 200);
}

TEST(ProcScannerIncremental, new_processes_are_listed_alone_and_identified_at_their_first_read) {
  // The real /proc: another process started between the fork and the listing (ctest runs
  // tests in parallel) is newer than the child and rightly read first. Such a round is
  // done again, so that the assertions below hold their exact values on a clean one.
  struct Round {
    pid_t child = -1;
    bool reported = false;
    std::uint64_t inode = 0;
    bool listed = false;
    std::uint64_t listed_now = 0;
    bool lazy = false;
    ResolveResult r;
    bool have_entry = false;
    bool identified = false;
    std::uint64_t start_ticks = 0;
    std::optional<std::uint64_t> start;
    std::uint64_t others = 0;  // processes listed with the child (started beside it)
  };
  std::optional<ProcScanner> scanner;
  Round round;
  for (int attempt = 0; attempt < 50; ++attempt) {
    scanner.emplace();
    ASSERT_TRUE(scanner->list_processes());
    std::unordered_set<pid_t> known;
    for (const auto& [pid, e] : scanner->processes()) known.insert(pid);
    round = Round{};
    int ready[2];
    int release[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // A socket of its own, reported by inode, held until released.
      ::close(ready[0]);
      ::close(release[1]);
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct stat st {};
      const std::uint64_t inode = fd >= 0 && ::fstat(fd, &st) == 0 ? st.st_ino : 0;
      if (::write(ready[1], &inode, sizeof(inode)) != sizeof(inode)) ::_exit(1);
      char byte;
      [[maybe_unused]] const auto n = ::read(release[0], &byte, 1);
      ::_exit(0);
    }
    round.child = child;
    ::close(ready[1]);
    ::close(release[0]);
    round.reported = ::read(ready[0], &round.inode, sizeof(round.inode)) == sizeof(round.inode);
    ::close(ready[0]);
    const std::uint64_t listed_before = scanner->stats().processes;
    round.listed = scanner->list_new_processes();
    round.listed_now = scanner->stats().processes - listed_before;
    const ProcessEntry* entry = scanner->process(child);
    round.lazy = entry != nullptr && !entry->identified && entry->start_time_ticks == 0;
    for (const auto& [pid, e] : scanner->processes()) {
      round.others += pid != child && !known.contains(pid) ? 1 : 0;
    }
    round.r = scanner->resolve(want({round.inode}, ::geteuid()), scanner->stamp(), true);
    entry = scanner->process(child);
    round.have_entry = entry != nullptr;
    round.identified = entry != nullptr && entry->identified;
    round.start_ticks = entry != nullptr ? entry->start_time_ticks : 0;
    round.start = read_start_time(child);
    ::close(release[1]);
    ::waitpid(child, nullptr, 0);
    if (round.others == 0) break;
  }

  ASSERT_EQ(round.others, 0u) << "other processes started beside the child in every round";
  ASSERT_TRUE(round.reported);
  ASSERT_NE(round.inode, 0u);
  EXPECT_TRUE(round.listed);
  EXPECT_TRUE(round.lazy);
  EXPECT_EQ(round.r.unresolved, 0u);
  EXPECT_EQ(round.r.tables_read, 1u);  // the newest process first
  EXPECT_EQ(scanner->owner_of(round.inode), round.child);
  ASSERT_TRUE(round.have_entry);
  EXPECT_TRUE(round.identified);
  EXPECT_EQ(round.start_ticks, round.start);
  const std::uint64_t listed_now = round.listed_now;
  // On procfs only the pids above the newest one are listed, not every process.
  std::vector<pid_t> all;
  PidListing full("/proc");
  ASSERT_TRUE(full.list_all(all));
  if (full.can_list_from()) {
    EXPECT_LT(listed_now, all.size());
  }
}

}  // namespace
}  // namespace netscope::host
