// --pid and --filter REGEX (monitor::SnapshotFilter): which processes, connections,
// remotes and DNS transactions a filtered snapshot keeps.

#include "monitor/snapshot_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>

namespace netscope::monitor {
namespace {

ProcessRecord proc(std::optional<pid_t> pid, std::string name, std::string cmdline) {
  ProcessRecord p;
  p.pid = pid;
  p.name = std::move(name);
  p.cmdline = std::move(cmdline);
  return p;
}

ConnectionRecord conn(std::optional<pid_t> pid, const char* remote, std::uint64_t up,
                      std::uint64_t down, double rate) {
  ConnectionRecord c;
  c.pid = pid;
  c.remote_addr = *core::IpAddress::parse(remote);
  c.bytes_up = up;
  c.bytes_down = down;
  c.rate_down = rate;
  return c;
}

DnsEventRecord dns(std::optional<pid_t> pid, std::string query) {
  DnsEventRecord d;
  d.pid = pid;
  d.query = std::move(query);
  return d;
}

RemoteRecord remote(const char* addr, std::uint64_t up, std::uint64_t down,
                    std::uint64_t connections) {
  RemoteRecord r;
  r.addr = *core::IpAddress::parse(addr);
  r.host = addr;
  r.bytes_up = up;
  r.bytes_down = down;
  r.connections = connections;
  return r;
}

// curl (10) and nginx (20) both talk to 192.0.2.1; nginx also to 192.0.2.2; unattributed
// traffic goes to 198.51.100.7.
Snapshot host() {
  Snapshot s;
  s.processes = {proc(10, "curl", "curl https://example.net/"),
                 proc(20, "nginx", "nginx: worker process"), proc(std::nullopt, "<UNKNOWN>", "")};
  s.connections = {conn(10, "192.0.2.1", 100, 1000, 5), conn(20, "192.0.2.1", 7, 70, 1),
                   conn(20, "192.0.2.2", 8, 80, 2), conn(std::nullopt, "198.51.100.7", 9, 90, 3)};
  s.remotes = {remote("192.0.2.1", 107, 1070, 2), remote("192.0.2.2", 8, 80, 1),
               remote("198.51.100.7", 9, 90, 1)};
  s.dns = {dns(10, "example.net"), dns(20, "upstream.example"), dns(std::nullopt, "other")};
  s.totals.bytes_up = 124;
  return s;
}

TEST(SnapshotFilter, pid_keeps_that_process_its_connections_dns_and_recounted_remotes) {
  Snapshot s = host();
  SnapshotFilter f;
  f.pids = {20};
  apply_filter(s, f);
  ASSERT_EQ(s.processes.size(), 1u);
  EXPECT_EQ(s.processes[0].name, "nginx");
  ASSERT_EQ(s.connections.size(), 2u);
  EXPECT_TRUE(std::all_of(s.connections.begin(), s.connections.end(),
                          [](const ConnectionRecord& c) { return c.pid == 20; }));
  // 192.0.2.1 is shared with curl: only nginx's part of it is left.
  ASSERT_EQ(s.remotes.size(), 2u);
  EXPECT_EQ(s.remotes[0].host, "192.0.2.1");
  EXPECT_EQ(s.remotes[0].bytes_up, 7u);
  EXPECT_EQ(s.remotes[0].bytes_down, 70u);
  EXPECT_EQ(s.remotes[0].connections, 1u);
  EXPECT_DOUBLE_EQ(s.remotes[0].rate_down, 1);
  EXPECT_EQ(s.remotes[1].host, "192.0.2.2");
  ASSERT_EQ(s.dns.size(), 1u);
  EXPECT_EQ(s.dns[0].query, "upstream.example");
  EXPECT_EQ(s.totals.bytes_up, 124u);  // totals still describe the whole host
}

TEST(SnapshotFilter, regex_searches_the_name_and_the_command_line) {
  Snapshot by_cmdline = host();
  SnapshotFilter f;
  f.set_pattern("example\\.net");  // in curl's command line only
  apply_filter(by_cmdline, f);
  ASSERT_EQ(by_cmdline.processes.size(), 1u);
  EXPECT_EQ(by_cmdline.processes[0].pid, 10);
  ASSERT_EQ(by_cmdline.connections.size(), 1u);
  ASSERT_EQ(by_cmdline.remotes.size(), 1u);
  EXPECT_EQ(by_cmdline.remotes[0].connections, 1u);
  ASSERT_EQ(by_cmdline.dns.size(), 1u);
  EXPECT_EQ(by_cmdline.dns[0].query, "example.net");

  // pids and a pattern add up; the <UNKNOWN> group matches by its name.
  Snapshot both = host();
  SnapshotFilter g;
  g.pids = {10};
  g.set_pattern("^<UNK");
  apply_filter(both, g);
  ASSERT_EQ(both.processes.size(), 2u);
  EXPECT_EQ(both.connections.size(), 2u);
  ASSERT_EQ(both.dns.size(), 2u);
  EXPECT_EQ(both.dns[1].query, "other");
  EXPECT_EQ(both.remotes.size(), 2u);
}

TEST(SnapshotFilter, no_match_leaves_empty_tables_and_an_empty_filter_changes_nothing) {
  Snapshot s = host();
  SnapshotFilter f;
  f.pids = {99};
  apply_filter(s, f);
  EXPECT_TRUE(s.processes.empty());
  EXPECT_TRUE(s.connections.empty());
  EXPECT_TRUE(s.remotes.empty());
  EXPECT_TRUE(s.dns.empty());

  Snapshot all = host();
  apply_filter(all, SnapshotFilter{});
  EXPECT_EQ(all.processes.size(), 3u);
  EXPECT_EQ(all.connections.size(), 4u);
  EXPECT_EQ(all.remotes.size(), 3u);
  EXPECT_EQ(all.dns.size(), 3u);
}

// A process that only asked a local stub resolver (its loopback flow hidden) has DNS
// transactions but no connection, so a tick lists no process record for it: the filter
// still keeps its transactions when it names that pid or matches its name.
TEST(SnapshotFilter, dns_of_a_named_process_without_connections_is_kept) {
  Snapshot by_pid = host();
  DnsEventRecord asked = dns(30, "only.dns.example");
  asked.process = "host";
  by_pid.dns.push_back(asked);
  Snapshot by_name = by_pid;
  SnapshotFilter pid;
  pid.pids = {30};
  apply_filter(by_pid, pid);
  ASSERT_EQ(by_pid.dns.size(), 1u);
  EXPECT_EQ(by_pid.dns[0].query, "only.dns.example");
  EXPECT_TRUE(by_pid.processes.empty());
  SnapshotFilter name;
  name.set_pattern("^host$");
  apply_filter(by_name, name);
  ASSERT_EQ(by_name.dns.size(), 1u);
  EXPECT_EQ(by_name.dns[0].pid, 30);
}

TEST(SnapshotFilter, a_malformed_pattern_throws) {
  SnapshotFilter f;
  EXPECT_THROW(f.set_pattern("(unclosed"), std::regex_error);
  EXPECT_TRUE(f.empty());
}

}  // namespace
}  // namespace netscope::monitor
