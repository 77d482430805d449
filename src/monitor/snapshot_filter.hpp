#pragma once
// SnapshotFilter: --pid and --filter REGEX. Keeps the processes that match (by pid, or by
// a regular expression searched in the process name and its command line), their
// connections and DNS transactions, and the remotes those connections talk to, with the
// remotes' counters recomputed from the kept connections. Interfaces and totals still describe the
// whole host: they are what was captured, not what is shown.

#include <sys/types.h>

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/snapshot.hpp"

namespace netscope::monitor {

struct SnapshotFilter {
  std::vector<pid_t> pids;
  std::optional<std::regex> pattern;
  std::string pattern_text;

  bool empty() const { return pids.empty() && !pattern; }
  // Throws std::regex_error (with the pattern named by the caller) when malformed.
  void set_pattern(const std::string& text);
  bool matches(const ProcessRecord& p) const;
  // The same test for what a DNS transaction knows of its process: pid and name.
  bool matches(const std::optional<pid_t>& pid, std::string_view name,
               std::string_view cmdline = {}) const;
};

void apply_filter(Snapshot& snap, const SnapshotFilter& filter);

}  // namespace netscope::monitor
