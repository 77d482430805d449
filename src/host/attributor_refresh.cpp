// The refresh: every `refresh`, the refresh thread dumps the TCP and UDP sockets of every
// network namespace and hands them to the lookup thread, which maps their inodes to
// processes with the incremental ProcScanner in steps that give way to targeted lookups
// (attributor_impl.hpp).

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <unordered_set>

#include "core/log.hpp"
#include "host/attributor_impl.hpp"

namespace netscope::host {

using attributor_detail::RefreshJob;

namespace {

// Fd tables re-read per refresh for sockets that changed hands: an eighth of the
// processes, so every table is re-read within about eight refreshes, and at least this.
constexpr std::size_t kMinRevalidate = 32;
constexpr std::size_t kRevalidateShare = 8;
// While nothing changes (a light job: the same sockets, the same holders), a quarter of
// that: every table within about 32 refreshes. A socket changes hands mostly around new
// connections, and re-reading the fd table of a process that holds 10,000 sockets costs
// 10,000 readlink()s.
constexpr std::size_t kMinRevalidateIdle = 8;
constexpr std::size_t kRevalidateShareIdle = 32;
// The same shares of the fd entries of all tables, so that big tables come round as
// rarely as small ones: a process holding 10,000 sockets was re-read every 6 s while
// idle (1,700 readlink()s a second, 0.9 % of a core with 20,000 sockets on the host).
// What a refresh does not spend carries over (up to every table's entries), so the
// oldest table is read once the credit covers it.
constexpr std::size_t kMinRevalidateFds = 4096;
constexpr std::size_t kMinRevalidateFdsIdle = 256;

}  // namespace

void Attributor::Impl::run_refresh() {
  ::pthread_setname_np(::pthread_self(), "ns-refresh");
  bool warned_capacity = false;
  for (;;) {
    {
      const std::lock_guard lock(refresh_mutex);
      ++refreshes_started;
    }
    const auto started = Clock::now();
    // The processes first: they tell which namespaces to dump.
    if (!hand_over(std::make_unique<RefreshJob>())) return;
    std::unordered_map<std::uint64_t, pid_t> namespaces_in_use;
    {
      const std::lock_guard lock(job_mutex);
      namespaces_in_use = in_use;
    }
    namespaces.update(namespaces_in_use, config.other_namespaces);
    if (namespaces.capacity_skips() > 0 && !warned_capacity) {
      warned_capacity = true;
      core::Log::warn(fmt::format(
          "attribution: more network namespaces are in use than the {} its open-file limit "
          "lets it enter ({} files each); the sockets of the others are not looked up. Raise "
          "the limit (ulimit -n, systemd LimitNOFILE=) to cover them",
          namespaces.max_members(), kFilesPerNamespace));
    }

    auto next = std::make_unique<RefreshJob>();
    next->phase = RefreshJob::Phase::start;
    // Targeted lookups served from here on are newer than the dump (SocketTable::replace).
    next->dumped = Clock::now();
    std::vector<SocketRecord> records;
    std::vector<std::uint64_t> members;
    bool unchanged = true;
    for (NamespaceDiags::Member& member : namespaces.members()) {
      records.clear();
      bool changed = true;
      namespaces.dump(member, records, &changed);  // on failure the records read so far count
      unchanged = unchanged && !changed;
      members.push_back(member.netns);
      next->entries.reserve(next->entries.size() + records.size());
      for (const SocketRecord& r : records) next->entries.push_back(SocketEntry{r, member.netns});
    }
    next->unchanged = unchanged && members == dumped_namespaces;
    dumped_namespaces = std::move(members);
    const std::size_t socket_total = next->entries.size();
    if (!hand_over(std::move(next))) return;

    dumps.fetch_add(1, std::memory_order_relaxed);
    tcp_saved.store(namespaces.tcp_dumps_saved(), std::memory_order_relaxed);
    sockets.store(socket_total, std::memory_order_relaxed);
    namespace_count.store(namespaces.members().size(), std::memory_order_relaxed);
    namespace_errors.store(namespaces.enter_failures(), std::memory_order_relaxed);
    refresh_us.store(
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()),
        std::memory_order_relaxed);
    std::unique_lock lock(refresh_mutex);
    ++refreshes_done;
    refresh_cv.notify_all();
    refresh_asked_cv.wait_for(lock, config.refresh, [&] {
      return refresh_asked || !running.load(std::memory_order_acquire);
    });
    if (!running.load(std::memory_order_acquire)) return;
    refresh_asked = false;
  }
}

