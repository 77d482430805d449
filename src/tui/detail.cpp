#include "tui/detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "tui/state.hpp"

namespace netscope::tui {

namespace {

using monitor::ConnectionRecord;
using monitor::DnsEventRecord;
using monitor::ProcessRecord;

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : sanitize(s);
}

std::string time_of_day(core::Timestamp t) {
  // "HH:MM:SS.mmm" UTC, from the RFC 3339 text.
  const std::string full = core::to_rfc3339(t);
  const auto tpos = full.find('T');
  if (tpos == std::string::npos || full.size() < tpos + 13) return full;
  return full.substr(tpos + 1, 12);
}

std::string health_line(std::string_view label, const monitor::TcpHealthRecord& h) {
  return fmt::format(
      "{}: retransmissions {} (fast {}, spurious {}), out of order {}, dup ACKs {} ({} "
      "events), zero windows {}, RSTs {}",
      label, h.retransmissions, h.fast_retransmissions, h.spurious_retransmissions, h.out_of_order,
      h.dup_acks, h.dup_ack_events, h.zero_windows, h.rsts);
}

// /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses,
// so the fields after it start at the last ')'.
std::optional<std::pair<pid_t, std::string>> proc_parent(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  long ppid = 0;
  if (!(rest >> state >> ppid)) return std::nullopt;
  return std::make_pair(static_cast<pid_t>(ppid), line.substr(open + 1, close - open - 1));
}

std::string proc_comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

std::vector<const ConnectionRecord*> detail_connections(const Frame& f, const DetailLevel& d) {
  std::vector<const ConnectionRecord*> out;
  if (d.table == Table::processes) {
    if (const ProcessRecord* p = f.process(d.key)) out = f.connections_of(*p);
  } else if (d.table == Table::remotes) {
    out = f.connections_to(d.key.remote_addr);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ConnectionRecord* a, const ConnectionRecord* b) {
                     const double wa = a->rate_up + a->rate_down;
                     const double wb = b->rate_up + b->rate_down;
                     if (wa != wb) return wa > wb;
                     return a->bytes_up + a->bytes_down > b->bytes_up + b->bytes_down;
                   });
  return out;
}

std::vector<const DnsEventRecord*> detail_dns(const Frame& f, const DetailLevel& d) {
  std::vector<const DnsEventRecord*> out;
  if (d.table != Table::processes) return out;
  const ProcessRecord* p = f.process(d.key);
  if (p == nullptr) return out;
  // The "<UNKNOWN>" row holds its groups' histories merged (build_frame).
  for (auto it = p->dns_history.rbegin(); it != p->dns_history.rend(); ++it) out.push_back(&*it);
  return out;
}

std::string ppid_chain(const ProcessRecord& p, const monitor::Snapshot& s, bool read_proc) {
  std::string out;
  std::set<pid_t> seen;
  std::optional<pid_t> next = p.ppid;
  if (p.pid) seen.insert(*p.pid);
  for (int depth = 0; depth < 16 && next && *next > 0 && !seen.count(*next); ++depth) {
    const pid_t pid = *next;
    seen.insert(pid);
    std::string name;
    next.reset();
    for (const ProcessRecord& q : s.processes) {
      if (q.pid == pid) {
        name = q.name;
        next = q.ppid;
        break;
      }
    }
    if (name.empty() && read_proc) {
      if (auto parent = proc_parent(pid)) {
        name = parent->second;
        next = parent->first;
      } else {
        name = proc_comm(pid);
      }
    }
    if (!out.empty()) out += " < ";
    out += std::to_string(pid);
    if (!name.empty()) out += " " + sanitize(name);
  }
  return out;
}

std::vector<std::string> process_lines(const ProcessRecord& p, const Frame& f,
                                       const ModelOptions& opt) {
  std::vector<std::string> out;
  const monitor::Snapshot* s = f.snapshot.get();
  if (!p.pid) {
    out.push_back(std::string(kUnknownProcess) + ": traffic no process could be named");
    for (const ProcessRecord* g : f.unknown_groups) {
      out.push_back(fmt::format(
          "  reason {}: {} connections, down {} up {}", or_dash(g->unknown_reason), g->connections,
          format_total(g->bytes_down, opt.units), format_total(g->bytes_up, opt.units)));
    }
    return out;
  }
  out.push_back(
      fmt::format("pid: {}   name: {}{}", *p.pid, sanitize(p.name), p.exited ? "   (exited)" : ""));
  if (s != nullptr) {
    const std::string chain = ppid_chain(p, *s, !s->replay);
    out.push_back("parents: " + (chain.empty() ? std::string("-") : chain));
  }
  std::string user = p.user.empty() ? "-" : sanitize(p.user);
  if (p.uid) user += fmt::format(" (uid {})", *p.uid);
  std::string container = or_dash(p.container);
  if (!p.container_runtime.empty()) container += " (" + sanitize(p.container_runtime) + ")";
  out.push_back("user: " + user + "   container: " + container);
  if (!p.pod_uid.empty() || !p.unit.empty()) {
    out.push_back("pod: " + or_dash(p.pod_uid) + "   unit: " + or_dash(p.unit));
  }
  out.push_back("cmdline: " + or_dash(p.cmdline));
  out.push_back("exe: " + or_dash(p.exe));
  if (p.start_time) out.push_back("started: " + core::to_rfc3339(*p.start_time));
  out.push_back(fmt::format(
      "down: {} ({})   up: {} ({})   connections: {}", format_rate(p.rate_down, opt.units),
      format_total(p.bytes_down, opt.units), format_rate(p.rate_up, opt.units),
      format_total(p.bytes_up, opt.units), p.connections));
  return out;
}

