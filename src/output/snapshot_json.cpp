#include "output/snapshot_json.hpp"

#include <cmath>

#include "output/json_records.hpp"
#include "output/ranking.hpp"

namespace netscope::output {

namespace {

template <typename Record, typename Build>
Json by_bytes(const std::vector<Record>& records, Build build) {
  Json rows = Json::array();
  const RankOptions opt{.by_bytes = true, .active_only = false, .top = 0};
  for (const Record* r : rank(pointers_to(records), opt)) rows.push_back(build(*r));
  return rows;
}

template <typename Record, typename Build>
Json in_order(const std::vector<Record>& records, Build build) {
  Json rows = Json::array();
  for (const Record& r : records) rows.push_back(build(r));
  return rows;
}

}  // namespace

std::string snapshot_document(const monitor::Snapshot& snap) {
  Json j = Json::object();
  j["schema"] = kSnapshotSchema;
  j["started"] = core::to_rfc3339(snap.started);
  j["ended"] = core::to_rfc3339(snap.time);
  // Microsecond resolution, as the times above.
  j["duration_s"] = std::round(core::millis_between(snap.started, snap.time) * 1000.0) / 1e6;
  j["window_s"] = snap.window_s;
  j["processes"] = by_bytes(snap.processes, process_json);
  j["connections"] = by_bytes(snap.connections, connection_json);
  j["remotes"] = by_bytes(snap.remotes, remote_json);
  j["dns"] = in_order(snap.dns, dns_json);
  j["interfaces"] = in_order(snap.interfaces, interface_json);
  j["totals"] = totals_json(snap.totals);
  std::string doc = dump_json(j, 2);
  doc += '\n';
  return doc;
}

void write_snapshot_document(const monitor::Snapshot& snap, std::ostream& out) {
  const std::string doc = snapshot_document(snap);
  out.write(doc.data(), static_cast<std::streamsize>(doc.size()));
}

}  // namespace netscope::output
