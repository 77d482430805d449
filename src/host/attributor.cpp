#include "host/attributor.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "host/namespace_diags.hpp"
#include "host/proc_scanner.hpp"
#include "host/process_cache.hpp"
#include "host/request_queue.hpp"
#include "host/socket_table.hpp"

namespace netscope::host {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A TCP flow first seen at its SYN is answered by the listener (the connection is not
// accepted yet, or its request socket has no inode); these re-ask for the accepted socket.
constexpr std::array<Clock::duration, 4> kRetryDelays{2ms, 10ms, 50ms, 250ms};
// Fd tables re-read per refresh for sockets that changed hands: an eighth of the
// processes, so every table is re-read within about eight refreshes, and at least this.
constexpr std::size_t kMinRevalidate = 32;
constexpr std::size_t kRevalidateShare = 8;

constexpr auto state_of(TcpState s) {
  return static_cast<std::uint8_t>(s);
}

// A connection the kernel has but no process has accepted yet: a request socket, or a
// child socket waiting in the accept queue (no struct socket, hence inode 0).
bool awaiting_accept(const SocketRecord& r) {
  return r.protocol == IPPROTO_TCP && r.inode == 0 &&
         (r.state == state_of(TcpState::syn_recv) || r.state == state_of(TcpState::new_syn_recv) ||
          r.state == state_of(TcpState::established));
}

bool has_sockets(std::uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

// CPU time of the calling thread: the lookup cost without the waits of a busy machine.
std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Work {
  FlowQuery flow;
  std::uint8_t attempt = 0;  // retries already made
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

}  // namespace

struct Attributor::Impl {
  explicit Impl(AttributorConfig c)
      : config(std::move(c)),
        queue(config.queue_capacity),
        scanner(config.proc_root),
        namespaces(config.proc_root),
        table(config.remember, config.max_remembered),
        processes(config.proc_root, config.max_remembered) {
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) {
      throw std::runtime_error(std::string("attributor: eventfd failed: ") + std::strerror(errno));
    }
    batch.reserve(queue.capacity() * 2);
  }
  ~Impl() { ::close(wake_fd); }

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof(one));
  }

  void run();
  void refresh();
  void serve();
  std::optional<Found> find_socket(const FlowQuery& flow);
  void retry_later(const Work& work, Clock::time_point now);
  void owner_from_scanner(SocketEntry& entry) const;
  void publish_scanner_stats();

  AttributorConfig config;
  RequestQueue<FlowQuery> queue;
  int wake_fd = -1;
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> running{false};
  std::atomic<bool> refresh_asked{false};
  std::thread worker;

  // Owned by the worker thread.
  ProcScanner scanner;
  NamespaceDiags namespaces;
  std::unordered_map<std::uint64_t, Miss> orphans;  // inodes a full search found no holder for
  std::vector<Retry> retries;
  std::vector<Work> batch;

  // Shared with readers.
  mutable std::shared_mutex table_mutex;
  SocketTable table;
  mutable ProcessCache processes;

  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> overflow{0};
  std::atomic<std::uint64_t> targeted{0};
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> dumps{0};
  std::atomic<std::uint64_t> sockets{0};
  std::atomic<std::uint64_t> namespace_count{0};
  std::atomic<std::uint64_t> lookup_ns{0};
  std::atomic<std::uint64_t> lookup_cpu_ns{0};
  std::atomic<std::uint64_t> proc_scans{0};
  std::atomic<std::uint64_t> denied{0};
  std::atomic<std::uint64_t> namespace_errors{0};
  std::atomic<std::uint64_t> process_count{0};
  std::atomic<std::uint64_t> refresh_us{0};

  mutable std::mutex refresh_mutex;
  mutable std::condition_variable refresh_cv;
  std::uint64_t refreshes_started = 0;
  std::uint64_t refreshes_done = 0;
};

