#pragma once
// The document `netscope snapshot --duration S --output FILE|-` writes: everything seen
// during the run, pretty-printed with two spaces.
//
//   {
//     "schema": "netscope.snapshot/1",
//     "started": "2026-11-21T23:45:00.000000Z",
//     "ended": "2026-11-21T23:45:30.000000Z",
//     "duration_s": 30.0,
//     "window_s": 5.0,
//     "processes": [...],     (exited ones too, with "exited": true)
//     "connections": [...],   (closed ones too, with "closed": true and "close_reason")
//     "remotes": [...],
//     "dns": [...],           (every DNS event of the run)
//     "interfaces": [...],    (with kernel "drops")
//     "totals": {...}
//   }
//
// Records are those of json_records.hpp. Tables are ordered by cumulative bytes, the
// largest first (ranking.hpp), since the rates of the last window say little about a
// whole run. The engine passes a snapshot whose tables and `dns` cover the whole run;
// `started` and `time` bound it.

#include <ostream>
#include <string>

#include "monitor/snapshot.hpp"

namespace netscope::output {

inline constexpr const char* kSnapshotSchema = "netscope.snapshot/1";

std::string snapshot_document(const monitor::Snapshot& snap);
// Writes the document and a final newline, in pieces as it is made (never the whole
// document in memory).
void write_snapshot_document(const monitor::Snapshot& snap, std::ostream& out);

}  // namespace netscope::output