bool Attributor::Impl::hand_over(std::unique_ptr<RefreshJob> next) {
  std::unique_lock lock(job_mutex);
  job_posted = std::move(next);
  job_finished = false;
  job_waiting.store(true, std::memory_order_release);
  wake();
  job_cv.wait(lock, [&] { return job_finished || !running.load(std::memory_order_acquire); });
  return running.load(std::memory_order_acquire);
}

void Attributor::Impl::advance_refresh(RefreshJob& job) {
  using Phase = RefreshJob::Phase;
  ResolveSteps steps;
  // Stops for a request, and for a table that showed new sockets (details first).
  steps.pause = [this] { return lookup_waiting() || !gained.empty(); };
  // One step at least per call, however busy the lookups: a flood of new flows delays
  // the refresh but cannot stall it.
  do {
    switch (job.phase) {
      case Phase::list: {
        scanner.list_processes();
        std::unordered_map<std::uint64_t, pid_t> now_in_use = scanner.namespaces();
        // The lookup thread's own finders go when the refresh's have the namespace (it
        // opens them from this listing) or nobody has lived there for a while.
        const NamespaceDiags::Finders published = namespaces.finders();
        const auto now = Clock::now();
        for (attributor_detail::EarlyFinder& early : early_finders) {
          if (now_in_use.contains(early.finder.netns)) early.used = now;
        }
        std::erase_if(early_finders, [&](const attributor_detail::EarlyFinder& early) {
          const std::uint64_t netns = early.finder.netns;
          return now - early.used >= kNamespaceGrace ||
                 std::any_of(published->begin(), published->end(),
                             [&](const NamespaceDiags::Finder& p) { return p.netns == netns; });
        });
        std::erase_if(early_refused, [&](std::uint64_t ns) { return !now_in_use.contains(ns); });
        const std::lock_guard lock(job_mutex);
        in_use = std::move(now_in_use);
        job.phase = Phase::done;
        break;
      }
      case Phase::start: {
        // Tables read before now may predate the dump; the ones read after hold it.
        job.since = scanner.stamp();
        job.light =
            job.unchanged && finished_settled && scanner.holders_generation() == finished_holders;
        job.revalidate_left =
            job.light
                ? std::max(kMinRevalidateIdle, scanner.processes().size() / kRevalidateShareIdle)
                : std::max(kMinRevalidate, scanner.processes().size() / kRevalidateShare);
        const std::size_t known_fds = scanner.known_fds();
        const std::size_t fd_share =
            job.light ? std::max(kMinRevalidateFdsIdle, known_fds / kRevalidateShareIdle)
                      : std::max(kMinRevalidateFds, known_fds / kRevalidateShare);
        revalidate_fds = std::min(revalidate_fds + fd_share, std::max(fd_share, known_fds));
        if (job.light) {  // every socket had its holder or a settled miss: none wanted
          job.phase = Phase::revalidate;
          break;
        }
        for (std::size_t i = 0; i < job.entries.size(); ++i) {
          serve_between(i);
          const SocketEntry& e = job.entries[i];
          const std::uint32_t inode = e.record.inode;
          if (inode != 0 && scanner.find(inode) == nullptr && !orphans.contains(inode)) {
            job.wanted.push_back(WantedSocket{inode, e.record.uid, e.netns});
          }
        }
        // A process started between the listing and the dump may hold new sockets.
        if (!job.wanted.empty()) scanner.list_new_processes();
        job.phase = Phase::resolve;
        break;
      }
      case Phase::resolve: {
        const ResolveResult r = scanner.resolve(job.wanted, job.since, /*any_uid=*/true, steps);
        note_gained();
        job.permission_denied = job.permission_denied || r.permission_denied;
        if (r.more) break;
        for (const WantedSocket& w : job.wanted) {
          if (scanner.find(w.inode) == nullptr) {
            orphans[w.inode] = job.permission_denied ? Miss::no_permission : Miss::no_socket;
          }
        }
        job.phase = Phase::revalidate;
        break;
      }
      case Phase::revalidate: {
        std::size_t fds = 0;
        const std::size_t read =
            scanner.revalidate(job.revalidate_left, job.since, steps.pause, revalidate_fds, &fds);
        note_gained();
        job.revalidate_left -= std::min(job.revalidate_left, read);
        revalidate_fds -= std::min(revalidate_fds, fds);
        if (read == 0 || job.revalidate_left == 0) job.phase = Phase::finish;
        break;
      }
      case Phase::finish:
        if (job.light && scanner.holders_generation() == finished_holders) {
          finish_light_refresh();
        } else {
          finish_refresh(job);
        }
        job.phase = Phase::done;
        break;
      case Phase::done:
        break;
    }
  } while (job.phase != Phase::done && !lookup_waiting());
}