void Attributor::Impl::run() {
  refresh();
  Clock::time_point next_refresh = Clock::now() + config.refresh;
  while (running.load(std::memory_order_acquire)) {
    Clock::time_point deadline = next_refresh;
    for (const Retry& r : retries) deadline = std::min(deadline, r.due);
    const auto wait = std::max(Clock::duration::zero(), deadline - Clock::now());
    const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000), wait_ns % 1'000'000'000};
    pollfd pfd{wake_fd, POLLIN, 0};
    if (::ppoll(&pfd, 1, &timeout, nullptr) > 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const auto n = ::read(wake_fd, &count, sizeof(count));
    }
    // An RMW, so it synchronizes with the producer's exchange(true): what it pushed before
    // is visible to the drain below, and a push after this point writes the eventfd again.
    wake_pending.exchange(false, std::memory_order_acq_rel);
    if (!running.load(std::memory_order_acquire)) break;

    batch.clear();
    Work work;
    while (batch.size() < queue.capacity() && queue.try_pop(work.flow)) batch.push_back(work);
    const Clock::time_point now = Clock::now();
    std::erase_if(retries, [&](const Retry& r) {
      if (r.due > now) return false;
      batch.push_back(r.work);
      return true;
    });
    if (!batch.empty()) serve();
    if (refresh_asked.exchange(false) || Clock::now() >= next_refresh) {
      refresh();
      next_refresh = Clock::now() + config.refresh;
    }
  }
}

void Attributor::Impl::retry_later(const Work& work, Clock::time_point now) {
  if (work.attempt >= kRetryDelays.size() || retries.size() >= queue.capacity()) return;
  retries.push_back(Retry{Work{work.flow, static_cast<std::uint8_t>(work.attempt + 1)},
                          now + kRetryDelays[work.attempt]});
}

std::optional<Found> Attributor::Impl::find_socket(const FlowQuery& flow) {
  std::optional<Found> guess;
  const std::array<std::pair<core::Endpoint, core::Endpoint>, 2> sides{
      {{flow.a, flow.b}, {flow.b, flow.a}}};
  // Side a first in every namespace, then side b: the caller puts the end it asks about
  // first (the SYN watch: the client). When both ends live on this host, e.g. a container
  // talking to a server in the own namespace, namespace order must not pick the server.
  for (const auto& [local, remote] : sides) {
    for (NamespaceDiags::Member& member : namespaces.members()) {
      SocketRecord record;
      if (member.diag->find(flow.proto, local, remote, record) != FindResult::found) continue;
      if (record.local == local && record.remote == remote) {
        return Found{record, member.netns, true};
      }
      // The kernel fell back to the listener (TCP) or a bound socket (UDP) of this port.
      const bool fits = record.local.port == local.port && is_unconnected(record.remote) &&
                        (flow.proto == IPPROTO_UDP || record.state == state_of(TcpState::listen));
      if (fits && !guess) guess = Found{record, member.netns, false};
    }
  }
  return guess;
}

void Attributor::Impl::owner_from_scanner(SocketEntry& entry) const {
  const SocketHolders* holders = scanner.find(entry.record.inode);
  if (holders == nullptr) return;
  const ProcessEntry* process = scanner.process(holders->owner);
  if (process == nullptr) return;
  entry.pid = holders->owner;
  entry.start_time_ticks = process->start_time_ticks;
}

void Attributor::Impl::serve() {
  const auto started = Clock::now();
  const std::int64_t cpu_started = thread_cpu_ns();
  const std::uint64_t since = scanner.stamp();
  struct Pending {
    FlowQuery flow;
    SocketEntry entry;
  };
  std::vector<Pending> pending;
  std::vector<WantedSocket> wanted;
  std::vector<FlowQuery> no_socket;
  std::uint64_t looked_up = 0;
  for (const Work& work : batch) {
    {
      const std::shared_lock lock(table_mutex);
      if (table.settled(work.flow, started)) continue;
    }
    ++looked_up;
    const auto found = find_socket(work.flow);
    if (!found) {
      no_socket.push_back(work.flow);
      continue;
    }
    SocketEntry entry{found->record, found->netns};
    if (!found->exact && work.flow.proto == IPPROTO_TCP) retry_later(work, started);
    if (entry.record.inode == 0) {
      const bool accepting = awaiting_accept(entry.record);
      entry.miss = accepting ? Miss::pending : Miss::closed;
      if (accepting) retry_later(work, started);
    } else {
      owner_from_scanner(entry);
      if (entry.pid == 0) wanted.push_back(WantedSocket{entry.record.inode, entry.record.uid});
    }
    pending.push_back(Pending{work.flow, entry});
  }

  ResolveResult resolved;
  if (!wanted.empty()) {
    scanner.list_processes();  // the owner may be a process started a moment ago
    resolved = scanner.resolve(wanted, since, /*any_uid=*/true);
  }
  std::uint64_t owned = 0;
  const auto now = Clock::now();
  {
    const std::unique_lock lock(table_mutex);
    for (const FlowQuery& flow : no_socket) table.record_miss(flow, Miss::no_socket, now);
    for (Pending& p : pending) {
      if (p.entry.record.inode != 0 && p.entry.pid == 0) {
        owner_from_scanner(p.entry);
        if (p.entry.pid == 0) {
          p.entry.miss = resolved.permission_denied ? Miss::no_permission : Miss::no_socket;
        }
      }
      table.upsert(p.entry, now);
      if (p.entry.pid != 0) {
        ++owned;
      } else if (p.entry.miss != Miss::pending) {
        table.record_miss(p.flow, p.entry.miss, now);
      }
    }
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - started);
  targeted.fetch_add(looked_up, std::memory_order_relaxed);
  hits.fetch_add(owned, std::memory_order_relaxed);
  if (looked_up != 0) {
    lookup_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
    lookup_cpu_ns.fetch_add(static_cast<std::uint64_t>(thread_cpu_ns() - cpu_started),
                            std::memory_order_relaxed);
  }
  for (const Pending& p : pending) {
    if (p.entry.pid != 0) processes.note_owner(p.entry.pid, p.entry.start_time_ticks, false, now);
  }
  publish_scanner_stats();
}

