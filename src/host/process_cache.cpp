#include "host/process_cache.hpp"

#include <algorithm>
#include <vector>

namespace netscope::host {

ProcessCache::ProcessCache(std::string proc_root, std::size_t max_entries)
    : proc_root_(std::move(proc_root)), max_entries_(std::max<std::size_t>(max_entries, 1)) {}

std::optional<ProcessInfo> ProcessCache::read_and_store(pid_t pid,
                                                        std::optional<std::uint64_t> start) {
  auto info = read_process_info(pid, proc_root_);
  if (!info || (start && info->start_time_ticks != *start)) return std::nullopt;
  const std::lock_guard lock(mutex_);
  entries_[{pid, info->start_time_ticks}] = Cached{*info, Clock::now()};
  return info;
}

void ProcessCache::note_owner(pid_t pid, std::uint64_t start_time_ticks, bool reread,
                              Clock::time_point now) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find({pid, start_time_ticks});
    if (it != entries_.end()) {
      it->second.used = now;
      if (!reread) return;
    }
  }
  // Read outside the lock: /proc reads take microseconds, readers should not wait.
  read_and_store(pid, start_time_ticks);
}

std::optional<ProcessInfo> ProcessCache::get(pid_t pid) {
  {
    const std::lock_guard lock(mutex_);
    auto it = entries_.upper_bound({pid, UINT64_MAX});
    if (it != entries_.begin() && (--it)->first.first == pid) return it->second.info;
  }
  return read_and_store(pid, std::nullopt);
}

std::optional<ProcessInfo> ProcessCache::get(pid_t pid, std::uint64_t start_time_ticks) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find({pid, start_time_ticks});
    if (it != entries_.end()) return it->second.info;
  }
  return read_and_store(pid, start_time_ticks);
}

void ProcessCache::expire(Clock::time_point before,
                          const std::function<bool(pid_t, std::uint64_t)>& alive) {
  std::vector<Key> idle;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [key, cached] : entries_) {
      if (cached.used < before) idle.push_back(key);
    }
  }
  std::vector<Key> gone;
  for (const Key& key : idle) {
    if (!alive(key.first, key.second)) gone.push_back(key);
  }
  const std::lock_guard lock(mutex_);
  for (const Key& key : gone) entries_.erase(key);
  while (entries_.size() > max_entries_) {
    const auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.used < b.second.used;
    });
    entries_.erase(oldest);
  }
}

std::size_t ProcessCache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace netscope::host
