#pragma once
// Attributor: which process owns a flow. It
//  - every `refresh` dumps the TCP and UDP sockets (IPv4 and IPv6, with inode, uid,
//    state and tcp_info) of its own network namespace and of every other namespace a
//    process lives in, and maps their inodes to processes with the incremental
//    ProcScanner;
//  - serves targeted lookups that the packet path asks for with request(): one sock_diag
//    query by 5-tuple per namespace and orientation, then the fd tables of the likeliest
//    processes (the pids started since the last listing first), so that a connection
//    that lives a millisecond is still caught while its socket is in its owner's fd table
//    (a socket in TIME_WAIT has no inode any more). A lookup never waits for a refresh:
//    the netlink dumps run on a thread of their own, and the lookup thread, which asks
//    the scheduler for prompt wake-ups, maps the dump's inodes in steps between requests;
//  - reads an owner's process details the moment its fd table shows the socket, so that
//    a process that exits right after is still named;
//  - remembers owners for `remember` after their sockets close, so that the traffic of
//    short-lived flows is still credited at the next tick.
// Readers call lookup(), process() and alive() from any thread; they take a shared lock
// and never do netlink I/O (process() may read /proc once for a pid it has not cached).
// Nothing here runs on the packet thread except request(), which only pushes to a ring.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "host/attribution.hpp"
#include "host/process_info.hpp"

namespace netscope::host {

struct AttributorConfig {
  std::chrono::milliseconds refresh{1000};  // full sock_diag dump + incremental inode refresh
  bool other_namespaces = true;             // also dump sockets in every other network namespace
  std::size_t queue_capacity = 4096;        // targeted-lookup requests from the packet path
  std::chrono::seconds remember{120};       // owners remembered after the socket closes
  std::size_t max_remembered = 65536;       // bound on remembered owners, misses and processes
  std::string proc_root = "/proc";
  // Whether an address is one of the own namespace's (LocalAddresses::contains), or
  // nullopt while that is not known. When set, a targeted lookup asks about a flow's
  // unicast end that is local here in the own namespace first, and about one that is not
  // in the other namespaces first: a packet to a local address is delivered to a socket
  // of this namespace, and an address this namespace does not have belongs to a
  // container (or another host). The rest are asked when those found nothing exact. Under
  // a flood of requests (more than 2,000 a second, or 64 waiting at once) the rest are
  // not asked: half the netlink round trips per flow, or fewer with containers. What
  // that gives up (a subnet's broadcast address, which is not an address of ours; a port
  // published into a container by DNAT) is still found by the full dump of the next
  // refresh, which no filter applies to.
  std::function<std::optional<bool>(const core::IpAddress&)> local_here;
};

struct AttributorStats {
  std::uint64_t requests = 0;             // request() calls accepted into the queue
  std::uint64_t queue_overflow = 0;       // request() calls refused: the queue was full
  std::uint64_t targeted_lookups = 0;     // flows looked up by 5-tuple (the rest were known)
  std::uint64_t targeted_hits = 0;        // ... of which ended with an owner
  std::uint64_t targeted_closed = 0;      // ... of which the socket had closed, or closed
                                          // before its owner's fd table was read ("closed")
  std::uint64_t full_dumps = 0;           // refreshes
  std::uint64_t tcp_dumps_saved = 0;      // namespaces whose TCP counters stood still, so
                                          // their last TCP dump was used again
  std::uint64_t unchanged_refreshes = 0;  // refreshes that found nothing changed (same
                                          // sockets, same holders): the table stood
  std::uint64_t sockets = 0;              // sockets in the last refresh, all namespaces
  std::uint64_t namespaces = 0;           // namespaces dumped in the last refresh
  std::uint64_t proc_scans = 0;           // /proc/<pid>/fd tables read
  double mean_lookup_us = 0;              // mean wall time of a targeted lookup
  double mean_lookup_cpu_us = 0;          // ... of which the lookup thread was on a CPU
  std::uint64_t permission_denied = 0;    // fd tables or links refused (EACCES)
  std::uint64_t namespace_errors = 0;     // namespaces that could not be entered (no CAP_SYS_ADMIN)
  std::uint64_t processes = 0;            // processes in the last listing
  double last_refresh_ms = 0;             // wall time of the last refresh
  bool short_slice = false;  // the lookup thread got its short slice (thread_latency.hpp)
  bool realtime = false;     // ... or real-time priority (SCHED_FIFO 1, thread_latency.hpp)
  std::uint64_t realtime_demotions = 0;  // windows in which it went over its CPU budget
  // sock_diag queries that targeted lookups sent (one per flow end and namespace asked),
  // and those left out because the end's address ruled the namespace out (local_here).
  std::uint64_t targeted_queries = 0;
  std::uint64_t targeted_queries_skipped = 0;
  // Lookup turns that first waited 1 ms for more requests (over 2,000 a second came).
  std::uint64_t coalesced_turns = 0;
};

class Attributor {
 public:
  // Opens the own namespace's sock_diag socket (throws std::runtime_error when netlink
  // is blocked). The thread that constructs and starts it decides the "own" namespace.
  explicit Attributor(AttributorConfig config = {});
  ~Attributor();  // stops the threads
  Attributor(const Attributor&) = delete;
  Attributor& operator=(const Attributor&) = delete;

  // Starts the threads; the first refresh runs at once (see wait_until_ready()).
  void start();
  void stop();

  // Packet thread / SYN-watch thread: never blocks, never allocates. Queues a targeted
  // lookup for a flow with no known owner; the lookup thread is woken once per batch (an
  // eventfd written only when no wake-up is pending), so a SYN flood costs one wake per
  // batch. False (counted) when the queue is full. Protocols without sockets are ignored.
  bool request(const FlowQuery& q) noexcept;

  // Any thread, cheap: the owner of a flow or why there is none (socket_table.hpp has the
  // matching order: exact, then local_port for UDP, then listener for TCP).
  Lookup lookup(const FlowQuery& q) const;

  // Process details (comm, cmdline, exe, ppid, uid, user, container) of an owner, read
  // when its fd table showed the socket and kept after it exits (until unused for
  // `remember`), by (pid, start time) so a reused pid is never confused with an older
  // process. The one-argument form gives the newest process seen with that pid. nullopt
  // if unknown and no longer running.
  std::optional<ProcessInfo> process(pid_t pid) const;
  std::optional<ProcessInfo> process(pid_t pid, std::uint64_t start_time_ticks) const;
  // Whether that process is still running (reads its /proc/<pid>/stat start time).
  bool alive(pid_t pid, std::uint64_t start_time_ticks) const;

  AttributorStats stats() const;

  // Any thread, cheap: advances whenever lookup() may answer differently for the same
  // flow (the socket table changed). A caller that saw this value when it last asked
  // about a flow may keep that answer while the value stays.
  std::uint64_t table_generation() const;

  // Waits (up to `timeout`) until the first refresh after start() has finished. False on
  // timeout or when not started.
  bool wait_until_ready(std::chrono::milliseconds timeout) const;
  // Asks for a full refresh now and waits (up to `timeout`) until one that
  // started after this call has finished, so it reflects everything done before the call.
  bool refresh_now(std::chrono::milliseconds timeout);
  // Waits (up to `timeout`) until every request made before this call has been answered
  // (its result is in the table). For a last look before the final snapshot: a
  // connection that ended just before the stop is attributed like the others.
  bool drain(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::host