void Attributor::Impl::refresh() {
  {
    const std::lock_guard lock(refresh_mutex);
    ++refreshes_started;
  }
  const auto started = Clock::now();
  const std::uint64_t since = scanner.stamp();
  scanner.list_processes();
  namespaces.update(scanner.processes(), config.other_namespaces);

  std::vector<SocketEntry> entries;
  std::vector<SocketRecord> records;
  for (NamespaceDiags::Member& member : namespaces.members()) {
    records.clear();
    member.diag->dump(records);  // on failure the records read so far still count
    for (const SocketRecord& r : records) entries.push_back(SocketEntry{r, member.netns});
  }

  std::vector<WantedSocket> wanted;
  for (const SocketEntry& e : entries) {
    const std::uint32_t inode = e.record.inode;
    if (inode != 0 && scanner.find(inode) == nullptr && !orphans.contains(inode)) {
      wanted.push_back(WantedSocket{inode, e.record.uid});
    }
  }
  // A process started between the listing above and the dump may hold new sockets.
  if (!wanted.empty()) scanner.list_processes();
  const ResolveResult resolved = scanner.resolve(wanted, since, /*any_uid=*/true);
  for (const WantedSocket& w : wanted) {
    if (scanner.find(w.inode) == nullptr) {
      orphans[w.inode] = resolved.permission_denied ? Miss::no_permission : Miss::no_socket;
    }
  }
  const std::size_t process_total = scanner.processes().size();
  scanner.revalidate(std::max(kMinRevalidate, process_total / kRevalidateShare), since);

  std::unordered_set<std::uint64_t> present;
  std::unordered_set<pid_t> owners;
  for (SocketEntry& e : entries) {
    if (e.record.inode == 0) {
      e.miss = awaiting_accept(e.record) ? Miss::pending : Miss::closed;
      continue;
    }
    present.insert(e.record.inode);
    owner_from_scanner(e);
    if (e.pid != 0) {
      owners.insert(e.pid);
    } else if (const auto it = orphans.find(e.record.inode); it != orphans.end()) {
      e.miss = it->second;
    }
  }
  std::erase_if(orphans, [&](const auto& item) { return !present.contains(item.first); });

  const auto now = Clock::now();
  {
    const std::unique_lock lock(table_mutex);
    table.replace(entries, now);
    table.expire(now);
  }
  for (const pid_t pid : owners) {
    const ProcessEntry* p = scanner.process(pid);
    if (p == nullptr) continue;
    // A process that opened sockets since the last refresh may have exec()ed meanwhile.
    processes.note_owner(pid, p->start_time_ticks, p->gained_stamp > since, now);
  }
  processes.expire(now - config.remember, [&](pid_t pid, std::uint64_t start) {
    const ProcessEntry* p = scanner.process(pid);
    return p != nullptr && p->start_time_ticks == start;
  });

  dumps.fetch_add(1, std::memory_order_relaxed);
  sockets.store(entries.size(), std::memory_order_relaxed);
  namespace_count.store(namespaces.members().size(), std::memory_order_relaxed);
  namespace_errors.store(namespaces.enter_failures(), std::memory_order_relaxed);
  process_count.store(process_total, std::memory_order_relaxed);
  refresh_us.store(
      static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()),
      std::memory_order_relaxed);
  publish_scanner_stats();
  {
    const std::lock_guard lock(refresh_mutex);
    ++refreshes_done;
  }
  refresh_cv.notify_all();
}

