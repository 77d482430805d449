#include "host/process_cache.hpp"

#include <algorithm>
#include <vector>

namespace netscope::host {

namespace {

// proc(5): Z (zombie) and X (dead). Their cmdline is empty and exe unreadable.
bool exiting(const ProcessInfo& info) {
  return info.state == 'Z' || info.state == 'X';
}

}  // namespace

ProcessCache::ProcessCache(std::string proc_root, std::size_t max_entries)
    : proc_root_(std::move(proc_root)), max_entries_(std::max<std::size_t>(max_entries, 1)) {}

std::optional<ProcessInfo> ProcessCache::read_and_store(pid_t pid,
                                                        std::optional<std::uint64_t> start,
                                                        Clock::time_point now) {
  auto info = read_process_info(pid, proc_root_);
  if (!info || (start && info->start_time_ticks != *start)) return std::nullopt;
  const std::lock_guard lock(mutex_);
  const auto [it, inserted] = entries_.try_emplace({pid, info->start_time_ticks});
  it->second.used = now;
  if (inserted || !exiting(*info)) it->second.info = std::move(*info);
  return it->second.info;
}

void ProcessCache::note_owner(pid_t pid, std::uint64_t start_time_ticks, Reread reread,
                              Clock::time_point now) {
  std::string cached_exe;
  {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find({pid, start_time_ticks});
    if (it != entries_.end()) {
      it->second.used = now;
      if (reread == Reread::no) return;
      cached_exe = it->second.info.exe;
    } else {
      reread = Reread::yes;
    }
  }
  if (reread == Reread::if_exec) {
    // One readlink instead of five reads; an unreadable link tells nothing.
    const std::string exe = read_exe(pid, proc_root_);
    if (exe.empty() || exe == cached_exe) return;
  }
  // Read outside the lock: /proc reads take microseconds, readers should not wait.
  read_and_store(pid, start_time_ticks, now);
}

std::optional<ProcessInfo> ProcessCache::get(pid_t pid) {
  {
    const std::lock_guard lock(mutex_);
    auto it = entries_.upper_bound({pid, UINT64_MAX});
    if (it != entries_.begin() && (--it)->first.first == pid) {
      it->second.used = Clock::now();
      return it->second.info;
    }
  }
  return read_and_store(pid, std::nullopt, Clock::now());
}

std::optional<ProcessInfo> ProcessCache::get(pid_t pid, std::uint64_t start_time_ticks) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find({pid, start_time_ticks});
    if (it != entries_.end()) {
      it->second.used = Clock::now();
      return it->second.info;
    }
  }
  return read_and_store(pid, start_time_ticks, Clock::now());
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
  for (const Key& key : gone) {
    // Used meanwhile (the tick read it while alive() was asked): kept.
    if (auto it = entries_.find(key); it != entries_.end() && it->second.used < before) {
      entries_.erase(it);
    }
  }
  if (entries_.size() <= max_entries_) return;
  // Least recently used first.
  std::vector<std::pair<Clock::time_point, Key>> by_use;
  by_use.reserve(entries_.size());
  for (const auto& [key, cached] : entries_) by_use.emplace_back(cached.used, key);
  const std::size_t excess = entries_.size() - max_entries_;
  std::nth_element(by_use.begin(), by_use.begin() + static_cast<std::ptrdiff_t>(excess),
                   by_use.end());
  for (std::size_t i = 0; i < excess; ++i) entries_.erase(by_use[i].second);
}

std::size_t ProcessCache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace netscope::host
