// The lookup thread: a flow the packet path or the SYN watch just saw is looked up by its
// 5-tuple with sock_diag, then the fd tables of the likeliest processes are read for the
// socket's inode, all while the connection may still be open. Between requests it works
// on the refresh that the refresh thread handed over (attributor_impl.hpp).

#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "host/attributor_impl.hpp"
#include "host/thread_latency.hpp"

namespace netscope::host {

using attributor_detail::Found;
using attributor_detail::Pending;
using attributor_detail::Retry;
using attributor_detail::Work;

namespace {

using namespace std::chrono_literals;
using Clock = attributor_detail::Clock;

// A TCP flow first seen at its SYN is answered by the listener (the connection is not
// accepted yet, or its request socket has no inode); these re-ask for the accepted socket.
constexpr std::array<std::chrono::steady_clock::duration, 4> kRetryDelays{2ms, 10ms, 50ms, 250ms};
// The lookup reads this many of the likeliest fd tables (new processes first), then asks
// the kernel whether the sockets still without a holder still exist: one closed meanwhile
// has no holder left to find, and searching every process for it would hold up the next
// connection's lookup by milliseconds. Then it goes on in steps of kTableStep.
constexpr std::size_t kFirstTables = 16;
constexpr std::size_t kTableStep = 64;
// Requests compared with each one for a duplicate in its batch.
constexpr std::size_t kDuplicateWindow = 8;
// Under a flood of new flows (a scan, forwarded traffic, a replay), waking this thread
// for each request costs the packet thread a write() and both CPUs a cross-CPU wake-up
// per flow. Once more than kBusyRequests came in one kRateWindow (2,000 a second), and
// for the window after, a wake-up first waits kCoalesce for more requests (the producers
// skip the eventfd meanwhile), so that one turn serves them all, and the lookups ask only
// the likely namespaces (AttributorConfig::local_here). A connection must live kCoalesce
// longer to be caught then; at the rates of interactive use nothing waits.
constexpr std::int64_t kRateWindowNs = 10'000'000;
constexpr std::uint64_t kBusyRequests = 20;
constexpr std::int64_t kCoalesceNs = 1'000'000;
// A batch of this many requests found waiting at once is a flood too.
constexpr std::size_t kFloodBatch = 16;
// A turn of the lookup thread longer than this is logged (debug).
constexpr std::int64_t kSlowTurnNs = 5'000'000;
// Real-time priority for this thread while it uses at most a quarter of a CPU, else the
// short slice (thread_latency.hpp). A 1 s window: a refresh that maps 20,000 sockets takes
// up to 150 ms of CPU in one go under ASan (requests are served in between), and on a
// 100 ms window it ran out of budget and then crawled at normal priority on a busy CPU.
constexpr RealtimeBudget::Config kScheduling{std::chrono::microseconds{100},
                                             std::chrono::milliseconds{1000},
                                             std::chrono::microseconds{250'000}};

// CPU time of the calling thread: the lookup cost without the waits of a busy machine.
std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr auto state_of(TcpState s) {
  return static_cast<std::uint8_t>(s);
}

std::string_view proto_name(std::uint8_t proto) {
  return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "ip";
}

// Neither unspecified, broadcast (255.255.255.255) nor multicast. (A subnet's directed
// broadcast address cannot be told from here; it counts as unicast.)
bool is_unicast(const core::IpAddress& addr) {
  const auto& b = addr.bytes();
  if (addr.is_v4()) return b[12] != 0 && b[12] < 224;
  return b[0] != 0xff && !addr.is_unspecified();
}

double ms_since(std::int64_t ns) {
  return static_cast<double>(attributor_detail::monotonic_ns() - ns) / 1e6;
}

// One debug line per flow looked up: how long after its request the socket and the owner
// were known, to tell which step lost a race with a short-lived process.
void log_served(const std::vector<Pending>& pending, Clock::time_point started,
                std::uint64_t tables) {
  const std::int64_t now = attributor_detail::monotonic_ns();
  const std::int64_t start_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(started.time_since_epoch()).count();
  for (const Pending& p : pending) {
    const auto ms = [&](std::int64_t t) { return static_cast<double>(t - p.queued_ns) / 1e6; };
    const SocketEntry& e = p.entry;
    std::string outcome =
        e.pid != 0 ? fmt::format("owner pid {}", e.pid)
                   : fmt::format("no owner ({}{})", miss_name(e.miss), p.gone ? ", gone" : "");
    core::Log::debug(fmt::format(
        "attribution: {} {} -> {} try {}: batch began {:.3f} ms after the request, socket {} "
        "inode {} at {:.3f} ms, {} at {:.3f} ms; {} fd tables read for the batch of {}",
        proto_name(p.flow.proto), p.flow.a.to_string(), p.flow.b.to_string(), p.attempt,
        ms(start_ns), tcp_state_name(e.record.state), e.record.inode, ms(p.found_ns), outcome,
        ms(now), tables, pending.size()));
  }
}

}  // namespace

void Attributor::Impl::run_lookups() {
  ::pthread_setname_np(::pthread_self(), "ns-lookup");  // for top -H and perf
  RealtimeBudget scheduling(kScheduling);
  lookup_budget = &scheduling;
  realtime.store(scheduling.start(), std::memory_order_relaxed);
  short_slice.store(scheduling.short_slice(), std::memory_order_relaxed);
  while (running.load(std::memory_order_acquire)) {
    scheduling.charge();
    realtime_demotions.store(scheduling.demotions(), std::memory_order_relaxed);
    // Sleep only when there is nothing left of a refresh to do.
    std::optional<Clock::time_point> deadline;
    if (job != nullptr || job_waiting.load(std::memory_order_acquire)) deadline = Clock::now();
    for (const Retry& r : retries) deadline = std::min(deadline.value_or(r.due), r.due);
    timespec timeout{};
    if (deadline) {
      const auto wait = std::max(Clock::duration::zero(), *deadline - Clock::now());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      timeout = timespec{static_cast<time_t>(ns / 1'000'000'000), ns % 1'000'000'000};
    }
    pollfd pfd{wake_fd, POLLIN, 0};
    if (::ppoll(&pfd, 1, deadline ? &timeout : nullptr, nullptr) > 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const auto n = ::read(wake_fd, &count, sizeof(count));
    }
    std::int64_t woke_ns = attributor_detail::monotonic_ns();
    roll_rate(woke_ns);
    if (busy && queue.ready()) {
      // Busy: let more requests gather while wake_pending still tells the producers
      // that a wake-up is on its way.
      const timespec nap{0, kCoalesceNs};
      ::nanosleep(&nap, nullptr);
      woke_ns = attributor_detail::monotonic_ns();
      coalesced_turns.fetch_add(1, std::memory_order_relaxed);
    }
    // An RMW, so it synchronizes with the producer's exchange(true): what it pushed before
    // is visible to the drain below, and a push after this point writes the eventfd again.
    wake_pending.exchange(false, std::memory_order_acq_rel);
    if (!running.load(std::memory_order_acquire)) break;
    const std::int64_t woke_cpu_ns = thread_cpu_ns();
    serve_pending();
    const std::int64_t served_ns = attributor_detail::monotonic_ns();
    if (job == nullptr && job_waiting.load(std::memory_order_acquire)) {
      const std::lock_guard lock(job_mutex);
      job = std::move(job_posted);
      job_waiting.store(false, std::memory_order_release);
    }
    int phase = -1;
    if (job != nullptr) {
      phase = static_cast<int>(job->phase);
      scheduling.begin_bulk();
      advance_refresh(*job);
      scheduling.end_bulk();
      if (job->phase == attributor_detail::RefreshJob::Phase::done) {
        job.reset();
        {
          const std::lock_guard lock(job_mutex);
          job_finished = true;
        }
        job_cv.notify_all();
      }
    }
    // A turn long enough to make a request wait past a short connection's life: what
    // took it (debug log).
    const std::int64_t done_ns = attributor_detail::monotonic_ns();
    if (done_ns - woke_ns > kSlowTurnNs && core::Log::enabled(core::LogLevel::debug)) {
      core::Log::debug(
          fmt::format("attribution: lookup thread turn took {:.3f} ms ({:.3f} ms of CPU; requests "
                      "{:.3f} ms, refresh phase {} {:.3f} ms), {}",
                      static_cast<double>(done_ns - woke_ns) / 1e6,
                      static_cast<double>(thread_cpu_ns() - woke_cpu_ns) / 1e6,
                      static_cast<double>(served_ns - woke_ns) / 1e6, phase,
                      static_cast<double>(done_ns - served_ns) / 1e6,
                      scheduling.demoted()    ? "over its real-time budget"
                      : scheduling.realtime() ? "real-time"
                                              : "not real-time"));
    }
  }
  lookup_budget = nullptr;
}

bool Attributor::Impl::lookup_waiting() const {
  if (queue.ready()) return true;
  if (retries.empty()) return false;
  const Clock::time_point now = Clock::now();
  return std::any_of(retries.begin(), retries.end(), [&](const Retry& r) { return r.due <= now; });
}

void Attributor::Impl::serve_pending() {
  batch.clear();
  attributor_detail::Request request;
  while (batch.size() < queue.capacity() && queue.try_pop(request)) {
    batch.push_back(Work{request.flow, 0, request.queued_ns});
  }
  const std::size_t popped = batch.size();
  if (popped != 0) {
    roll_rate(attributor_detail::monotonic_ns());
    window_requests += popped;
    if (window_requests > kBusyRequests) busy = true;  // this window already is
  }
  if (!retries.empty()) {
    const Clock::time_point now = Clock::now();
    std::erase_if(retries, [&](const Retry& r) {
      if (r.due > now) return false;
      batch.push_back(r.work);
      return true;
    });
  }
  if (!batch.empty()) serve();
  served.fetch_add(popped, std::memory_order_release);
}

void Attributor::Impl::roll_rate(std::int64_t now_ns) {
  if (now_ns < window_end_ns) return;
  // Busy for the window after a busy one; a window that ended long ago tells nothing
  // about the rate now.
  busy = window_requests > kBusyRequests && now_ns < window_end_ns + kRateWindowNs;
  window_requests = 0;
  window_end_ns = now_ns + kRateWindowNs;
}

void Attributor::Impl::retry_later(const Work& work, Clock::time_point now) {
  if (work.attempt >= kRetryDelays.size() || retries.size() >= queue.capacity()) return;
  retries.push_back(
      Retry{Work{work.flow, static_cast<std::uint8_t>(work.attempt + 1), work.queued_ns},
            now + kRetryDelays[work.attempt]});
}

std::optional<Found> Attributor::Impl::find_socket(const NamespaceDiags::Finders& finders,
                                                   const FlowQuery& flow, bool strict) {
  std::optional<Found> guess;
  const std::array<std::pair<core::Endpoint, core::Endpoint>, 2> sides{
      {{flow.a, flow.b}, {flow.b, flow.a}}};
  // Side a first in every namespace, then side b: the caller puts the end it asks about
  // first (the SYN watch: the client). When both ends live on this host, e.g. a container
  // talking to a server in the own namespace, namespace order must not pick the server.
  for (const auto& [local, remote] : sides) {
    // An end that is local here has its socket here; one that is not, elsewhere
    // (AttributorConfig::local_here): those namespaces are asked first, and under a flood
    // (`strict`) only those. Broadcast and multicast ends are asked everywhere in order:
    // a socket bound to the wildcard takes them.
    std::optional<bool> here;
    if (config.local_here && is_unicast(local.addr)) here = config.local_here(local.addr);
    for (const bool likely : {true, false}) {
      if (!likely && !here) break;  // one pass over every namespace was enough
      for (const NamespaceDiags::Finder& finder : *finders) {
        if (here && (*here == (finder.netns == own_netns)) != likely) continue;
        if (!likely && strict) {
          queries_skipped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        queries.fetch_add(1, std::memory_order_relaxed);
        SocketRecord record;
        if (finder.diag->find(flow.proto, local, remote, record) != FindResult::found) continue;
        if (record.local == local && record.remote == remote) {
          return Found{record, finder.netns, true};
        }
        // The kernel fell back to the listener (TCP) or a bound socket (UDP) of this port.
        const bool fits = record.local.port == local.port && is_unconnected(record.remote) &&
                          (flow.proto == IPPROTO_UDP || record.state == state_of(TcpState::listen));
        if (fits && !guess) guess = Found{record, finder.netns, false};
      }
    }
  }
  return guess;
}

NamespaceDiags::Finders Attributor::Impl::lookup_finders() const {
  NamespaceDiags::Finders published = namespaces.finders();
  if (early_finders.empty()) return published;
  auto all = std::make_shared<std::vector<NamespaceDiags::Finder>>(*published);
  for (const attributor_detail::EarlyFinder& early : early_finders) {
    const bool known =
        std::any_of(published->begin(), published->end(),
                    [&](const NamespaceDiags::Finder& p) { return p.netns == early.finder.netns; });
    if (!known) all->push_back(early.finder);
  }
  return all;
}

bool Attributor::Impl::reach_new_namespaces(const NamespaceDiags::Finders& known) {
  if (!config.other_namespaces) return false;
  scanner.list_new_processes();
  bool opened = false;
  for (const auto& [ns, pid] : scanner.recent_namespaces()) {
    const std::uint64_t netns = ns;  // a structured binding cannot be captured in C++20
    const bool have =
        std::any_of(known->begin(), known->end(),
                    [&](const NamespaceDiags::Finder& f) { return f.netns == netns; });
    if (have || early_refused.contains(netns)) continue;
    std::array<netlink::Socket, 1> socket;
    std::string error;
    const NamespaceOpen result = open_sock_diag_in(config.proc_root, netns, pid, socket, &error);
    if (result == NamespaceOpen::opened) {
      early_finders.push_back(attributor_detail::EarlyFinder{
          {netns, std::make_shared<SockDiag>(std::move(socket[0]))}, Clock::now()});
      opened = true;
    } else if (result == NamespaceOpen::refused) {
      early_refused.insert(netns);
    }
  }
  return opened;
}

void Attributor::Impl::serve() {
  const auto started = Clock::now();
  const std::int64_t cpu_started = thread_cpu_ns();
  const bool debug = core::Log::enabled(core::LogLevel::debug);
  const std::uint64_t tables_before = scanner.stats().fd_tables;
  NamespaceDiags::Finders finders = lookup_finders();
  bool reached = false;  // new namespaces looked for, once per batch
  std::vector<Pending> pending;
  std::vector<FlowQuery> no_socket;
  std::uint64_t looked_up = 0;
  // Before the kernel is asked: a table read after this holds the sockets found below.
  const std::uint64_t since = scanner.stamp();
  const bool strict = busy || batch.size() >= kFloodBatch;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Work& work = batch[i];
    // The SYN watch and the packet path both ask for a new flow, often a moment apart
    // and so in one batch: the second time costs nothing. (A look at the few requests
    // before, not all: a flood of new flows fills whole batches.)
    const auto same = [&](const Work& other) {
      return other.flow.proto == work.flow.proto && other.flow.a == work.flow.a &&
             other.flow.b == work.flow.b;
    };
    const std::size_t from = i > kDuplicateWindow ? i - kDuplicateWindow : 0;
    const auto first = batch.begin();
    if (std::any_of(first + static_cast<std::ptrdiff_t>(from),
                    first + static_cast<std::ptrdiff_t>(i), same)) {
      continue;
    }
    {
      // A remembered owner is asked about again: the request may be for a new connection
      // with the same 5-tuple (a socket with another inode), which must not inherit it.
      const std::shared_lock lock(table_mutex);
      if (table.settled(work.flow, started) && !table.remembered_only(work.flow, started)) {
        continue;
      }
    }
    ++looked_up;
    auto found = find_socket(finders, work.flow, strict);
    // Side a in no namespace known: perhaps in one that a process entered a moment ago.
    // Not worth looking when the flow is over (its socket lingers without an inode).
    const bool side_a = found && found->exact && found->record.local == work.flow.a;
    const bool over = found && found->exact && found->record.inode == 0 &&
                      !attributor_detail::awaiting_accept(found->record);
    if (!side_a && !over && !reached) {
      reached = true;
      if (reach_new_namespaces(finders)) {
        finders = lookup_finders();
        found = find_socket(finders, work.flow, strict);
      }
    }
    if (!found) {
      no_socket.push_back(work.flow);
      if (debug) {
        core::Log::debug(
            fmt::format("attribution: {} {} -> {} try {}: no socket, {:.3f} ms after "
                        "the request",
                        proto_name(work.flow.proto), work.flow.a.to_string(),
                        work.flow.b.to_string(), work.attempt, ms_since(work.queued_ns)));
      }
      continue;
    }
    Pending p{work.flow, SocketEntry{found->record, found->netns}};
    p.queued_ns = work.queued_ns;
    p.found_ns = debug ? attributor_detail::monotonic_ns() : 0;
    p.attempt = work.attempt;
    if (!found->exact && work.flow.proto == IPPROTO_TCP) retry_later(work, started);
    if (p.entry.record.inode == 0) {
      const bool accepting = attributor_detail::awaiting_accept(p.entry.record);
      p.entry.miss = accepting ? Miss::pending : Miss::closed;
      p.closed = !accepting;
      if (accepting) retry_later(work, started);
    }
    pending.push_back(p);
  }
  const bool permission_denied = resolve_targeted(pending, since, finders);
  publish_scanner_stats();
  // Owners the scanner knew already: their details are cached before anyone can see them
  // in the table (note_gained() did it when their tables showed the sockets).
  for (const Pending& p : pending) {
    if (p.entry.pid != 0) {
      processes.note_owner(p.entry.pid, p.entry.start_time_ticks, ProcessCache::Reread::no,
                           Clock::now());
    }
  }
  std::uint64_t owned = 0;
  std::uint64_t closed = 0;
  const auto now = Clock::now();
  {
    const std::unique_lock lock(table_mutex);
    if (debug && Clock::now() - now > std::chrono::milliseconds(2)) {
      core::Log::debug(
          fmt::format("attribution: waited {:.3f} ms for the table lock (readers held it)",
                      std::chrono::duration<double, std::milli>(Clock::now() - now).count()));
    }
    table_generation.fetch_add(1, std::memory_order_release);
    for (const FlowQuery& flow : no_socket) table.record_miss(flow, Miss::no_socket, now);
    for (Pending& p : pending) {
      closed += p.closed ? 1 : 0;
      if (p.gone) {
        table.record_miss(p.flow, Miss::closed, now);
        continue;
      }
      if (p.entry.record.inode != 0 && p.entry.pid == 0) {
        p.entry.miss = permission_denied ? Miss::no_permission : Miss::no_socket;
      }
      table.upsert(p.entry, now);
      if (p.entry.pid != 0) {
        ++owned;
      } else if (p.entry.miss != Miss::pending) {
        table.record_miss(p.flow, p.entry.miss, now);
      }
    }
  }
  if (debug) log_served(pending, started, scanner.stats().fd_tables - tables_before);
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - started);
  targeted.fetch_add(looked_up, std::memory_order_relaxed);
  hits.fetch_add(owned, std::memory_order_relaxed);
  closed_first.fetch_add(closed, std::memory_order_relaxed);
  if (looked_up != 0) {
    lookup_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
    lookup_cpu_ns.fetch_add(static_cast<std::uint64_t>(thread_cpu_ns() - cpu_started),
                            std::memory_order_relaxed);
  }
}

bool Attributor::Impl::resolve_targeted(std::vector<Pending>& pending, std::uint64_t since,
                                        const NamespaceDiags::Finders& finders) {
  std::vector<WantedSocket> wanted;
  const auto collect = [&] {
    wanted.clear();
    for (Pending& p : pending) {
      if (p.gone || p.entry.record.inode == 0 || p.entry.pid != 0) continue;
      owner_from_scanner(p.entry);
      if (p.entry.pid == 0) {
        wanted.push_back(WantedSocket{p.entry.record.inode, p.entry.record.uid, p.entry.netns});
      }
    }
  };
  collect();
  if (wanted.empty()) return false;
  // The owner is most likely a process started a moment ago: list just the new pids.
  scanner.list_new_processes();
  bool denied_on_the_way = false;
  bool listed_all = false;
  std::size_t budget = kFirstTables;
  ResolveSteps steps;
  // A table with new sockets stops the search, so that their holder's details are read
  // before anything else.
  steps.pause = [this] { return !gained.empty(); };
  for (;;) {
    steps.max_tables = budget;
    const ResolveResult r = scanner.resolve(wanted, since, /*any_uid=*/true, steps);
    note_gained();
    denied_on_the_way = denied_on_the_way || r.permission_denied;
    if (r.unresolved == 0) break;
    collect();
    if (r.more && r.tables_read < budget) {
      budget -= r.tables_read;  // stopped for a holder's details: go on
      continue;
    }
    drop_closed(pending, finders);
    collect();
    if (wanted.empty()) break;
    if (!listed_all) {
      // Not among the likeliest: list every process (after a pid wrap-around a new one is
      // not above the newest) and search on.
      scanner.list_processes();
      listed_all = true;
    } else if (!r.more) {
      break;
    }
    budget = kTableStep;
  }
  collect();
  return denied_on_the_way;
}

void Attributor::Impl::drop_closed(std::vector<Pending>& pending,
                                   const NamespaceDiags::Finders& finders) {
  for (Pending& p : pending) {
    SocketEntry& e = p.entry;
    if (p.gone || e.record.inode == 0 || e.pid != 0 || scanner.find(e.record.inode) != nullptr) {
      continue;
    }
    const auto finder =
        std::find_if(finders->begin(), finders->end(),
                     [&](const NamespaceDiags::Finder& f) { return f.netns == e.netns; });
    if (finder == finders->end()) continue;
    SocketRecord now;
    const FindResult result =
        finder->diag->find(e.record.protocol, e.record.local, e.record.remote, now);
    if (result == FindResult::failed) continue;  // no answer: keep searching
    if (result == FindResult::found && now.inode == e.record.inode) continue;
    // Closed before its fd table was read. A socket that lingers (TIME_WAIT, FIN_WAIT)
    // still tells the flow's state; otherwise only the miss is kept.
    p.closed = true;
    if (result == FindResult::found && now.local == e.record.local &&
        now.remote == e.record.remote && now.inode == 0) {
      e.record = now;
      e.miss = Miss::closed;
    } else {
      p.gone = true;
    }
  }
}

}  // namespace netscope::host