void Attributor::Impl::finish_refresh(RefreshJob& job) {
  std::unordered_set<std::uint64_t> present;
  std::unordered_set<pid_t> owners;
  bool settled = true;
  present.reserve(job.entries.size());
  for (std::size_t i = 0; i < job.entries.size(); ++i) {
    serve_between(i);
    SocketEntry& e = job.entries[i];
    if (e.record.inode == 0) {
      const bool accepting = attributor_detail::awaiting_accept(e.record);
      e.miss = accepting ? Miss::pending : Miss::closed;
      settled = settled && !accepting;
      continue;
    }
    present.insert(e.record.inode);
    owner_from_scanner(e);
    if (e.pid != 0) {
      owners.insert(e.pid);
    } else if (const auto it = orphans.find(e.record.inode); it != orphans.end()) {
      e.miss = it->second;
    } else {
      settled = false;  // to be looked for at the next refresh
    }
  }
  finished_holders = scanner.holders_generation();
  finished_settled = settled;
  finished_owners.assign(owners.begin(), owners.end());
  std::erase_if(orphans, [&](const auto& item) { return !present.contains(item.first); });

  // Details first, then the owners become visible. The tables that showed new sockets had
  // their process's details read at once (note_gained); this keeps the others in use and
  // reads any that are missing.
  for (const pid_t pid : owners) {
    if (const ProcessEntry* p = scanner.process(pid)) {
      processes.note_owner(pid, p->start_time_ticks, ProcessCache::Reread::no, Clock::now());
    }
  }
  const auto now = Clock::now();
  {
    const std::unique_lock lock(table_mutex);
    table_generation.fetch_add(1, std::memory_order_release);
    table.replace(job.entries, job.dumped, now);
    table.expire(now);
  }
  processes.expire(now - config.remember, [&](pid_t pid, std::uint64_t start) {
    const ProcessEntry* p = scanner.process(pid);
    return p != nullptr && p->start_time_ticks == start;
  });
  process_count.store(scanner.processes().size(), std::memory_order_relaxed);
  publish_scanner_stats();
}

void Attributor::Impl::finish_light_refresh() {
  // The table holds what finish_refresh() would put there again; the owners stay in use,
  // and what expires, expires.
  unchanged.fetch_add(1, std::memory_order_relaxed);
  const auto now = Clock::now();
  for (const pid_t pid : finished_owners) {
    if (const ProcessEntry* p = scanner.process(pid)) {
      processes.note_owner(pid, p->start_time_ticks, ProcessCache::Reread::no, now);
    }
  }
  {
    const std::unique_lock lock(table_mutex);
    const std::size_t before = table.remembered() + table.misses();
    table.expire(now);
    if (table.remembered() + table.misses() != before) {
      table_generation.fetch_add(1, std::memory_order_release);
    }
  }
  processes.expire(now - config.remember, [&](pid_t pid, std::uint64_t start) {
    const ProcessEntry* p = scanner.process(pid);
    return p != nullptr && p->start_time_ticks == start;
  });
  process_count.store(scanner.processes().size(), std::memory_order_relaxed);
  publish_scanner_stats();
}

}  // namespace netscope::host
