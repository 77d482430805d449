#include "output/json_lines.hpp"

#include "output/json_records.hpp"
#include "output/ranking.hpp"

namespace netscope::output {

namespace {

template <typename Record, typename Build>
void table(JsonObjectWriter& w, std::string_view key, const std::vector<Record>& records,
           const RankOptions& opt, Build build) {
  w.begin_array(key);
  for (const Record* r : rank(pointers_to(records), opt)) w.element(build(*r));
  w.end_array();
}

}  // namespace

void append_tick_json_line(const monitor::Snapshot& snap, const JsonOptions& opt,
                           std::string& line) {
  const bool all = !(opt.processes || opt.connections || opt.remotes);
  const RankOptions rank_opt{.by_bytes = false, .active_only = false, .top = opt.top};
  // Record by record into the line: never the whole tick as a Json tree.
  JsonObjectWriter w(line, -1);
  w.member("schema", kTickSchema);
  w.member("time", core::to_rfc3339(snap.time));
  w.member("tick", snap.tick);
  w.member("window_s", snap.window_s);
  w.member("replay", snap.replay);
  w.member("end_of_input", snap.end_of_input);
  w.member("totals", totals_json(snap.totals));
  w.begin_array("interfaces");
  for (const monitor::InterfaceRecord& i : snap.interfaces) w.element(interface_json(i));
  w.end_array();
  if (all || opt.processes) table(w, "processes", snap.processes, rank_opt, process_json);
  if (all || opt.connections) table(w, "connections", snap.connections, rank_opt, connection_json);
  if (all || opt.remotes) table(w, "remotes", snap.remotes, rank_opt, remote_json);
  w.begin_array("dns");
  for (const monitor::DnsEventRecord& d : snap.dns) w.element(dns_json(d));
  w.end_array();
  w.end("\n");
}

std::string tick_json_line(const monitor::Snapshot& snap, const JsonOptions& opt) {
  std::string line;
  append_tick_json_line(snap, opt, line);
  return line;
}

void write_tick_json(const monitor::Snapshot& snap, const JsonOptions& opt, std::ostream& out) {
  const std::string line = tick_json_line(snap, opt);
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

}  // namespace netscope::output
