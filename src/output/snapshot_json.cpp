#include "output/snapshot_json.hpp"

#include <cmath>

#include "output/json_records.hpp"

namespace netscope::output {

namespace {

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
  // Tables by cumulative bytes: the rates of the last window say little about a whole run.
  const RankOptions by_bytes{.by_bytes = true, .active_only = false, .top = 0};
  w.ranked_array("processes", snap.processes, by_bytes, process_json);
  w.ranked_array("connections", snap.connections, by_bytes,
                 [&](const monitor::ConnectionRecord& c) { return connection_json(c, snap.time); });
  w.ranked_array("remotes", snap.remotes, by_bytes, remote_json);
  w.array("dns", snap.dns, dns_json);
  w.array("interfaces", snap.interfaces, interface_json);
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
