#include "monitor/snapshot_filter.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace netscope::monitor {

void SnapshotFilter::set_pattern(const std::string& text) {
  pattern = std::regex(text, std::regex::ECMAScript | std::regex::optimize);
  pattern_text = text;
}

bool SnapshotFilter::matches(const ProcessRecord& p) const {
  return matches(p.pid, p.name, p.cmdline);
}

bool SnapshotFilter::matches(const std::optional<pid_t>& pid, std::string_view name,
                             std::string_view cmdline) const {
  if (pid && std::find(pids.begin(), pids.end(), *pid) != pids.end()) return true;
  if (pattern) {
    const auto search = [&](std::string_view s) {
      return std::regex_search(s.begin(), s.end(), *pattern);
    };
    return search(name) || (!cmdline.empty() && search(cmdline));
  }
  return false;
}

void apply_filter(Snapshot& snap, const SnapshotFilter& filter) {
  if (filter.empty()) return;
  std::set<pid_t> kept_pids;
  bool keep_unknown = false;
  std::erase_if(snap.processes, [&](const ProcessRecord& p) {
    if (!filter.matches(p)) return true;
    if (p.pid) {
      kept_pids.insert(*p.pid);
    } else {
      keep_unknown = true;
    }
    return false;
  });
  const auto dropped = [&](const std::optional<pid_t>& pid) {
    return pid ? !kept_pids.contains(*pid) : !keep_unknown;
  };
  std::erase_if(snap.connections, [&](const ConnectionRecord& c) { return dropped(c.pid); });
  // The DNS transactions of the processes shown (those of no process go with <UNKNOWN>),
  // and of the processes the filter names that a tick lists no connection of (one that
  // only asked a local stub resolver, whose loopback flow is hidden).
  std::erase_if(snap.dns, [&](const DnsEventRecord& d) {
    return dropped(d.pid) && !(d.pid && filter.matches(d.pid, d.process));
  });
  std::map<core::IpAddress, RemoteRecord> remotes;
  for (const ConnectionRecord& c : snap.connections) {
    RemoteRecord& r = remotes[c.remote_addr];
    r.addr = c.remote_addr;
    r.bytes_up += c.bytes_up;
    r.bytes_down += c.bytes_down;
    r.rate_up += c.rate_up;
    r.rate_down += c.rate_down;
    ++r.connections;
  }
  std::vector<RemoteRecord> kept;
  for (RemoteRecord& r : snap.remotes) {
    auto it = remotes.find(r.addr);
    if (it == remotes.end()) continue;
    r.bytes_up = it->second.bytes_up;
    r.bytes_down = it->second.bytes_down;
    r.rate_up = it->second.rate_up;
    r.rate_down = it->second.rate_down;
    r.connections = it->second.connections;
    kept.push_back(std::move(r));
  }
  snap.remotes = std::move(kept);
}

}  // namespace netscope::monitor
