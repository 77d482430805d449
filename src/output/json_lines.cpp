#include "output/json_lines.hpp"

#include "output/json_records.hpp"
#include "output/ranking.hpp"

namespace netscope::output {

namespace {

template <typename Record, typename Build>
Json table(const std::vector<Record>& records, const RankOptions& opt, Build build) {
  Json rows = Json::array();
  for (const Record* r : rank(pointers_to(records), opt)) rows.push_back(build(*r));
  return rows;
}

}  // namespace

std::string tick_json_line(const monitor::Snapshot& snap, const JsonOptions& opt) {
  const bool all = !(opt.processes || opt.connections || opt.remotes);
  const RankOptions rank_opt{.by_bytes = false, .active_only = false, .top = opt.top};
  Json j = Json::object();
  j["schema"] = kTickSchema;
  j["time"] = core::to_rfc3339(snap.time);
  j["tick"] = snap.tick;
  j["window_s"] = snap.window_s;
  j["replay"] = snap.replay;
  j["end_of_input"] = snap.end_of_input;
  j["totals"] = totals_json(snap.totals);
  Json interfaces = Json::array();
  for (const monitor::InterfaceRecord& i : snap.interfaces) interfaces.push_back(interface_json(i));
  j["interfaces"] = std::move(interfaces);
  if (all || opt.processes) j["processes"] = table(snap.processes, rank_opt, process_json);
  if (all || opt.connections) j["connections"] = table(snap.connections, rank_opt, connection_json);
  if (all || opt.remotes) j["remotes"] = table(snap.remotes, rank_opt, remote_json);
  Json dns = Json::array();
  for (const monitor::DnsEventRecord& d : snap.dns) dns.push_back(dns_json(d));
  j["dns"] = std::move(dns);
  std::string line = dump_json(j);
  line += '\n';
  return line;
}

void write_tick_json(const monitor::Snapshot& snap, const JsonOptions& opt, std::ostream& out) {
  const std::string line = tick_json_line(snap, opt);
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

}  // namespace netscope::output
