#include "output/raw.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "output/ranking.hpp"

namespace netscope::output {

namespace {

using monitor::ConnectionRecord;
using monitor::ProcessRecord;
using monitor::RemoteRecord;

// bandwhich prints unattributed traffic under this name (its UNKNOWN process).
constexpr std::string_view kUnknown = "<UNKNOWN>";

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::int64_t unix_seconds(core::Timestamp t) {
  std::int64_t sec = t.ns / 1'000'000'000;
  if (t.ns % 1'000'000'000 < 0) --sec;  // round toward the past for pre-1970 times
  return sec;
}

std::uint64_t whole(double rate) {
  if (!std::isfinite(rate) || rate <= 0) return 0;
  return static_cast<std::uint64_t>(std::floor(rate));
}

// The "up/down Bps: U/D" values of one row.
template <typename T>
std::pair<std::uint64_t, std::uint64_t> up_down(const T& r, bool totals) {
  if (totals) return {r.bytes_up, r.bytes_down};
  return {whole(r.rate_up), whole(r.rate_down)};
}

std::string remote_text(const core::IpAddress& addr, const std::string& host, bool resolve) {
  if (resolve && !host.empty()) return printable(host);
  return addr.to_string();  // IPv6 without brackets, as bandwhich's IpAddr Display
}

// Every unattributed group folded into one "<UNKNOWN>" process, as bandwhich shows it.
std::vector<const ProcessRecord*> merge_unknown(const std::vector<ProcessRecord>& all,
                                                ProcessRecord& merged) {
  std::vector<const ProcessRecord*> rows;
  bool any_unknown = false;
  merged = ProcessRecord{};
  merged.name = std::string(kUnknown);
  for (const ProcessRecord& p : all) {
    if (p.pid) {
      rows.push_back(&p);
      continue;
    }
    any_unknown = true;
    merged.bytes_up += p.bytes_up;
    merged.bytes_down += p.bytes_down;
    merged.rate_up += p.rate_up;
    merged.rate_down += p.rate_down;
    merged.connections += p.connections;
  }
  if (any_unknown) rows.push_back(&merged);
  return rows;
}

using Out = std::back_insert_iterator<std::string>;

// bandwhich (src/display/ui.rs, output_text):
//   "process: <{timestamp}> \"{}\" up/down Bps: {}/{} connections: {}"
std::size_t write_processes(Out out, const monitor::Snapshot& snap, const RawOptions& opt,
                            const RankOptions& rank_opt, std::int64_t t) {
  ProcessRecord merged;
  const auto rows = rank(merge_unknown(snap.processes, merged), rank_opt);
  for (const ProcessRecord* p : rows) {
    const auto [up, down] = up_down(*p, opt.totals);
    const std::string name = p->name.empty() ? std::string(kUnknown) : printable(p->name);
    fmt::format_to(out, "process: <{}> \"{}\" up/down Bps: {}/{} connections: {}\n", t, name, up,
                   down, p->connections);
  }
  return rows.size();
}

// bandwhich (ui.rs output_text and network/connection.rs display_connection_string):
//   "connection: <{timestamp}> {} up/down Bps: {}/{} process: \"{}\"" where the
//   connection is "<{interface_name}>:{local port} => {remote ip or host}:{port} ({proto})"
std::size_t write_connections(Out out, const monitor::Snapshot& snap, const RawOptions& opt,
                              const RankOptions& rank_opt, std::int64_t t) {
  const auto rows = rank(pointers_to(snap.connections), rank_opt);
  for (const ConnectionRecord* c : rows) {
    const auto [up, down] = up_down(*c, opt.totals);
    const std::string proto = c->proto_name.empty() ? std::to_string(c->proto) : c->proto_name;
    const std::string process = c->process.empty() ? std::string(kUnknown) : printable(c->process);
    fmt::format_to(out,
                   "connection: <{}> <{}>:{} => {}:{} ({}) up/down Bps: {}/{} process: \"{}\"\n", t,
                   printable(c->interface), c->local_port,
                   remote_text(c->remote_addr, c->remote_host, opt.resolve), c->remote_port,
                   printable(proto), up, down, process);
  }
  return rows.size();
}

// bandwhich (ui.rs output_text):
//   "remote_address: <{timestamp}> {} up/down Bps: {}/{} connections: {}"
std::size_t write_remotes(Out out, const monitor::Snapshot& snap, const RawOptions& opt,
                          const RankOptions& rank_opt, std::int64_t t) {
  const auto rows = rank(pointers_to(snap.remotes), rank_opt);
  for (const RemoteRecord* r : rows) {
    const auto [up, down] = up_down(*r, opt.totals);
    fmt::format_to(out, "remote_address: <{}> {} up/down Bps: {}/{} connections: {}\n", t,
                   remote_text(r->addr, r->host, opt.resolve), up, down, r->connections);
  }
  return rows.size();
}

}  // namespace

void write_raw(const monitor::Snapshot& snap, const RawOptions& opt, std::ostream& out) {
  const bool all = !(opt.processes || opt.connections || opt.remotes);
  const RankOptions rank_opt{.by_bytes = opt.totals, .active_only = true, .top = opt.top};
  const std::int64_t t = unix_seconds(snap.time);
  std::string block = "Refreshing:\n";
  const Out it(block);
  std::size_t lines = 0;
  // bandwhich's order: processes, connections, remote addresses.
  if (all || opt.processes) lines += write_processes(it, snap, opt, rank_opt, t);
  if (all || opt.connections) lines += write_connections(it, snap, opt, rank_opt, t);
  if (all || opt.remotes) lines += write_remotes(it, snap, opt, rank_opt, t);
  if (lines == 0) block += "<NO TRAFFIC>\n";
  block += '\n';
  out.write(block.data(), static_cast<std::streamsize>(block.size()));
}

}  // namespace netscope::output
