#pragma once
// --json-lines: one compact JSON object per refresh, on one line (JSON Lines), so that
// `netscope --json-lines | jq -c ...` can follow a live run:
//
//   {"schema":"netscope.tick/1","time":"2026-11-21T23:45:01.000000Z","tick":3,
//    "window_s":5,"replay":false,"end_of_input":false,"totals":{...},
//    "interfaces":[...],"processes":[...],"connections":[...],"remotes":[...],"dns":[...]}
//
// - Records are those of json_records.hpp; `dns` holds the DNS events since the previous
//   tick.
// - Processes, connections and remotes are listed busiest first by rate (ranking.hpp),
//   at most `top` of each. Every row the snapshot holds is listed, idle ones included.
// - -p, -c and -a select the tables as they do for --raw: a table that is not selected
//   is left out of the object (its key is absent); none selected means all.
// - Each line is built whole and written with one write, so a reader never sees half a
//   line even when the process is killed between ticks.

#include <cstddef>
#include <ostream>
#include <string>

#include "monitor/snapshot.hpp"

namespace netscope::output {

inline constexpr const char* kTickSchema = "netscope.tick/1";

struct JsonOptions {
  bool processes = true;    // -p
  bool connections = true;  // -c
  bool remotes = true;      // -a
  std::size_t top = 0;      // rows per table; 0 = all
};

// The line for one tick, newline included.
std::string tick_json_line(const monitor::Snapshot& snap, const JsonOptions& opt);
// The same, appended to `line` (the caller's text before it goes out in one write).
void append_tick_json_line(const monitor::Snapshot& snap, const JsonOptions& opt,
                           std::string& line);
void write_tick_json(const monitor::Snapshot& snap, const JsonOptions& opt, std::ostream& out);

}  // namespace netscope::output
