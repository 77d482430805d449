#pragma once
// Hand-built snapshots for the writer tests: one busy process with a TCP connection to
// a named remote, and helpers to add more rows.

#include <string>

#include "monitor/snapshot.hpp"

namespace netscope::output::testing {

inline core::IpAddress ip(const char* text) {
  return *core::IpAddress::parse(text);
}

// 2023-11-14T22:13:20.250000Z
inline constexpr core::Timestamp kTime = core::Timestamp::from_sec_usec(1700000000, 250000);

inline monitor::ConnectionRecord tcp_connection(const char* remote, std::uint16_t local_port,
                                                std::uint16_t remote_port, double up, double down) {
  monitor::ConnectionRecord c;
  c.proto = 6;
  c.proto_name = "tcp";
  c.local_addr = ip("10.0.0.1");
  c.local_port = local_port;
  c.remote_addr = ip(remote);
  c.remote_port = remote_port;
  c.interface = "eth0";
  c.state = "ESTABLISHED";
  c.pid = 4242;
  c.process = "curl";
  c.attribution = "exact";
  c.rate_up = up;
  c.rate_down = down;
  c.bytes_up = 1000;
  c.bytes_down = 5000;
  c.first_seen = core::Timestamp::from_sec_usec(1699999990, 1);
  c.last_seen = core::Timestamp::from_sec_usec(1700000000, 123456);
  return c;
}

inline monitor::ProcessRecord process(const char* name, int pid, double up, double down,
                                      std::uint64_t connections) {
  monitor::ProcessRecord p;
  p.pid = pid;
  p.name = name;
  p.rate_up = up;
  p.rate_down = down;
  p.bytes_up = 1000;
  p.bytes_down = 5000;
  p.connections = connections;
  return p;
}

inline monitor::RemoteRecord remote(const char* addr, double up, double down,
                                    std::uint64_t connections) {
  monitor::RemoteRecord r;
  r.addr = ip(addr);
  r.rate_up = up;
  r.rate_down = down;
  r.bytes_up = 1000;
  r.bytes_down = 5000;
  r.connections = connections;
  return r;
}

inline monitor::Snapshot busy_snapshot() {
  monitor::Snapshot s;
  s.time = kTime;
  s.started = core::Timestamp::from_sec_usec(1699999970, 0);
  s.tick = 30;
  s.processes.push_back(process("curl", 4242, 123.9, 456.2, 1));
  s.connections.push_back(tcp_connection("10.0.0.2", 43012, 443, 123.9, 456.2));
  s.connections.back().remote_host = "example.net";
  s.remotes.push_back(remote("10.0.0.2", 123.9, 456.2, 1));
  s.remotes.back().host = "example.net";
  monitor::InterfaceRecord eth0;
  eth0.name = "eth0";
  eth0.bytes_up = 1000;
  eth0.bytes_down = 5000;
  eth0.packets = 12;
  eth0.drops = 3;
  s.interfaces.push_back(eth0);
  s.totals.bytes_up = 1000;
  s.totals.bytes_down = 5000;
  s.totals.packets = 12;
  return s;
}

}  // namespace netscope::output::testing
