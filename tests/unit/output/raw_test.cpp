#include "output/raw.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "snapshot_builder.hpp"

using namespace netscope;
using namespace netscope::output;
using namespace netscope::output::testing;

namespace {

std::string raw(const monitor::Snapshot& s, const RawOptions& opt = {}) {
  std::ostringstream out;
  write_raw(s, opt, out);
  return out.str();
}

}  // namespace

TEST(RawOutput, block_matches_bandwhich_line_for_line) {
  EXPECT_EQ(raw(busy_snapshot()),
            "Refreshing:\n"
            "process: <1700000000> \"curl\" up/down Bps: 123/456 connections: 1\n"
            "connection: <1700000000> <eth0>:43012 => example.net:443 (tcp) up/down Bps: "
            "123/456 process: \"curl\"\n"
            "remote_address: <1700000000> example.net up/down Bps: 123/456 connections: 1\n"
            "\n");
}

TEST(RawOutput, no_traffic_block) {
  monitor::Snapshot s;
  s.time = kTime;
  EXPECT_EQ(raw(s), "Refreshing:\n<NO TRAFFIC>\n\n");
}

TEST(RawOutput, idle_rows_are_not_traffic) {
  monitor::Snapshot s = busy_snapshot();
  s.processes[0].rate_up = s.processes[0].rate_down = 0;
  s.connections[0].rate_up = s.connections[0].rate_down = 0;
  s.remotes[0].rate_up = s.remotes[0].rate_down = 0;
  EXPECT_EQ(raw(s), "Refreshing:\n<NO TRAFFIC>\n\n");
}

TEST(RawOutput, totals_print_cumulative_bytes_of_idle_rows_too) {
  monitor::Snapshot s = busy_snapshot();
  s.processes[0].rate_up = s.processes[0].rate_down = 0;
  RawOptions opt;
  opt.totals = true;
  opt.connections = opt.remotes = false;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "process: <1700000000> \"curl\" up/down Bps: 1000/5000 connections: 1\n"
            "\n");
}

TEST(RawOutput, no_resolve_prints_addresses) {
  RawOptions opt;
  opt.resolve = false;
  opt.processes = false;
  EXPECT_EQ(raw(busy_snapshot(), opt),
            "Refreshing:\n"
            "connection: <1700000000> <eth0>:43012 => 10.0.0.2:443 (tcp) up/down Bps: 123/456 "
            "process: \"curl\"\n"
            "remote_address: <1700000000> 10.0.0.2 up/down Bps: 123/456 connections: 1\n"
            "\n");
}

TEST(RawOutput, ipv6_remote_is_printed_bare_like_bandwhich) {
  monitor::Snapshot s;
  s.time = kTime;
  s.connections.push_back(tcp_connection("2001:db8::1", 50000, 443, 10, 20));
  s.remotes.push_back(remote("2001:db8::1", 10, 20, 1));
  RawOptions opt;
  opt.processes = false;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "connection: <1700000000> <eth0>:50000 => 2001:db8::1:443 (tcp) up/down Bps: 10/20 "
            "process: \"curl\"\n"
            "remote_address: <1700000000> 2001:db8::1 up/down Bps: 10/20 connections: 1\n"
            "\n");
}

TEST(RawOutput, unattributed_traffic_is_one_unknown_process) {
  monitor::Snapshot s;
  s.time = kTime;
  monitor::ProcessRecord closed = process("<UNKNOWN>", 0, 100, 1, 2);
  closed.pid.reset();
  closed.unknown_reason = "closed";
  monitor::ProcessRecord forwarded = closed;
  forwarded.unknown_reason = "forwarded";
  forwarded.rate_up = 50;
  forwarded.connections = 1;
  s.processes = {closed, forwarded};
  s.connections.push_back(tcp_connection("10.0.0.9", 1234, 80, 7, 8));
  s.connections.back().pid.reset();
  s.connections.back().process.clear();
  s.connections.back().attribution = "unknown:closed";
  RawOptions opt;
  opt.remotes = false;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "process: <1700000000> \"<UNKNOWN>\" up/down Bps: 150/2 connections: 3\n"
            "connection: <1700000000> <eth0>:1234 => 10.0.0.9:80 (tcp) up/down Bps: 7/8 "
            "process: \"<UNKNOWN>\"\n"
            "\n");
}

TEST(RawOutput, table_flags_combine) {
  const monitor::Snapshot s = busy_snapshot();
  RawOptions only_remotes;
  only_remotes.processes = only_remotes.connections = false;
  EXPECT_EQ(raw(s, only_remotes),
            "Refreshing:\n"
            "remote_address: <1700000000> example.net up/down Bps: 123/456 connections: 1\n"
            "\n");
  RawOptions procs_and_remotes;
  procs_and_remotes.connections = false;
  const std::string two = raw(s, procs_and_remotes);
  EXPECT_NE(two.find("\nprocess: "), std::string::npos);
  EXPECT_EQ(two.find("\nconnection: "), std::string::npos);
  EXPECT_NE(two.find("\nremote_address: "), std::string::npos);
}

TEST(RawOutput, no_table_selected_means_every_table) {
  RawOptions none;
  none.processes = none.connections = none.remotes = false;
  EXPECT_EQ(raw(busy_snapshot(), none), raw(busy_snapshot()));
}

TEST(RawOutput, busiest_first_then_by_name_and_top_limits_each_table) {
  monitor::Snapshot s;
  s.time = kTime;
  s.processes = {process("zeta", 3, 10, 0, 1), process("big", 1, 500, 500, 1),
                 process("alpha", 2, 10, 0, 1), process("idle", 4, 0, 0, 1)};
  s.remotes = {remote("10.0.0.3", 1, 1, 1), remote("10.0.0.4", 9, 9, 1)};
  RawOptions opt;
  opt.connections = false;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "process: <1700000000> \"big\" up/down Bps: 500/500 connections: 1\n"
            "process: <1700000000> \"alpha\" up/down Bps: 10/0 connections: 1\n"
            "process: <1700000000> \"zeta\" up/down Bps: 10/0 connections: 1\n"
            "remote_address: <1700000000> 10.0.0.4 up/down Bps: 9/9 connections: 1\n"
            "remote_address: <1700000000> 10.0.0.3 up/down Bps: 1/1 connections: 1\n"
            "\n");
  opt.top = 1;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "process: <1700000000> \"big\" up/down Bps: 500/500 connections: 1\n"
            "remote_address: <1700000000> 10.0.0.4 up/down Bps: 9/9 connections: 1\n"
            "\n");
}

TEST(RawOutput, control_characters_cannot_break_a_line) {
  monitor::Snapshot s = busy_snapshot();
  s.processes[0].name = "evil\nprocess: <0>";
  RawOptions opt;
  opt.connections = opt.remotes = false;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "process: <1700000000> \"evil?process: <0>\" up/down Bps: 123/456 connections: 1\n"
            "\n");
}

TEST(RawOutput, icmp_has_port_zero_and_its_protocol_name) {
  monitor::Snapshot s;
  s.time = kTime;
  monitor::ConnectionRecord c = tcp_connection("10.0.0.2", 0, 0, 84, 84);
  c.proto = 1;
  c.proto_name = "icmp";
  s.connections.push_back(c);
  RawOptions opt;
  opt.connections = true;
  opt.processes = opt.remotes = false;
  EXPECT_EQ(raw(s, opt),
            "Refreshing:\n"
            "connection: <1700000000> <eth0>:0 => 10.0.0.2:0 (icmp) up/down Bps: 84/84 process: "
            "\"curl\"\n"
            "\n");
}