std::vector<std::string> connection_lines(const ConnectionRecord& c, const monitor::Snapshot& s,
                                          const ModelOptions& opt) {
  std::vector<std::string> out;
  auto add = [&](std::string_view label, const std::string& value) {
    out.push_back(fmt::format("{:<20}{}", label, value));
  };
  add("protocol", c.proto_name.empty() ? std::to_string(c.proto) : c.proto_name);
  add("local", endpoint_text(c.local_addr, c.local_port, c.proto, true));
  add("remote", endpoint_text(c.remote_addr, c.remote_port, c.proto, true));
  add("remote host", or_dash(c.remote_host));
  add("service", or_dash(c.service));
  add("interface", or_dash(c.interface));
  add("state", or_dash(c.state) + (c.state_heuristic ? " (inferred from packet sizes)" : ""));
  add("kernel state", or_dash(c.kernel_state));
  if (c.pid) {
    add("process", fmt::format("{} (pid {})", or_dash(c.process), *c.pid));
  } else {
    add("process", std::string(kUnknownProcess));
  }
  std::string why = c.attribution;
  if (c.attribution.rfind("unknown:", 0) == 0) why += "  (" + c.attribution.substr(8) + ")";
  add("attribution", or_dash(why));
  add("down",
      fmt::format("{}  total {}  {} packets  payload {}", format_rate(c.rate_down, opt.units),
                  format_total(c.bytes_down, opt.units), c.packets_down,
                  format_total(c.payload_bytes_down, opt.units)));
  add("up", fmt::format("{}  total {}  {} packets  payload {}", format_rate(c.rate_up, opt.units),
                        format_total(c.bytes_up, opt.units), c.packets_up,
                        format_total(c.payload_bytes_up, opt.units)));
  add("rtt", c.rtt_ms ? fmt::format("{:.3f} ms", *c.rtt_ms) : "-");
  add("first seen", core::to_rfc3339(c.first_seen));
  add("last seen", core::to_rfc3339(c.last_seen));
  const double idle = static_cast<double>(s.time.ns - c.last_seen.ns) / 1e9;
  add("idle", c.timeout_s > 0
                  ? fmt::format("{:.1f} s of a {:.0f} s timeout", std::max(0.0, idle), c.timeout_s)
                  : fmt::format("{:.1f} s", std::max(0.0, idle)));
  add("closed", c.closed ? "yes" + (c.close_reason.empty() ? "" : " (" + c.close_reason + ")")
                         : std::string("no"));
  if (c.proto == 6) {
    out.push_back("TCP health");
    out.push_back("  " + health_line("sent", c.health_up));
    out.push_back("  " + health_line("received", c.health_down));
  }
  out.push_back("Application (DPI)");
  add("  app", or_dash(c.dpi->app));
  add("  sni", or_dash(c.dpi->sni));
  add("  alpn", or_dash(c.dpi->alpn));
  add("  tls version", or_dash(c.dpi->tls_version));
  add("  tls offered", or_dash(c.dpi->tls_offered));
  add("  tls cipher", or_dash(c.dpi->tls_cipher));
  add("  ja3", or_dash(c.dpi->ja3));
  add("  ja4", or_dash(c.dpi->ja4));
  add("  http host", or_dash(c.dpi->http_host));
  add("  http method", or_dash(c.dpi->http_method));
  add("  http path", or_dash(c.dpi->http_path));
  add("  user agent", or_dash(c.dpi->http_user_agent));
  add("  http status", c.dpi->http_status ? std::to_string(*c.dpi->http_status) : "-");
  add("  ssh client", or_dash(c.dpi->ssh_client));
  add("  ssh server", or_dash(c.dpi->ssh_server));
  add("  quic version", or_dash(c.dpi->quic_version));
  add("  ndpi app", or_dash(c.dpi->ndpi_app));  // build option NETSCOPE_NDPI
  add("  ndpi category", or_dash(c.dpi->ndpi_category));
  out.push_back("Remote");
  add("  country", or_dash(c.country));
  add("  asn", c.asn ? fmt::format("AS{} {}", *c.asn, sanitize(c.asn_org)) : "-");
  add("  alert", or_dash(c.alert));
  return out;
}

std::vector<std::string> remote_lines(const monitor::RemoteRecord& r, const ModelOptions& opt) {
  std::vector<std::string> out;
  out.push_back("address: " + r.addr.to_string() + "   host: " + or_dash(r.host));
  out.push_back("country: " + or_dash(r.country) + "   asn: " +
                (r.asn ? fmt::format("AS{} {}", *r.asn, sanitize(r.asn_org)) : std::string("-")));
  out.push_back(fmt::format(
      "down: {} ({})   up: {} ({})   connections: {}", format_rate(r.rate_down, opt.units),
      format_total(r.bytes_down, opt.units), format_rate(r.rate_up, opt.units),
      format_total(r.bytes_up, opt.units), r.connections));
  return out;
}

std::string dns_line(const DnsEventRecord& d) {
  std::string answers;
  for (const std::string& a : d.answers) {
    if (!answers.empty()) answers += ",";
    answers += a;
  }
  return fmt::format("{} {:<5} {} {} {} {}", time_of_day(d.time), sanitize(d.qtype),
                     sanitize(d.query), d.rcode ? sanitize(*d.rcode) : std::string("(no answer)"),
                     d.latency_ms ? fmt::format("{:.1f}ms", *d.latency_ms) : std::string("-"),
                     sanitize(answers));
}

}  // namespace netscope::tui
