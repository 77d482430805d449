#pragma once
// The detail views' content, as plain lines: a process (pid, ppid chain, user, command
// line, executable, container, unattributed reasons), its connections and its DNS
// history; a connection (every field, the DPI metadata, TCP health per direction, RTT);
// a remote address and its connections. The renderer draws these; tests read them.

#include <string>
#include <vector>

#include "monitor/snapshot.hpp"
#include "tui/model.hpp"

namespace netscope::tui {

struct DetailLevel;

// The connections listed in a process or remote detail view, busiest first.
std::vector<const monitor::ConnectionRecord*> detail_connections(const Frame& f,
                                                                 const DetailLevel& d);
// The DNS history of a process detail view, newest first.
std::vector<const monitor::DnsEventRecord*> detail_dns(const Frame& f, const DetailLevel& d);

// "label: value" lines describing the process. `ppid_chain` is "1234 bash < 1 systemd".
std::vector<std::string> process_lines(const monitor::ProcessRecord& p, const Frame& f,
                                       const ModelOptions& opt);
std::vector<std::string> connection_lines(const monitor::ConnectionRecord& c,
                                          const monitor::Snapshot& s, const ModelOptions& opt);
std::vector<std::string> remote_lines(const monitor::RemoteRecord& r, const ModelOptions& opt);
// One DNS event as a list row: "12:00:01.123 A example.com NOERROR 12.3 ms 93.184.216.34".
std::string dns_line(const monitor::DnsEventRecord& d);

// The parent chain of a pid within the snapshot (and /proc when live), nearest first:
// "1234 bash < 1 systemd". Stops after 16 levels or at a pid it has seen.
std::string ppid_chain(const monitor::ProcessRecord& p, const monitor::Snapshot& s, bool read_proc);

}  // namespace netscope::tui
