#pragma once
// --json-lines --events: the event stream. Between two tick lines, netscope prints one
// line per event that happened since the previous tick, each a JSON object of its own
// with "schema": "netscope.event/1" and an "event" key:
//
//   {"schema":"netscope.event/1","event":"connection_open","time":"<first_seen>",
//    ...the connection record's keys (json_records.hpp)...}
//   {"schema":"netscope.event/1","event":"connection_close","time":"<last_seen>", ...}
//   {"schema":"netscope.event/1","event":"dns","time":"<response time>",
//    ...the DNS event record's keys...}
//   {"schema":"netscope.event/1","event":"alert","time":"...","alert":"<blacklist entry>",
//    "source":"connection","connection":{...}}      (or "source":"dns","dns":{...})
//
// EventTracker derives them from consecutive snapshots: a connection (5-tuple and first
// packet time) opens the first time a snapshot lists it and closes the first time one
// shows it closed (a connection that opened and closed between two ticks gets both
// events at once); DNS events are the snapshot's `dns` list; an alert is raised once per
// connection and once per (query, blacklist entry), whatever the number of snapshots
// that show it. Lines are ordered by their time.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "monitor/snapshot.hpp"

namespace netscope::output {

inline constexpr const char* kEventSchema = "netscope.event/1";

class EventTracker {
 public:
  // `max_dns_alert_keys` bounds the memory of DNS alerts already raised: past it the
  // set is cleared (an alert may then repeat).
  explicit EventTracker(std::size_t max_dns_alert_keys = 65'536)
      : max_dns_alert_keys_(max_dns_alert_keys) {}

  // The event lines of this snapshot (each ends with '\n'); empty when nothing happened.
  std::string lines(const monitor::Snapshot& snap);

 private:
  struct State {
    bool closed = false;
    bool alerted = false;
    std::uint64_t seen = 0;
  };
  std::unordered_map<std::string, State> conns_;
  std::unordered_set<std::string> dns_alerts_;
  std::size_t max_dns_alert_keys_;
  std::uint64_t snapshots_ = 0;
};

}  // namespace netscope::output
