#include "output/prometheus_metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "snapshot_builder.hpp"

using namespace netscope;
using namespace netscope::output;
using namespace netscope::output::testing;

namespace {

using Key = std::tuple<std::string, std::string, std::string>;

monitor::ProcessRecord proc(const char* name, int pid, std::uint64_t up, std::uint64_t down) {
  monitor::ProcessRecord p = process(name, pid, 0, 0, 1);
  p.bytes_up = up;
  p.bytes_down = down;
  p.packets_up = up / 100;
  p.packets_down = down / 100;
  p.user = "ana";
  return p;
}

monitor::Snapshot tick(std::uint64_t n, std::vector<monitor::ProcessRecord> procs) {
  monitor::Snapshot s;
  s.time = core::Timestamp::from_sec_usec(1700000000 + static_cast<std::int64_t>(n), 0);
  s.tick = n;
  s.processes = std::move(procs);
  return s;
}

std::uint64_t total(const std::map<Key, TrafficCounters>& series) {
  std::uint64_t t = 0;
  for (const auto& [k, c] : series) t += c.bytes_up + c.bytes_down;
  return t;
}

// The value of one sample line in the exposition text, or -1.
long long value_of(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

}  // namespace

TEST(PrometheusMetrics, process_counters_survive_the_process_leaving_the_snapshot) {
  PrometheusMetrics m(PrometheusOptions{});
  m.update(tick(0, {proc("curl", 10, 100, 1000)}));
  m.update(tick(1, {proc("curl", 10, 300, 5000)}));
  m.update(tick(2, {}));  // idle: not in the snapshot
  auto s = m.process_series();
  EXPECT_EQ(s[Key("curl", "ana", "")].bytes_up, 300u);
  EXPECT_EQ(s[Key("curl", "ana", "")].bytes_down, 5000u);
  EXPECT_EQ(s[Key("curl", "ana", "")].packets_down, 50u);
  // Back with more: only the growth is added, not the whole total again.
  m.update(tick(3, {proc("curl", 10, 400, 5000)}));
  EXPECT_EQ(m.process_series()[Key("curl", "ana", "")].bytes_up, 400u);
}

TEST(PrometheusMetrics, processes_of_one_name_user_and_container_share_a_series) {
  PrometheusMetrics m(PrometheusOptions{});
  m.update(tick(0, {proc("curl", 10, 100, 0), proc("curl", 11, 50, 0)}));
  m.update(tick(1, {proc("curl", 11, 70, 0)}));  // pid 10 exited
  m.update(tick(2, {proc("curl", 12, 5, 0)}));   // a new one
  EXPECT_EQ(m.process_series()[Key("curl", "ana", "")].bytes_up, 175u);
}

TEST(PrometheusMetrics, a_shrinking_unknown_group_never_makes_a_counter_go_backwards) {
  PrometheusMetrics m(PrometheusOptions{});
  monitor::ProcessRecord unknown = proc("<UNKNOWN>", 0, 0, 1000);
  unknown.pid.reset();
  unknown.user.clear();
  m.update(tick(0, {unknown}));
  // Attributed late: 600 of those bytes move to the process.
  unknown.bytes_down = 400;
  m.update(tick(1, {unknown, proc("iperf3", 20, 0, 600)}));
  auto s = m.process_series();
  EXPECT_EQ(s[Key("<UNKNOWN>", "", "")].bytes_down, 1000u);
  EXPECT_EQ(s[Key("iperf3", "ana", "")].bytes_down, 600u);
  // New unknown traffic counts again once past the high-water mark.
  unknown.bytes_down = 1100;
  m.update(tick(2, {unknown}));
  EXPECT_EQ(m.process_series()[Key("<UNKNOWN>", "", "")].bytes_down, 1100u);
}

TEST(PrometheusMetrics, top_n_bounds_the_series_and_the_rest_is_other) {
  PrometheusOptions opt;
  opt.top = 2;
  PrometheusMetrics m(opt);
  m.update(tick(0, {proc("a", 1, 0, 9000), proc("b", 2, 0, 5000), proc("c", 3, 0, 100),
                    proc("d", 4, 0, 50)}));
  auto s = m.process_series();
  EXPECT_EQ(s.size(), 3u);  // a, b, other
  EXPECT_EQ(s[Key("a", "ana", "")].bytes_down, 9000u);
  EXPECT_EQ(s[Key("b", "ana", "")].bytes_down, 5000u);
  EXPECT_EQ(s[Key("other", "", "")].bytes_down, 150u);
  EXPECT_EQ(total(s), 14150u);
}

TEST(PrometheusMetrics, counters_never_go_backwards_when_a_process_leaves_the_top) {
  PrometheusOptions opt;
  opt.top = 1;
  PrometheusMetrics m(opt);
  std::uint64_t a = 1000, b = 10, sum_before = 0;
  std::map<Key, TrafficCounters> before;
  bool b_promoted = false;
  for (std::uint64_t t = 0; t < 40; ++t) {
    b += t < 5 ? 10 : 100'000;  // b becomes much busier than a
    a += 100;
    m.update(tick(t, {proc("a", 1, 0, a), proc("b", 2, 0, b)}));
    const auto now = m.process_series();
    EXPECT_LE(now.size(), 2u);
    EXPECT_GE(total(now), sum_before) << "tick " << t;
    EXPECT_EQ(total(now), a + b) << "tick " << t;  // nothing lost, nothing counted twice
    for (const auto& [k, c] : now) {
      if (auto it = before.find(k); it != before.end()) {
        EXPECT_GE(c.bytes_down, it->second.bytes_down) << std::get<0>(k) << " tick " << t;
      }
    }
    b_promoted = b_promoted || now.contains(Key("b", "ana", ""));
    sum_before = total(now);
    before = now;
  }
  EXPECT_TRUE(b_promoted);
  EXPECT_FALSE(m.process_series().contains(Key("a", "ana", "")));
}

TEST(PrometheusMetrics, a_process_named_other_never_gets_a_series_of_its_own) {
  PrometheusMetrics m(PrometheusOptions{});
  monitor::ProcessRecord p = proc("other", 5, 10, 20);
  p.user.clear();
  m.update(tick(0, {p}));
  const std::string text = m.render();
  EXPECT_EQ(
      value_of(
          text,
          R"(netscope_process_bytes_total{process="other",user="",container="",direction="down"})"),
      20);
  // One "other" series per direction, no second one for the real process.
  std::size_t n = 0;
  for (std::size_t at = text.find("netscope_process_bytes_total{process=\"other\"");
       at != std::string::npos;
       at = text.find("netscope_process_bytes_total{process=\"other\"", at + 1)) {
    ++n;
  }
  EXPECT_EQ(n, 2u);
}

TEST(PrometheusMetrics, renders_interfaces_tcp_health_rtt_and_dns) {
  PrometheusMetrics m(PrometheusOptions{.top = 20, .version = "1.2.3", .half_life_s = 300});
  monitor::Snapshot s = busy_snapshot();
  s.connections[0].health_up.retransmissions = 3;
  s.connections[0].health_down.zero_windows = 2;
  s.connections[0].rtt_ms = 12.0;
  monitor::DnsEventRecord nx;
  nx.rcode = "NXDOMAIN";
  nx.latency_ms = 3;
  monitor::DnsEventRecord lost;
  s.dns = {nx, nx, lost};
  m.update(s);
  // Next tick: the connection grew and has one more retransmission; the DNS events are new.
  s.tick += 1;
  s.time.ns += 1'000'000'000;
  s.connections[0].health_up.retransmissions = 4;
  s.connections[0].bytes_up += 100;
  s.dns = {nx};
  s.interfaces[0].bytes_up = 900;  // a value that shrank is never exported lower
  m.update(s);
  const std::string text = m.render();
  EXPECT_EQ(value_of(text, R"(netscope_build_info{version="1.2.3"})"), 1);
  EXPECT_EQ(value_of(text, R"(netscope_tcp_retransmissions_total{direction="up"})"), 4);
  EXPECT_EQ(value_of(text, R"(netscope_tcp_zero_windows_total{direction="down"})"), 2);
  EXPECT_EQ(value_of(text, R"(netscope_dns_queries_total{rcode="NXDOMAIN"})"), 3);
  EXPECT_EQ(value_of(text, R"(netscope_dns_queries_total{rcode="no_response"})"), 1);
  EXPECT_EQ(value_of(text, R"(netscope_dns_latency_seconds_bucket{le="0.0025"})"), 0);
  EXPECT_EQ(value_of(text, R"(netscope_dns_latency_seconds_bucket{le="0.005"})"), 3);
  // One RTT sample per tick with traffic: the first tick (new) and the second (grew).
  EXPECT_EQ(value_of(text, R"(netscope_tcp_rtt_seconds_bucket{le="0.01"})"), 0);
  EXPECT_EQ(value_of(text, R"(netscope_tcp_rtt_seconds_bucket{le="0.025"})"), 2);
  EXPECT_EQ(value_of(text, "netscope_tcp_rtt_seconds_count"), 2);
  EXPECT_EQ(value_of(text, R"(netscope_interface_bytes_total{interface="eth0",direction="up"})"),
            1000);
  EXPECT_EQ(value_of(text, R"(netscope_interface_drops_total{interface="eth0"})"), 3);
  EXPECT_EQ(value_of(text, R"(netscope_connections{proto="tcp",state="ESTABLISHED"})"), 1);
  EXPECT_EQ(value_of(text, "netscope_ticks_total"), 2);
}

TEST(PrometheusMetrics, every_family_has_help_and_type_before_its_samples_once) {
  PrometheusMetrics m(PrometheusOptions{});
  m.update(busy_snapshot());
  std::istringstream in(m.render());
  std::string line;
  std::map<std::string, int> types;
  std::string current;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(++types[current], 1) << current;
      continue;
    }
    if (line[0] == '#') continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(current, 0), 0u) << line;  // histogram suffixes share the prefix
  }
  EXPECT_GE(types.size(), 20u);
}

TEST(PrometheusText, label_values_are_escaped_and_made_valid_utf8) {
  std::string out;
  append_label_value(out, "a\\b\"c\nd");
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd");
  out.clear();
  append_label_value(out, "caf\xc3\xa9");
  EXPECT_EQ(out, "caf\xc3\xa9");
  out.clear();
  append_label_value(out, "x\xff\xc3");  // a stray byte and a truncated sequence
  EXPECT_EQ(out, "x\xef\xbf\xbd\xef\xbf\xbd");
  out.clear();
  append_label_value(out, "\xed\xa0\x80");  // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  out.clear();
  append_help_text(out, "a\\b\nc\"");
  EXPECT_EQ(out, "a\\\\b\\nc\"");
}