void Attributor::Impl::publish_scanner_stats() {
  proc_scans.store(scanner.stats().fd_tables, std::memory_order_relaxed);
  denied.store(scanner.stats().permission_denied, std::memory_order_relaxed);
}

Attributor::Attributor(AttributorConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

Attributor::~Attributor() {
  stop();
}

void Attributor::start() {
  if (impl_->worker.joinable()) return;
  impl_->running.store(true, std::memory_order_release);
  impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
}

void Attributor::stop() {
  if (!impl_->worker.joinable()) return;
  impl_->running.store(false, std::memory_order_release);
  impl_->wake();
  impl_->worker.join();
}

bool Attributor::request(const FlowQuery& q) noexcept {
  if (!has_sockets(q.proto)) return true;
  if (!impl_->queue.try_push(q)) {
    impl_->overflow.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  impl_->requests.fetch_add(1, std::memory_order_relaxed);
  if (!impl_->wake_pending.exchange(true, std::memory_order_acq_rel)) impl_->wake();
  return true;
}

Lookup Attributor::lookup(const FlowQuery& q) const {
  const std::shared_lock lock(impl_->table_mutex);
  return impl_->table.lookup(q, Clock::now());
}

std::optional<ProcessInfo> Attributor::process(pid_t pid) const {
  return impl_->processes.get(pid);
}

std::optional<ProcessInfo> Attributor::process(pid_t pid, std::uint64_t start_time_ticks) const {
  return impl_->processes.get(pid, start_time_ticks);
}

bool Attributor::alive(pid_t pid, std::uint64_t start_time_ticks) const {
  return read_start_time(pid, impl_->config.proc_root) == start_time_ticks;
}

AttributorStats Attributor::stats() const {
  const Impl& s = *impl_;
  AttributorStats out;
  out.requests = s.requests.load(std::memory_order_relaxed);
  out.queue_overflow = s.overflow.load(std::memory_order_relaxed);
  out.targeted_lookups = s.targeted.load(std::memory_order_relaxed);
  out.targeted_hits = s.hits.load(std::memory_order_relaxed);
  out.full_dumps = s.dumps.load(std::memory_order_relaxed);
  out.sockets = s.sockets.load(std::memory_order_relaxed);
  out.namespaces = s.namespace_count.load(std::memory_order_relaxed);
  out.proc_scans = s.proc_scans.load(std::memory_order_relaxed);
  const std::uint64_t ns = s.lookup_ns.load(std::memory_order_relaxed);
  const std::uint64_t cpu_ns = s.lookup_cpu_ns.load(std::memory_order_relaxed);
  if (out.targeted_lookups != 0) {
    const auto n = static_cast<double>(out.targeted_lookups);
    out.mean_lookup_us = static_cast<double>(ns) / 1e3 / n;
    out.mean_lookup_cpu_us = static_cast<double>(cpu_ns) / 1e3 / n;
  }
  out.permission_denied = s.denied.load(std::memory_order_relaxed);
  out.namespace_errors = s.namespace_errors.load(std::memory_order_relaxed);
  out.processes = s.process_count.load(std::memory_order_relaxed);
  out.last_refresh_ms = static_cast<double>(s.refresh_us.load(std::memory_order_relaxed)) / 1e3;
  return out;
}

bool Attributor::wait_until_ready(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->refresh_mutex);
  return impl_->refresh_cv.wait_for(lock, timeout, [&] { return impl_->refreshes_done >= 1; });
}

bool Attributor::refresh_now(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->refresh_mutex);
  // A refresh already running may have read the kernel before this call: wait for the next.
  const std::uint64_t target = impl_->refreshes_started + 1;
  impl_->refresh_asked.store(true, std::memory_order_release);
  impl_->wake();
  return impl_->refresh_cv.wait_for(lock, timeout, [&] { return impl_->refreshes_done >= target; });
}

}  // namespace netscope::host
