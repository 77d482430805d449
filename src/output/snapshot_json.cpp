#include "output/snapshot_json.hpp"

#include <cmath>

#include "output/json_records.hpp"
#include "output/ranking.hpp"

namespace netscope::output {

namespace {

template <typename Record, typename Build>
void by_bytes(JsonObjectWriter& w, std::string_view key, const std::vector<Record>& records,
              Build build) {
  const RankOptions opt{.by_bytes = true, .active_only = false, .top = 0};
  w.begin_array(key);
  for (const Record* r : rank(pointers_to(records), opt)) w.element(build(*r));
  w.end_array();
}

template <typename Record, typename Build>
void in_order(JsonObjectWriter& w, std::string_view key, const std::vector<Record>& records,
              Build build) {
  w.begin_array(key);
  for (const Record& r : records) w.element(build(r));
  w.end_array();
}

// One record at a time: the document of a long run on a busy host holds hundreds of
// thousands of connections.
void write_document(const monitor::Snapshot& snap, std::string& text, std::ostream* sink) {
  JsonObjectWriter w(text, 2, sink);
  w.member("schema", kSnapshotSchema);
  w.member("started", core::to_rfc3339(snap.started));
  w.member("ended", core::to_rfc3339(snap.time));
  // Microsecond resolution, as the times above.
  w.member("duration_s", std::round(core::millis_between(snap.started, snap.time) * 1000.0) / 1e6);
  w.member("window_s", snap.window_s);
  by_bytes(w, "processes", snap.processes, process_json);
  by_bytes(w, "connections", snap.connections, connection_json);
  by_bytes(w, "remotes", snap.remotes, remote_json);
  in_order(w, "dns", snap.dns, dns_json);
  in_order(w, "interfaces", snap.interfaces, interface_json);
  w.member("totals", totals_json(snap.totals));
  w.end("\n");
}

}  // namespace

std::string snapshot_document(const monitor::Snapshot& snap) {
  std::string doc;
  write_document(snap, doc, nullptr);
  return doc;
}

void write_snapshot_document(const monitor::Snapshot& snap, std::ostream& out) {
  std::string buffer;
  write_document(snap, buffer, &out);
}

}  // namespace netscope::output
