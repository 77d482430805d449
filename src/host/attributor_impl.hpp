#pragma once
// Attributor's insides, shared by attributor.cpp (life cycle, public calls),
// attributor_lookup.cpp (the lookup thread) and attributor_refresh.cpp (the refresh).
// Not a public header.
//
// Two threads, so that a connection that starts while a namespace of a thousand sockets
// is being dumped is still looked up within microseconds:
//  - the lookup thread owns the ProcScanner. It serves request() first, always, and in
//    between does the fd-table side of each refresh (listing, resolving, revalidating)
//    in steps that stop whenever a request is waiting;
//  - the refresh thread does the netlink side: it opens sockets in new namespaces, dumps
//    every namespace once per `refresh`, hands the dump to the lookup thread as a
//    RefreshJob and waits until it is done.
// The SocketTable has its own lock (readers take it shared); ProcessCache locks itself.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "host/attributor.hpp"
#include "host/namespace_diags.hpp"
#include "host/proc_scanner.hpp"
#include "host/process_cache.hpp"
#include "host/request_queue.hpp"
#include "host/socket_table.hpp"
#include "host/thread_latency.hpp"

namespace netscope::host {

namespace attributor_detail {

using Clock = std::chrono::steady_clock;

// CLOCK_MONOTONIC in ns (steady_clock's clock on Linux): cheap (vDSO), so the packet
// path can stamp its requests.
inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A request as the packet path and the SYN watch queue it: the flow and when it was
// queued (CLOCK_MONOTONIC, ns), for the queue wait in the stats and the debug log.
struct Request {
  FlowQuery flow;
  std::int64_t queued_ns = 0;
};

struct Work {
  FlowQuery flow;
  std::uint8_t attempt = 0;  // retries already made
  std::int64_t queued_ns = 0;
};

struct Retry {
  Work work;
  Clock::time_point due;
};

// What a targeted lookup found for one flow.
struct Found {
  SocketRecord record;
  std::uint64_t netns = 0;
  bool exact = false;  // the full 5-tuple, not a listener or a bound UDP socket
};

// A flow being looked up, with the socket found for it.
struct Pending {
  FlowQuery flow;
  SocketEntry entry;
  bool closed = false;  // the socket closed before its holder was found
  bool gone = false;    // ... and the kernel has nothing left of it to keep
  // For the debug log: when it was queued, when its socket was found (monotonic ns), and
  // the retry it is.
  std::int64_t queued_ns = 0;
  std::int64_t found_ns = 0;
  std::uint8_t attempt = 0;
};

// The lookup thread's half of one refresh, done in steps: first a listing of the
// processes (which namespaces to dump), then, with the dump, the mapping of its inodes.
struct RefreshJob {
  enum class Phase : std::uint8_t { list, start, resolve, revalidate, finish, done };
  Phase phase = Phase::list;         // list: the listing only; start: the dump's job
  std::vector<SocketEntry> entries;  // the dump, every namespace
  Clock::time_point dumped;          // when the dump began (SocketTable::replace)
  std::uint64_t since = 0;           // scanner stamp when the job arrived, after the dump
  std::vector<WantedSocket> wanted;
  bool permission_denied = false;
  std::size_t revalidate_left = 0;
  // The dump equals the previous job's, namespace for namespace (the refresh thread's
  // verdict); light: ... and no holder changed since the last finish, which had a holder
  // or a settled miss for every socket, so the table stays as it is unless the fd
  // tables re-read on the way show a change (the idle case: no socket moved).
  bool unchanged = false;
  bool light = false;
};

// A namespace the lookup thread reached before a refresh did: a container that started a
// moment ago.
struct EarlyFinder {
  NamespaceDiags::Finder finder;
  Clock::time_point used;  // last seen with a process in it
};

// A connection the kernel has but no process has accepted yet: a request socket, or a
// child socket waiting in the accept queue (no struct socket, hence inode 0).
bool awaiting_accept(const SocketRecord& r);

}  // namespace attributor_detail

struct Attributor::Impl {
  using Clock = attributor_detail::Clock;
  using Identity = std::pair<pid_t, std::uint64_t>;  // (pid, start time)

