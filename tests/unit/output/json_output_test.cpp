#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "output/json_lines.hpp"
#include "output/json_records.hpp"
#include "output/ranking.hpp"
#include "output/snapshot_json.hpp"
#include "snapshot_builder.hpp"

using namespace netscope;
using namespace netscope::output;
using namespace netscope::output::testing;
using nlohmann::json;

namespace {

// The snapshot's time the records are written at: 1.5 s after their last packet.
const core::Timestamp kNow = core::Timestamp::from_sec_usec(1700000001, 623456);

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  return keys;
}

const std::vector<std::string> kConnectionKeys{"proto",
                                               "local_addr",
                                               "local_port",
                                               "remote_addr",
                                               "remote_port",
                                               "remote_host",
                                               "country",
                                               "asn",
                                               "asn_org",
                                               "service",
                                               "interface",
                                               "state",
                                               "kernel_state",
                                               "pid",
                                               "process",
                                               "attribution",
                                               "bytes_up",
                                               "bytes_down",
                                               "packets_up",
                                               "packets_down",
                                               "payload_bytes_up",
                                               "payload_bytes_down",
                                               "rate_up",
                                               "rate_down",
                                               "rtt_ms",
                                               "first_seen",
                                               "last_seen",
                                               "closed",
                                               "close_reason",
                                               "timeout_s",
                                               "staleness",
                                               "health_up",
                                               "health_down",
                                               "app",
                                               "sni",
                                               "alpn",
                                               "tls_version",
                                               "ja3",
                                               "ja4",
                                               "http_host",
                                               "http_method",
                                               "http_path",
                                               "http_status",
                                               "ssh_client",
                                               "ssh_server",
                                               "quic_version",
                                               "tls_offered",
                                               "tls_cipher",
                                               "http_user_agent",
                                               "ndpi_app",
                                               "ndpi_category",
                                               "state_heuristic",
                                               "alert"};

const std::vector<std::string> kProcessKeys{
    "pid",         "ppid",       "name",         "cmdline",           "exe",
    "uid",         "user",       "container",    "container_runtime", "pod_uid",
    "unit",        "start_time", "exited",       "unknown_reason",    "bytes_up",
    "bytes_down",  "packets_up", "packets_down", "rate_up",           "rate_down",
    "connections", "history",    "dns_history"};

bool is_rfc3339_micro(const std::string& s) {
  static const std::regex re(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  return std::regex_match(s, re);
}

json tick(const monitor::Snapshot& s, const JsonOptions& opt = {}) {
  return json::parse(tick_json_line(s, opt));
}

}  // namespace

TEST(JsonRecords, connection_has_every_documented_key_in_order) {
  const auto j = connection_json(busy_snapshot().connections[0], kNow);
  EXPECT_EQ(keys_of(j), kConnectionKeys);
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["local_addr"], "10.0.0.1");
  EXPECT_EQ(j["local_port"], 43012);
  EXPECT_EQ(j["remote_host"], "example.net");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["attribution"], "exact");
  EXPECT_DOUBLE_EQ(j["rate_up"].get<double>(), 123.9);
  EXPECT_EQ(j["first_seen"], "2023-11-14T22:13:10.000001Z");
  EXPECT_EQ(j["last_seen"], "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(j["closed"], false);
  EXPECT_TRUE(j["health_up"].is_object());
  EXPECT_EQ(keys_of(j["health_down"]),
            (std::vector<std::string>{"retransmissions", "fast_retransmissions",
                                      "spurious_retransmissions", "out_of_order", "dup_acks",
                                      "dup_ack_events", "zero_windows", "rsts"}));
}

TEST(JsonRecords, unknown_connection_values_are_null_never_zero_or_empty) {
  monitor::ConnectionRecord c = tcp_connection("10.0.0.2", 1, 2, 0, 0);
  c.pid.reset();
  c.process.clear();
  c.remote_host.clear();
  c.kernel_state.clear();
  c.attribution = "unknown:closed";
  const auto j = connection_json(c, kNow);
  for (const char* key :
       {"pid",         "process",      "remote_host", "service",    "kernel_state",
        "rtt_ms",      "close_reason", "app",         "sni",        "alpn",
        "tls_version", "ja3",          "ja4",         "http_host",  "http_method",
        "http_path",   "http_status",  "ssh_client",  "ssh_server", "quic_version"}) {
    EXPECT_TRUE(j[key].is_null()) << key;
  }
  EXPECT_EQ(j["attribution"], "unknown:closed");
  for (const char* key : {"country", "asn", "asn_org"}) EXPECT_TRUE(j[key].is_null()) << key;
}

