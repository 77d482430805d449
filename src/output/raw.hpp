#pragma once
// --raw: bandwhich's raw output format, line for line, so that scripts written for
// `bandwhich --raw` keep working on netscope. One block per refresh:
//
//   Refreshing:
//   process: <1700000000> "curl" up/down Bps: 123/456 connections: 2
//   connection: <1700000000> <eth0>:43012 => 10.0.0.2:443 (tcp) up/down Bps: 123/456 process:
//   "curl" remote_address: <1700000000> 10.0.0.2 up/down Bps: 123/456 connections: 1 <NO TRAFFIC>
//   (only when no line above was printed) (a blank line)
//
// - The time is the snapshot's, in Unix seconds (rounded down).
// - Values are whole bytes per second over the rate window, rounded down; with `-t`
//   (RawOptions::totals) they are the cumulative bytes instead.
// - Only rows with traffic are printed (a nonzero rate, or with `-t` nonzero bytes),
//   busiest first (see ranking.hpp), at most `top` per table.
// - The remote is its host name when one is known and `resolve` is on, else the address.
//   IPv6 addresses are printed bare, without brackets, exactly as bandwhich does
//   (`2001:db8::1:443`): the port is what follows the last colon.
// - Traffic no process could be matched to is printed as process "<UNKNOWN>", one line
//   for all of it, as in bandwhich (the engine keeps one group per unknown_reason; the
//   JSON outputs keep them apart).
// - Control characters in names (a comm set with prctl can hold a newline) are printed
//   as '?', so one record is always one line.

#include <cstddef>
#include <ostream>

#include "monitor/snapshot.hpp"

namespace netscope::output {

struct RawOptions {
  // The -p, -c and -a tables; they combine, and when all three are off all are printed
  // (bandwhich's rule: no flag means every table).
  bool processes = true;
  bool connections = true;
  bool remotes = true;
  bool totals = false;  // -t: cumulative bytes instead of rates
  bool resolve = true;  // -n turns it off: the remote is always its address
  std::size_t top = 0;  // rows per table; 0 = all
};

// Writes one block with a single write; the caller flushes.
void write_raw(const monitor::Snapshot& snap, const RawOptions& opt, std::ostream& out);

}  // namespace netscope::output