  explicit Impl(AttributorConfig c);
  ~Impl();

  // The lookup thread (attributor_lookup.cpp).
  void run_lookups();
  // The lookup thread's scheduling (run_lookups() owns it; null before it runs).
  RealtimeBudget* lookup_budget = nullptr;
  // True when a request or a retry waits: the refresh steps stop for it.
  bool lookup_waiting() const;
  void serve_pending();
  // Inside the refresh's long loops (a dump of 20,000 sockets takes tens of ms to map
  // under ASan): every kServeEvery entries, serves the requests that wait, so that a
  // short-lived connection's lookup does not wait for the loop.
  void serve_between(std::size_t index) {
    if (index % kServeEvery != kServeEvery - 1 || !queue.ready()) return;
    // Requests are served at real-time priority, the refresh around them is not.
    if (lookup_budget != nullptr) lookup_budget->end_bulk();
    serve_pending();
    if (lookup_budget != nullptr) lookup_budget->begin_bulk();
  }
  static constexpr std::size_t kServeEvery = 256;
  void serve();
  // The socket of `flow` by 5-tuple, or the listener or bound socket a lookup fell back
  // to. `strict` (a flood of requests): only the namespaces local_here points to.
  std::optional<attributor_detail::Found> find_socket(const NamespaceDiags::Finders& finders,
                                                      const FlowQuery& flow, bool strict);
  // Finds the holders of the pending sockets no known process holds; true when a table on
  // the way could not be read.
  bool resolve_targeted(std::vector<attributor_detail::Pending>& pending, std::uint64_t since,
                        const NamespaceDiags::Finders& finders);
  // Marks the pending sockets without a holder that the kernel no longer has.
  void drop_closed(std::vector<attributor_detail::Pending>& pending,
                   const NamespaceDiags::Finders& finders);
  void retry_later(const attributor_detail::Work& work, Clock::time_point now);
  // Starts a new rate window when the current one has ended.
  void roll_rate(std::int64_t now_ns);
  // The refresh's finders, and the lookup thread's own for namespaces no refresh has
  // reached yet.
  NamespaceDiags::Finders lookup_finders() const;
  // Opens finders for the namespaces of new and young processes that `known` lacks: a
  // container started a moment ago. True when it opened one.
  bool reach_new_namespaces(const NamespaceDiags::Finders& known);
  void owner_from_scanner(SocketEntry& entry) const;
  // Reads the details of the processes whose tables just showed new sockets (the
  // scanner's SocketsGained), while they surely run.
  void note_gained();
  void publish_scanner_stats();

  // The refresh (attributor_refresh.cpp): the refresh thread's loop, and the job's steps
  // on the lookup thread. advance_refresh() returns when the job is done or a request
  // waits.
  void run_refresh();
  // The refresh thread: hands `next` over and waits until it is done; false on stop.
  bool hand_over(std::unique_ptr<attributor_detail::RefreshJob> next);
  void advance_refresh(attributor_detail::RefreshJob& job);
  void finish_refresh(attributor_detail::RefreshJob& job);
  // finish_refresh() for a light job whose fd tables showed no change: the table stands.
  void finish_light_refresh();

  void wake() noexcept;

  AttributorConfig config;

  // Request path: the packet and SYN-watch threads push, the lookup thread pops.
  RequestQueue<attributor_detail::Request> queue;
  int wake_fd = -1;
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> running{false};
  std::thread lookup_thread;
  std::thread refresh_thread;