TEST(JsonRecords, dpi_fields_and_service_carry_their_values) {
  monitor::ConnectionRecord c = tcp_connection("10.0.0.2", 43012, 443, 0, 0);
  c.service = "https";
  c.dpi.edit().app = "TLS";
  c.dpi.edit().sni = "example.net";
  c.dpi.edit().alpn = "h2,http/1.1";
  c.dpi.edit().tls_version = "TLS 1.3";
  c.dpi.edit().ja3 = "0123456789abcdef0123456789abcdef";
  c.dpi.edit().ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
  const auto j = connection_json(c, kNow);
  EXPECT_EQ(j["service"], "https");
  EXPECT_EQ(j["app"], "TLS");
  EXPECT_EQ(j["sni"], "example.net");
  EXPECT_EQ(j["alpn"], "h2,http/1.1");
  EXPECT_EQ(j["tls_version"], "TLS 1.3");
  EXPECT_EQ(j["ja3"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(j["ja4"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_TRUE(j["http_host"].is_null());
  EXPECT_TRUE(j["http_status"].is_null());
  EXPECT_EQ(j["state_heuristic"], false);

  monitor::ConnectionRecord h = tcp_connection("10.0.0.3", 43013, 80, 0, 0);
  h.dpi.edit().app = "HTTP";
  h.dpi.edit().http_host = "example.org";
  h.dpi.edit().http_method = "GET";
  h.dpi.edit().http_path = "/index.html";
  h.dpi.edit().http_status = 404;
  const auto hj = connection_json(h, kNow);
  EXPECT_EQ(hj["http_host"], "example.org");
  EXPECT_EQ(hj["http_method"], "GET");
  EXPECT_EQ(hj["http_path"], "/index.html");
  EXPECT_EQ(hj["http_status"], 404);  // an integer, not a string
  EXPECT_TRUE(hj["sni"].is_null());

  monitor::ConnectionRecord q = tcp_connection("10.0.0.4", 43014, 22, 0, 0);
  q.dpi.edit().app = "SSH";
  q.state = "SSH_ESTABLISHED";
  q.state_heuristic = true;
  q.dpi.edit().ssh_client = "SSH-2.0-OpenSSH_9.2p1";
  q.dpi.edit().ssh_server = "SSH-2.0-OpenSSH_8.4";
  const auto qj = connection_json(q, kNow);
  EXPECT_EQ(qj["state"], "SSH_ESTABLISHED");
  EXPECT_EQ(qj["state_heuristic"], true);
  EXPECT_EQ(qj["ssh_client"], "SSH-2.0-OpenSSH_9.2p1");
  EXPECT_EQ(qj["ssh_server"], "SSH-2.0-OpenSSH_8.4");
}

TEST(JsonRecords, process_dns_history_uses_the_dns_event_keys) {
  monitor::ProcessRecord p = process("curl", 4242, 0, 0, 1);
  monitor::DnsEventRecord d;
  d.time = kTime;
  d.pid = 4242;
  d.process = "curl";
  d.server = ip("10.0.0.53");
  d.query = "example.net";
  d.qtype = "AAAA";
  d.rcode = "NOERROR";
  d.rcode_code = 0;
  d.answers = {"2001:db8::1"};
  d.latency_ms = 1.5;
  p.dns_history.push_back(d);
  const auto j = process_json(p);
  ASSERT_EQ(j["dns_history"].size(), 1U);
  EXPECT_EQ(j["dns_history"][0], dns_json(d));
  EXPECT_EQ(j["dns_history"][0]["answers"].dump(), R"(["2001:db8::1"])");
  EXPECT_EQ(j["dns_history"][0]["pid"], 4242);
}

TEST(JsonRecords, icmp_has_no_ports_and_no_tcp_health) {
  monitor::ConnectionRecord c = tcp_connection("10.0.0.2", 0, 0, 1, 1);
  c.proto = 1;
  c.proto_name = "icmp";
  c.rtt_ms = 1.23456789;
  const auto j = connection_json(c, kNow);
  EXPECT_TRUE(j["local_port"].is_null());
  EXPECT_TRUE(j["remote_port"].is_null());
  EXPECT_TRUE(j["health_up"].is_null());
  EXPECT_TRUE(j["health_down"].is_null());
  EXPECT_DOUBLE_EQ(j["rtt_ms"].get<double>(), 1.235);
}

TEST(JsonRecords, closed_connection_says_why) {
  monitor::ConnectionRecord c = tcp_connection("10.0.0.2", 5, 6, 0, 0);
  c.closed = true;
  c.close_reason = "idle_timeout";
  c.timeout_s = 7440;
  const auto j = connection_json(c, kNow);
  EXPECT_EQ(j["closed"], true);
  EXPECT_EQ(j["close_reason"], "idle_timeout");
  EXPECT_EQ(j["timeout_s"], 7440);
}

TEST(JsonRecords, staleness_is_the_fraction_of_the_timeout_since_the_last_packet) {
  monitor::ConnectionRecord c = tcp_connection("10.0.0.2", 5, 6, 0, 0);
  c.timeout_s = 6;  // kNow is 1.5 s after last_seen
  EXPECT_DOUBLE_EQ(connection_json(c, kNow)["staleness"].get<double>(), 0.25);
  c.timeout_s = 1;  // past the timeout: clamped
  EXPECT_DOUBLE_EQ(connection_json(c, kNow)["staleness"].get<double>(), 1.0);
  c.timeout_s = 0;  // no timeout known (an ended connection)
  EXPECT_TRUE(connection_json(c, kNow)["staleness"].is_null());
  c.timeout_s = 300;  // a packet after the snapshot's time (clock step): not negative
  EXPECT_DOUBLE_EQ(connection_json(c, c.first_seen)["staleness"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(monitor::staleness(c, kNow), 1.5 / 300);
}

TEST(JsonRecords, process_keys_nulls_and_history) {
  monitor::ProcessRecord p = process("nginx", 77, 1.5, 2.5, 3);
  p.ppid = 1;
  p.uid = 33;
  p.user = "www-data";
  p.start_time = core::Timestamp::from_sec_usec(1700000000, 0);
  p.history = {{1, 2}, {3.0004, 4}};
  const auto j = process_json(p);
  EXPECT_EQ(keys_of(j), kProcessKeys);
  EXPECT_EQ(j["uid"], 33);
  EXPECT_EQ(j["start_time"], "2023-11-14T22:13:20.000000Z");
  EXPECT_TRUE(j["cmdline"].is_null());
  EXPECT_TRUE(j["exe"].is_null());
  EXPECT_TRUE(j["container"].is_null());
  EXPECT_TRUE(j["container_runtime"].is_null());
  EXPECT_TRUE(j["pod_uid"].is_null());
  EXPECT_TRUE(j["unit"].is_null());
  EXPECT_TRUE(j["unknown_reason"].is_null());
  EXPECT_EQ(j["history"].dump(), "[[1.0,2.0],[3.0,4.0]]");
  p.container = "4f1b2c3d4e5f";
  p.container_runtime = "cri-o";
  p.pod_uid = "8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f";
  p.unit = "nginx.service";
  const auto in_pod = process_json(p);
  EXPECT_EQ(in_pod["container"], "4f1b2c3d4e5f");
  EXPECT_EQ(in_pod["container_runtime"], "cri-o");
  EXPECT_EQ(in_pod["pod_uid"], "8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f");
  EXPECT_EQ(in_pod["unit"], "nginx.service");

  monitor::ProcessRecord unknown;
  unknown.name = "<UNKNOWN>";
  unknown.unknown_reason = "forwarded";
  const auto u = process_json(unknown);
  EXPECT_TRUE(u["pid"].is_null());
  EXPECT_TRUE(u["ppid"].is_null());
  EXPECT_TRUE(u["uid"].is_null());
  EXPECT_TRUE(u["start_time"].is_null());
  EXPECT_EQ(u["unknown_reason"], "forwarded");
  EXPECT_EQ(u["history"].dump(), "[]");
  EXPECT_EQ(u["dns_history"].dump(), "[]");
}

TEST(JsonRecords, remote_interface_and_dns_keys) {
  monitor::RemoteRecord r = remote("2001:db8::7", 1, 2, 1);
  r.asn = 64500;
  const auto rj = remote_json(r);
  EXPECT_EQ(keys_of(rj),
            (std::vector<std::string>{"addr", "host", "country", "asn", "asn_org", "bytes_up",
                                      "bytes_down", "rate_up", "rate_down", "connections"}));
  EXPECT_EQ(rj["addr"], "2001:db8::7");
  EXPECT_TRUE(rj["host"].is_null());
  EXPECT_TRUE(rj["country"].is_null());
  EXPECT_EQ(rj["asn"], 64500);

  const auto ij = interface_json(busy_snapshot().interfaces[0]);
  EXPECT_EQ(keys_of(ij), (std::vector<std::string>{"name", "bytes_up", "bytes_down", "packets",
                                                   "drops", "up", "error"}));
  EXPECT_EQ(ij["drops"], 3);
  EXPECT_TRUE(ij["error"].is_null());

  monitor::DnsEventRecord pending;
  pending.time = kTime;
  pending.server = ip("10.0.0.53");
  pending.query = "example.net";
  pending.qtype = "A";
  const auto pj = dns_json(pending);
  EXPECT_EQ(keys_of(pj),
            (std::vector<std::string>{"time", "pid", "process", "server", "query", "qtype", "rcode",
                                      "rcode_code", "answers", "latency_ms", "alert"}));
  EXPECT_TRUE(pj["rcode"].is_null());
  EXPECT_TRUE(pj["answers"].is_null());  // no response yet: unknown, not empty
  EXPECT_TRUE(pj["latency_ms"].is_null());

  monitor::DnsEventRecord nx = pending;
  nx.rcode = "NXDOMAIN";
  nx.rcode_code = 3;
  nx.latency_ms = 12.3456;
  const auto nj = dns_json(nx);
  EXPECT_EQ(nj["rcode"], "NXDOMAIN");
  EXPECT_EQ(nj["rcode_code"], 3);
  EXPECT_EQ(nj["answers"].dump(), "[]");
  EXPECT_DOUBLE_EQ(nj["latency_ms"].get<double>(), 12.346);
}

TEST(JsonLines, one_line_per_tick_with_the_tick_schema) {
  monitor::Snapshot s = busy_snapshot();
  s.replay = true;
  monitor::DnsEventRecord d;
  d.time = kTime;
  d.query = "example.net";
  s.dns.push_back(d);
  std::ostringstream out;
  write_tick_json(s, {}, out);
  s.tick = 31;
  write_tick_json(s, {}, out);
  const std::string text = out.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  std::istringstream lines(text);
  std::string line;
  std::uint64_t want_tick = 30;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::ordered_json::parse(line);
    EXPECT_EQ(keys_of(j), (std::vector<std::string>{"schema", "time", "tick", "window_s", "replay",
                                                    "end_of_input", "totals", "interfaces",
                                                    "processes", "connections", "remotes", "dns"}));
    EXPECT_EQ(j["schema"], "netscope.tick/1");
    EXPECT_EQ(j["time"], "2023-11-14T22:13:20.250000Z");
    EXPECT_EQ(j["tick"], want_tick++);
    EXPECT_EQ(j["replay"], true);
    EXPECT_EQ(j["totals"]["bytes_down"], 5000);
    EXPECT_EQ(j["interfaces"][0]["drops"], 3);
    EXPECT_EQ(j["processes"][0]["name"], "curl");
    EXPECT_EQ(j["connections"][0]["remote_port"], 443);
    EXPECT_EQ(j["remotes"][0]["host"], "example.net");
    EXPECT_EQ(j["dns"][0]["query"], "example.net");
    EXPECT_TRUE(is_rfc3339_micro(j["dns"][0]["time"]));
  }
}

TEST(JsonLines, table_flags_leave_out_unselected_tables) {
  JsonOptions opt;
  opt.connections = opt.remotes = false;
  const auto j = tick(busy_snapshot(), opt);
  EXPECT_TRUE(j.contains("processes"));
  EXPECT_FALSE(j.contains("connections"));
  EXPECT_FALSE(j.contains("remotes"));
  EXPECT_TRUE(j.contains("interfaces"));
  EXPECT_TRUE(j.contains("dns"));
  JsonOptions none;
  none.processes = none.connections = none.remotes = false;
  EXPECT_EQ(tick(busy_snapshot(), none), tick(busy_snapshot()));
}

TEST(JsonLines, rows_by_rate_including_idle_ones_and_top) {
  monitor::Snapshot s;
  s.time = kTime;
  s.processes = {process("idle", 1, 0, 0, 1), process("busy", 2, 9, 9, 1),
                 process("mid", 3, 1, 1, 1)};
  auto j = tick(s);
  ASSERT_EQ(j["processes"].size(), 3U);
  EXPECT_EQ(j["processes"][0]["name"], "busy");
  EXPECT_EQ(j["processes"][2]["name"], "idle");
  JsonOptions opt;
  opt.top = 2;
  j = tick(s, opt);
  ASSERT_EQ(j["processes"].size(), 2U);
  EXPECT_EQ(j["processes"][1]["name"], "mid");
}

TEST(JsonLines, invalid_utf8_is_replaced_not_thrown) {
  monitor::Snapshot s = busy_snapshot();
  s.processes[0].cmdline = std::string("bad\xff\xfe name\n");
  std::string line;
  ASSERT_NO_THROW(line = tick_json_line(s, {}));
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  const auto j = json::parse(line);
  EXPECT_EQ(j["processes"][0]["cmdline"], "bad\xEF\xBF\xBD\xEF\xBF\xBD name\n");
}

TEST(SnapshotDocument, whole_run_document_pretty_printed) {
  monitor::Snapshot s = busy_snapshot();
  monitor::ProcessRecord gone = process("wget", 99, 0, 0, 0);
  gone.exited = true;
  gone.bytes_up = 1;
  gone.bytes_down = 100000;
  s.processes.push_back(gone);
  monitor::ConnectionRecord closed = tcp_connection("10.0.0.8", 40000, 80, 0, 0);
  closed.closed = true;
  closed.close_reason = "closed";
  s.connections.push_back(closed);
  std::ostringstream out;
  write_snapshot_document(s, out);
  const std::string text = out.str();
  EXPECT_EQ(text.substr(0, 37), "{\n  \"schema\": \"netscope.snapshot/1\",\n");
  EXPECT_EQ(text.back(), '\n');
  const auto j = nlohmann::ordered_json::parse(text);
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"schema", "started", "ended", "duration_s",
                                                  "window_s", "processes", "connections", "remotes",
                                                  "dns", "interfaces", "totals"}));
  EXPECT_EQ(j["started"], "2023-11-14T22:12:50.000000Z");
  EXPECT_EQ(j["ended"], "2023-11-14T22:13:20.250000Z");
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 30.25);
  // Ordered by cumulative bytes: the exited wget moved the most.
  ASSERT_EQ(j["processes"].size(), 2U);
  EXPECT_EQ(j["processes"][0]["name"], "wget");
  EXPECT_EQ(j["processes"][0]["exited"], true);
  ASSERT_EQ(j["connections"].size(), 2U);
  EXPECT_EQ(j["connections"][1]["close_reason"], "closed");
  EXPECT_EQ(j["interfaces"][0]["drops"], 3);
  EXPECT_EQ(keys_of(j["totals"]),
            (std::vector<std::string>{"bytes_up", "bytes_down", "packets", "rate_up", "rate_down",
                                      "packets_per_s", "flows", "flows_evicted", "kernel_drops",
                                      "attribution_overflow", "closed_dropped", "dns_events",
                                      "dns_dropped"}));
}

// The documents are written record by record (JsonObjectWriter); nlohmann's serializer
// on the whole tree is the oracle for every byte of the layout.
namespace {

monitor::Snapshot varied_snapshot() {
  monitor::Snapshot s = busy_snapshot();
  monitor::ProcessRecord odd = process("bad\xff\xfe name", 77, 5, 6, 1);
  odd.cmdline = "tab\tquote\" backslash\\ newline\n";
  s.processes.push_back(odd);
  monitor::ConnectionRecord closed = tcp_connection("10.0.0.8", 40000, 80, 0, 0);
  closed.closed = true;
  closed.close_reason = "closed";
  closed.dpi.edit().sni = "sni.example";
  s.connections.push_back(closed);
  monitor::DnsEventRecord d;
  d.time = kTime;
  d.query = "example.net";
  d.answers = {"192.0.2.1", "2001:db8::1"};
  d.rcode = "NOERROR";
  d.rcode_code = 0;
  d.latency_ms = 1.25;
  s.dns.push_back(d);
  return s;
}

template <typename Record, typename Build>
Json rows(const std::vector<Record>& records, bool by_bytes, std::size_t top, Build build) {
  Json out = Json::array();
  const RankOptions opt{.by_bytes = by_bytes, .active_only = false, .top = top};
  for (const Record* r : rank(pointers_to(records), opt)) out.push_back(build(*r));
  return out;
}

std::string document_as_tree(const monitor::Snapshot& s) {
  Json j = Json::object();
  j["schema"] = kSnapshotSchema;
  j["started"] = core::to_rfc3339(s.started);
  j["ended"] = core::to_rfc3339(s.time);
  j["duration_s"] = std::round(core::millis_between(s.started, s.time) * 1000.0) / 1e6;
  j["window_s"] = s.window_s;
  j["processes"] = rows(s.processes, true, 0, process_json);
  const auto conn = [&](const monitor::ConnectionRecord& c) { return connection_json(c, s.time); };
  j["connections"] = rows(s.connections, true, 0, conn);
  j["remotes"] = rows(s.remotes, true, 0, remote_json);
  Json dns = Json::array();
  for (const auto& d : s.dns) dns.push_back(dns_json(d));
  j["dns"] = dns;
  Json interfaces = Json::array();
  for (const auto& i : s.interfaces) interfaces.push_back(interface_json(i));
  j["interfaces"] = interfaces;
  j["totals"] = totals_json(s.totals);
  return dump_json(j, 2) + "\n";
}

std::string tick_as_tree(const monitor::Snapshot& s, const JsonOptions& opt) {
  const bool all = !(opt.processes || opt.connections || opt.remotes);
  Json j = Json::object();
  j["schema"] = kTickSchema;
  j["time"] = core::to_rfc3339(s.time);
  j["tick"] = s.tick;
  j["window_s"] = s.window_s;
  j["replay"] = s.replay;
  j["end_of_input"] = s.end_of_input;
  j["totals"] = totals_json(s.totals);
  Json interfaces = Json::array();
  for (const auto& i : s.interfaces) interfaces.push_back(interface_json(i));
  j["interfaces"] = interfaces;
  if (all || opt.processes) j["processes"] = rows(s.processes, false, opt.top, process_json);
  const auto conn = [&](const monitor::ConnectionRecord& c) { return connection_json(c, s.time); };
  if (all || opt.connections) j["connections"] = rows(s.connections, false, opt.top, conn);
  if (all || opt.remotes) j["remotes"] = rows(s.remotes, false, opt.top, remote_json);
  Json dns = Json::array();
  for (const auto& d : s.dns) dns.push_back(dns_json(d));
  j["dns"] = dns;
  return dump_json(j) + "\n";
}

}  // namespace

TEST(SnapshotDocument, written_record_by_record_as_the_whole_tree_would_print) {
  monitor::Snapshot busy = varied_snapshot();
  monitor::Snapshot empty;  // every table empty: "[]"
  empty.started = kTime;
  empty.time = kTime;
  for (const monitor::Snapshot* s : {&busy, &empty}) {
    const std::string want = document_as_tree(*s);
    EXPECT_EQ(snapshot_document(*s), want);
    // Through a stream, in pieces: the same bytes.
    std::ostringstream out;
    write_snapshot_document(*s, out);
    EXPECT_EQ(out.str(), want);
  }
  EXPECT_NE(document_as_tree(busy).find("\"dns\": [\n    {\n      \"time\""), std::string::npos);
  EXPECT_NE(document_as_tree(empty).find("\"processes\": [],\n"), std::string::npos);
}

TEST(SnapshotDocument, a_large_document_goes_out_in_pieces_with_the_same_bytes) {
  monitor::Snapshot s = varied_snapshot();
  const monitor::ConnectionRecord model = s.connections[0];
  for (std::uint16_t port = 1; port <= 2000; ++port) {  // ~2 MB: many kChunk pieces
    monitor::ConnectionRecord c = model;
    c.local_port = port;
    c.bytes_up = port;
    s.connections.push_back(c);
  }
  std::ostringstream out;
  write_snapshot_document(s, out);
  ASSERT_GT(out.str().size(), 20 * JsonObjectWriter::kChunk);
  EXPECT_EQ(out.str(), document_as_tree(s));
}

TEST(JsonLines, written_record_by_record_as_the_whole_tree_would_print) {
  monitor::Snapshot busy = varied_snapshot();
  monitor::Snapshot empty;
  empty.time = kTime;
  for (const monitor::Snapshot* s : {&busy, &empty}) {
    for (const JsonOptions& opt :
         {JsonOptions{}, JsonOptions{.processes = false, .connections = true, .remotes = false},
          JsonOptions{.processes = false, .connections = false, .remotes = false},
          JsonOptions{.processes = true, .connections = true, .remotes = true, .top = 1}}) {
      EXPECT_EQ(tick_json_line(*s, opt), tick_as_tree(*s, opt));
    }
  }
}
