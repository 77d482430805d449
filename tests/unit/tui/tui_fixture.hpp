#pragma once
// Hand-built snapshots for the TUI tests: a few processes, connections and remotes with
// chosen rates, so that the expected sort orders are obvious from the values.

#include <memory>
#include <string>

#include "monitor/snapshot.hpp"
#include "tui/model.hpp"

namespace netscope::tui::testing {

inline core::IpAddress ip(const char* text) {
  return *core::IpAddress::parse(text);
}

inline constexpr core::Timestamp kNow = core::Timestamp::from_sec_usec(1700000000, 0);

inline monitor::ConnectionRecord conn(const char* remote, std::uint16_t lport, std::uint16_t rport,
                                      double up, double down, std::optional<pid_t> pid,
                                      const char* process) {
  monitor::ConnectionRecord c;
  c.proto = 6;
  c.proto_name = "tcp";
  c.local_addr = ip("10.0.0.1");
  c.local_port = lport;
  c.remote_addr = ip(remote);
  c.remote_port = rport;
  c.state = "ESTABLISHED";
  c.pid = pid;
  c.process = process;
  c.attribution = pid ? "exact" : "unknown:closed";
  c.rate_up = up;
  c.rate_down = down;
  c.bytes_up = static_cast<std::uint64_t>(up * 10);
  c.bytes_down = static_cast<std::uint64_t>(down * 10);
  c.first_seen = core::Timestamp::from_sec_usec(1699999990, 0);
  c.last_seen = kNow;
  c.timeout_s = 100;
  return c;
}

inline monitor::ProcessRecord proc(const char* name, std::optional<pid_t> pid, double up,
                                   double down) {
  monitor::ProcessRecord p;
  p.pid = pid;
  p.name = pid ? name : "<UNKNOWN>";
  p.user = "alice";
  p.rate_up = up;
  p.rate_down = down;
  p.bytes_up = static_cast<std::uint64_t>(up * 10);
  p.bytes_down = static_cast<std::uint64_t>(down * 10);
  p.connections = 1;
  if (!pid) p.unknown_reason = name;
  for (int i = 0; i < 10; ++i) p.history.push_back({up * i / 10, down * i / 10});
  return p;
}

inline monitor::RemoteRecord remote(const char* addr, const char* host, double up, double down) {
  monitor::RemoteRecord r;
  r.addr = ip(addr);
  r.host = host;
  r.rate_up = up;
  r.rate_down = down;
  r.connections = 1;
  return r;
}

// curl (pid 100) and firefox (pid 200) with one connection each, and one unattributed
// connection in two "<UNKNOWN>" groups.
inline std::shared_ptr<monitor::Snapshot> sample_snapshot() {
  auto s = std::make_shared<monitor::Snapshot>();
  s->time = kNow;
  s->started = core::Timestamp::from_sec_usec(1699999900, 0);
  s->connections.push_back(conn("93.184.216.34", 40000, 443, 10, 5000, 100, "curl"));
  s->connections.push_back(conn("140.82.112.3", 40001, 443, 300, 200, 200, "firefox"));
  s->connections.push_back(conn("192.0.2.7", 40002, 80, 50, 0, std::nullopt, ""));
  s->connections[1].remote_host = "github.com";
  s->connections[1].dpi.edit().sni = "github.com";
  s->processes.push_back(proc("curl", 100, 10, 5000));
  s->processes.push_back(proc("firefox", 200, 300, 200));
  s->processes.push_back(proc("closed", std::nullopt, 50, 0));
  s->processes.push_back(proc("offline", std::nullopt, 1, 1));
  s->remotes.push_back(remote("93.184.216.34", "", 10, 5000));
  s->remotes.push_back(remote("140.82.112.3", "github.com", 300, 200));
  s->remotes.push_back(remote("192.0.2.7", "", 50, 0));
  s->totals.rate_down = 5200;
  s->totals.rate_up = 360;
  s->totals.flows = 3;
  s->interfaces.push_back({"eth0", 0, 0, 0, 0, true, ""});
  return s;
}

inline Frame frame_of(std::shared_ptr<const monitor::Snapshot> s, const Filter& f = Filter{},
                      const ModelOptions& opt = ModelOptions{}) {
  const SortSpec sorts[kTables] = {default_sort(Table::processes), default_sort(Table::connections),
                                   default_sort(Table::remotes)};
  return build_frame(std::move(s), f, sorts, opt);
}

inline std::size_t column_index(Table t, ColumnId id) {
  const auto& cols = columns(t);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].id == id) return i;
  }
  return cols.size();
}

}  // namespace netscope::tui::testing