  // The lookup thread's.
  ProcScanner scanner;
  std::vector<Identity> gained;  // filled by the scanner's SocketsGained
  std::vector<attributor_detail::Retry> retries;
  std::vector<attributor_detail::Work> batch;
  // Request rate (attributor_lookup.cpp, kBusyRequests): requests taken in the current
  // window, its end, and whether this window or the last one was busy (roll_rate()).
  std::uint64_t window_requests = 0;
  std::int64_t window_end_ns = 0;
  bool busy = false;
  std::unordered_map<std::uint64_t, Miss> orphans;  // inodes a full search found no holder for
  std::unique_ptr<attributor_detail::RefreshJob> job;
  // Namespaces reached before a refresh did, let go once the refresh's finders have them
  // or no process has lived there for kNamespaceGrace (holding a socket keeps the
  // namespace alive); and the ones that could not be entered.
  std::vector<attributor_detail::EarlyFinder> early_finders;
  std::unordered_set<std::uint64_t> early_refused;
  // What the last finish_refresh() left: the scanner's holders generation, whether every
  // socket of the dump had an owner or a settled miss, and the owners.
  std::uint64_t finished_holders = 0;
  bool finished_settled = false;
  std::vector<pid_t> finished_owners;
  // fd entries the revalidation may still read (attributor_refresh.cpp: a share of every
  // table's entries per refresh, the rest carried over).
  std::size_t revalidate_fds = 0;

  // The refresh thread's (NamespaceDiags::finders() excepted).
  NamespaceDiags namespaces;
  const std::uint64_t own_netns;  // namespaces.own(), read once: any thread may use it
  std::vector<std::uint64_t> dumped_namespaces;  // the members of the last dump, in order

  // Handover between the two threads, under job_mutex.
  std::mutex job_mutex;
  std::condition_variable job_cv;  // a job was taken and finished, or the thread stops
  std::unique_ptr<attributor_detail::RefreshJob> job_posted;
  bool job_finished = false;
  std::atomic<bool> job_waiting{false};
  std::unordered_map<std::uint64_t, pid_t> in_use;  // namespace -> a pid in it, last listing

  // Shared with readers.
  mutable std::shared_mutex table_mutex;
  SocketTable table;  // under table_mutex
  // Advanced under table_mutex by every change to `table` (Attributor::table_generation).
  std::atomic<std::uint64_t> table_generation{1};
  mutable ProcessCache processes;

  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> served{0};  // requests taken off the queue and answered
  std::atomic<std::uint64_t> overflow{0};
  std::atomic<std::uint64_t> targeted{0};
  std::atomic<std::uint64_t> coalesced_turns{0};  // turns that waited for more requests
  std::atomic<std::uint64_t> queries{0};          // sock_diag queries of targeted lookups
  std::atomic<std::uint64_t> queries_skipped{0};  // ... not sent: the end's address ruled
                                                  // the namespace out (local_here)
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> closed_first{0};
  std::atomic<std::uint64_t> dumps{0};
  std::atomic<std::uint64_t> tcp_saved{0};
  std::atomic<std::uint64_t> unchanged{0};
  std::atomic<std::uint64_t> sockets{0};
  std::atomic<std::uint64_t> namespace_count{0};
  std::atomic<std::uint64_t> lookup_ns{0};
  std::atomic<std::uint64_t> lookup_cpu_ns{0};
  std::atomic<std::uint64_t> proc_scans{0};
  std::atomic<std::uint64_t> denied{0};
  std::atomic<std::uint64_t> namespace_errors{0};
  std::atomic<std::uint64_t> process_count{0};
  std::atomic<std::uint64_t> refresh_us{0};
  std::atomic<bool> short_slice{false};
  std::atomic<bool> realtime{false};
  std::atomic<std::uint64_t> realtime_demotions{0};

  // Refresh scheduling and completion, under refresh_mutex.
  mutable std::mutex refresh_mutex;
  std::condition_variable refresh_asked_cv;    // wakes the refresh thread
  mutable std::condition_variable refresh_cv;  // a refresh finished
  bool refresh_asked = false;
  std::uint64_t refreshes_started = 0;
  std::uint64_t refreshes_done = 0;
};

}  // namespace netscope::host
