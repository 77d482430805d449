// --json-lines --events: which events consecutive snapshots give, once each, in time order.
#include "output/events.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "snapshot_builder.hpp"

using namespace netscope;
using namespace netscope::output;
using namespace netscope::output::testing;

namespace {

std::vector<nlohmann::json> parse(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  return out;
}

std::vector<std::string> kinds(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> k;
  for (const auto& e : events) {
    EXPECT_EQ(e["schema"], "netscope.event/1");
    k.push_back(e["event"]);
  }
  return k;
}

monitor::Snapshot snap(std::vector<monitor::ConnectionRecord> cs,
                       std::vector<monitor::DnsEventRecord> dns = {}) {
  monitor::Snapshot s;
  s.time = kTime;
  s.connections = std::move(cs);
  s.dns = std::move(dns);
  return s;
}

TEST(Events, OpenOnceCloseOnceThenForgotten) {
  EventTracker t;
  monitor::ConnectionRecord c = tcp_connection("93.184.216.34", 43012, 443, 1, 2);
  auto e = parse(t.lines(snap({c})));
  ASSERT_EQ(kinds(e), std::vector<std::string>{"connection_open"});
  EXPECT_EQ(e[0]["time"], core::to_rfc3339(c.first_seen));
  EXPECT_EQ(e[0]["local_port"], 43012);
  EXPECT_EQ(e[0]["remote_addr"], "93.184.216.34");
  EXPECT_EQ(e[0]["process"], "curl");
  EXPECT_TRUE(t.lines(snap({c})).empty());
  c.closed = true;
  c.close_reason = "closed";
  e = parse(t.lines(snap({c})));
  ASSERT_EQ(kinds(e), std::vector<std::string>{"connection_close"});
  EXPECT_EQ(e[0]["time"], core::to_rfc3339(c.last_seen));
  EXPECT_EQ(e[0]["close_reason"], "closed");
  EXPECT_TRUE(t.lines(snap({c})).empty());
  EXPECT_TRUE(t.lines(snap({})).empty());
  // Listed again after being forgotten: the same connection would be new; a different
  // first_seen is a different connection (port reuse).
  c.closed = false;
  c.first_seen.ns += 1000;
  EXPECT_EQ(kinds(parse(t.lines(snap({c})))), std::vector<std::string>{"connection_open"});
}

TEST(Events, OpenedAndClosedBetweenTicksGivesBothInOrder) {
  EventTracker t;
  monitor::ConnectionRecord c = tcp_connection("10.0.0.9", 5000, 80, 0, 0);
  c.closed = true;
  c.close_reason = "closed";
  EXPECT_EQ(kinds(parse(t.lines(snap({c})))),
            (std::vector<std::string>{"connection_open", "connection_close"}));
}

TEST(Events, DnsAndAlertsDeduplicated) {
  EventTracker t;
  monitor::ConnectionRecord c = tcp_connection("203.0.113.5", 5001, 443, 0, 0);
  c.alert = "203.0.113.0/24";
  monitor::DnsEventRecord d;
  d.time = core::Timestamp{c.first_seen.ns - 1000};
  d.pid = 4242;
  d.process = "curl";
  d.server = ip("10.0.0.53");
  d.query = "bad.example";
  d.qtype = "A";
  d.rcode = "NOERROR";
  d.rcode_code = 0;
  d.answers = {"203.0.113.5"};
  d.latency_ms = 1.5;
  d.alert = "bad.example";
  auto e = parse(t.lines(snap({c}, {d})));
  ASSERT_EQ(kinds(e), (std::vector<std::string>{"dns", "alert", "connection_open", "alert"}));
  EXPECT_EQ(e[0]["query"], "bad.example");
  EXPECT_EQ(e[0]["rcode"], "NOERROR");
  EXPECT_EQ(e[1]["source"], "dns");
  EXPECT_EQ(e[1]["alert"], "bad.example");
  EXPECT_EQ(e[1]["dns"]["query"], "bad.example");
  EXPECT_EQ(e[3]["source"], "connection");
  EXPECT_EQ(e[3]["alert"], "203.0.113.0/24");
  EXPECT_EQ(e[3]["connection"]["remote_port"], 443);
  // Same connection and the same query again: a dns event, no new alert.
  d.time.ns += 5;
  e = parse(t.lines(snap({c}, {d})));
  EXPECT_EQ(kinds(e), std::vector<std::string>{"dns"});
}

TEST(Events, BoundedDnsAlertMemory) {
  EventTracker t(2);
  std::vector<monitor::DnsEventRecord> qs;
  for (const char* q : {"a.bad", "b.bad", "c.bad", "a.bad"}) {
    monitor::DnsEventRecord d;
    d.time = kTime;
    d.query = q;
    d.alert = q;
    qs.push_back(d);
  }
  const auto e = parse(t.lines(snap({}, qs)));
  std::size_t alerts = 0;
  for (const auto& x : e) alerts += x["event"] == "alert" ? 1 : 0;
  EXPECT_EQ(alerts, 4u);  // the set was cleared at its bound, so a.bad alerts again
}

}  // namespace
