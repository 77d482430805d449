#include "output/json_lines.hpp"

#include "output/json_records.hpp"

namespace netscope::output {

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
  w.array("interfaces", snap.interfaces, interface_json);
  if (all || opt.processes) w.ranked_array("processes", snap.processes, rank_opt, process_json);
  if (all || opt.connections) {
    w.ranked_array(
        "connections", snap.connections, rank_opt,
        [&](const monitor::ConnectionRecord& c) { return connection_json(c, snap.time); });
  }
  if (all || opt.remotes) w.ranked_array("remotes", snap.remotes, rank_opt, remote_json);
  w.array("dns", snap.dns, dns_json);
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
