// ProcScanner's incremental index on fake /proc trees: which fd tables it reads, in what
// order, and how it notices exited processes, reused pids and sockets that change hands.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "host/proc_scanner.hpp"

namespace netscope::host {
namespace {

namespace fs = std::filesystem;

struct FakeProc {
  fs::path root;
  FakeProc() {
    std::string pattern = (fs::temp_directory_path() / "netscope-fdindex-XXXXXX").string();
    root = mkdtemp(pattern.data());
  }
  ~FakeProc() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  // A process directory with a stat line whose starttime (field 22) is `start`.
  void add_process(int pid, std::uint64_t start) {
    const fs::path dir = root / std::to_string(pid);
    fs::create_directories(dir / "fd");
    std::ofstream(dir / "stat") << pid << " (fake) S 1 " << pid << " " << pid
                                << " 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 " << start
                                << " 1000 100 0\n";
  }
  void add_socket(int pid, int fd, std::uint64_t inode) {
    fs::create_symlink("socket:[" + std::to_string(inode) + "]",
                       root / std::to_string(pid) / "fd" / std::to_string(fd));
  }
  void remove_fd(int pid, int fd) {
    fs::remove(root / std::to_string(pid) / "fd" / std::to_string(fd));
  }
  void remove_process(int pid) { fs::remove_all(root / std::to_string(pid)); }
  std::string path() const { return root.string(); }
};

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

}  // namespace
}  // namespace netscope::host
