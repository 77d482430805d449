#include "host/attributor.hpp"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "host/attributor_impl.hpp"

namespace netscope::host {

namespace {

bool has_sockets(std::uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

}  // namespace

namespace attributor_detail {

bool awaiting_accept(const SocketRecord& r) {
  const auto state = [](TcpState s) { return static_cast<std::uint8_t>(s); };
  return r.protocol == IPPROTO_TCP && r.inode == 0 &&
         (r.state == state(TcpState::syn_recv) || r.state == state(TcpState::new_syn_recv) ||
          r.state == state(TcpState::established));
}

}  // namespace attributor_detail

Attributor::Impl::Impl(AttributorConfig c)
    : config(std::move(c)),
      queue(config.queue_capacity),
      scanner(config.proc_root),
      namespaces(config.proc_root),
      own_netns(namespaces.own()),
      table(config.remember, config.max_remembered),
      processes(config.proc_root, config.max_remembered) {
  wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    throw std::runtime_error(std::string("attributor: eventfd failed: ") + std::strerror(errno));
  }
  batch.reserve(queue.capacity() * 2);
  // A table that shows new sockets stops the search (ResolveSteps::pause in the callers),
  // and the process's details are read at once (note_gained): it runs now, and a curl is
  // gone a millisecond later.
  scanner.on_sockets_gained(
      [this](const ProcessEntry& p) { gained.emplace_back(p.pid, p.start_time_ticks); });
}

Attributor::Impl::~Impl() {
  ::close(wake_fd);
}

void Attributor::Impl::wake() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof(one));
}

void Attributor::Impl::owner_from_scanner(SocketEntry& entry) const {
  const SocketHolders* holders = scanner.find(entry.record.inode);
  if (holders == nullptr) return;
  const ProcessEntry* process = scanner.process(holders->owner);
  if (process == nullptr) return;
  entry.pid = holders->owner;
  entry.start_time_ticks = process->start_time_ticks;
}

void Attributor::Impl::note_gained() {
  for (const auto& [pid, start] : gained) {
    processes.note_owner(pid, start, ProcessCache::Reread::if_exec, Clock::now());
  }
  gained.clear();
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
  if (impl_->lookup_thread.joinable()) return;
  impl_->running.store(true, std::memory_order_release);
  impl_->lookup_thread = std::thread([impl = impl_.get()] { impl->run_lookups(); });
  impl_->refresh_thread = std::thread([impl = impl_.get()] { impl->run_refresh(); });
}

void Attributor::stop() {
  if (!impl_->lookup_thread.joinable()) return;
  {
    // Under both mutexes, so that neither thread can check `running` and then sleep
    // through the notifications below.
    const std::scoped_lock lock(impl_->refresh_mutex, impl_->job_mutex);
    impl_->running.store(false, std::memory_order_release);
  }
  impl_->refresh_asked_cv.notify_all();
  impl_->job_cv.notify_all();
  impl_->wake();
  impl_->lookup_thread.join();
  impl_->refresh_thread.join();
}

bool Attributor::request(const FlowQuery& q) noexcept {
  if (!has_sockets(q.proto)) return true;
  if (!impl_->queue.try_push(attributor_detail::Request{q, attributor_detail::monotonic_ns()})) {
    impl_->overflow.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  impl_->requests.fetch_add(1, std::memory_order_relaxed);
  if (!impl_->wake_pending.exchange(true, std::memory_order_acq_rel)) impl_->wake();
  return true;
}

Lookup Attributor::lookup(const FlowQuery& q) const {
  const std::shared_lock lock(impl_->table_mutex);
  return impl_->table.lookup(q, Impl::Clock::now());
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

std::uint64_t Attributor::table_generation() const {
  return impl_->table_generation.load(std::memory_order_acquire);
}

AttributorStats Attributor::stats() const {
  const Impl& s = *impl_;
  AttributorStats out;
  out.requests = s.requests.load(std::memory_order_relaxed);
  out.queue_overflow = s.overflow.load(std::memory_order_relaxed);
  out.targeted_lookups = s.targeted.load(std::memory_order_relaxed);
  out.coalesced_turns = s.coalesced_turns.load(std::memory_order_relaxed);
  out.targeted_queries = s.queries.load(std::memory_order_relaxed);
  out.targeted_queries_skipped = s.queries_skipped.load(std::memory_order_relaxed);
  out.targeted_hits = s.hits.load(std::memory_order_relaxed);
  out.targeted_closed = s.closed_first.load(std::memory_order_relaxed);
  out.full_dumps = s.dumps.load(std::memory_order_relaxed);
  out.tcp_dumps_saved = s.tcp_saved.load(std::memory_order_relaxed);
  out.unchanged_refreshes = s.unchanged.load(std::memory_order_relaxed);
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
  out.short_slice = s.short_slice.load(std::memory_order_relaxed);
  out.realtime = s.realtime.load(std::memory_order_relaxed);
  out.realtime_demotions = s.realtime_demotions.load(std::memory_order_relaxed);
  return out;
}

bool Attributor::wait_until_ready(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->refresh_mutex);
  return impl_->refresh_cv.wait_for(lock, timeout, [&] { return impl_->refreshes_done >= 1; });
}

bool Attributor::drain(std::chrono::milliseconds timeout) const {
  if (!impl_->running.load(std::memory_order_acquire)) return false;
  const std::uint64_t target = impl_->requests.load(std::memory_order_relaxed);
  const auto deadline = Impl::Clock::now() + timeout;
  while (impl_->served.load(std::memory_order_acquire) < target) {
    if (Impl::Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

bool Attributor::refresh_now(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->refresh_mutex);
  // A refresh already running may have read the kernel before this call: wait for the next.
  const std::uint64_t target = impl_->refreshes_started + 1;
  impl_->refresh_asked = true;
  impl_->refresh_asked_cv.notify_all();
  return impl_->refresh_cv.wait_for(lock, timeout, [&] { return impl_->refreshes_done >= target; });
}

}  // namespace netscope::host
