#pragma once
// Capabilities netscope needs, what missing ones cost, and dropping the rest once the
// capture handles and netlink sockets are open (as tcpdump -Z does). Raw capget/capset
// and prctl: libcap is not a dependency.
//
// Linux capabilities belong to each thread, and a new thread copies its creator's. So
// call drop_capabilities_except() on the main thread before starting other threads, and
// keep what those threads still need: the attribution thread reads other users'
// /proc/<pid>/fd (CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH) and enters new network
// namespaces as they appear (CAP_SYS_ADMIN).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace netscope::host {

struct Capabilities {
  bool net_raw = false;          // open packet sockets (capture)
  bool net_admin = false;        // promiscuous mode, capture ring set-up
  bool sys_ptrace = false;       // read other users' /proc/<pid>/fd
  bool dac_read_search = false;  // the same, through the directory permission
  bool sys_admin = false;        // setns() into other network namespaces
  bool sys_nice = false;         // optional: real-time priority (thread_latency.hpp)
};

// The calling thread's effective set.
Capabilities effective_capabilities();

// One line per missing capability, naming it and what it costs, then the setcap line that
// grants them all to `exe` (default: this executable). Empty when nothing is missing.
std::string privilege_warnings(const Capabilities& caps, std::string_view exe = {});

// Drops every capability not in `keep` (CAP_* numbers) from the calling thread's
// effective, permitted and inheritable sets, clears the ambient set, and removes it from
// the bounding set (PR_CAPBSET_DROP) so no later execve() can regain it. Shrinking the
// bounding set itself needs CAP_SETPCAP; without it (a setcap'd binary run by a user)
// that step is skipped, which is harmless because nothing is left to inherit. A kept
// capability the thread does not have stays absent. False with `error` set on failure.
bool drop_capabilities_except(std::initializer_list<int> keep, std::string* error);

// For a worker thread (the event log's writer, the IPFIX exporter, the packet recorder's
// writer, the blacklist reloader, the TUI's preparer): drops every capability but `keep`
// from the calling thread, and logs (info) why when it cannot. Such threads are started
// with their sinks, before the main thread's drop, so they would keep every capability of
// the start. A thread that creates files where the start-up checks let it (the recorder's
// --pcap-dir) keeps CAP_DAC_OVERRIDE, as root in another user's directory needs it.
void drop_thread_capabilities(std::string_view who, std::initializer_list<int> keep = {});

// Raises the soft open-file limit (RLIMIT_NOFILE) to the hard one: attribution holds
// sockets in every network namespace in use (namespace_capacity() follows the limit),
// and a default soft limit of 1,024 would cap it near 150. Returns the soft limit now.
std::uint64_t raise_open_file_limit();

}  // namespace netscope::host
