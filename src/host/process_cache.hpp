#pragma once
// ProcessCache: ProcessInfo of the processes that own sockets, keyed by (pid, start
// time) so that a reused pid is never shown with an older process's name. Entries stay
// after the process exits (a snapshot still names the processes of closed connections)
// until they have been unused for the remember window. Thread-safe: the attribution
// thread fills it, the tick thread reads it.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "host/process_info.hpp"

namespace netscope::host {

class ProcessCache {
 public:
  using Clock = std::chrono::steady_clock;

  ProcessCache(std::string proc_root, std::size_t max_entries);

  // Makes sure (pid, start) is cached; `reread` reads it again even if it is (after an
  // exec the comm and cmdline change under the same pid and start time). Does nothing
  // when the process at `pid` is no longer that one.
  void note_owner(pid_t pid, std::uint64_t start_time_ticks, bool reread, Clock::time_point now);
  // The newest incarnation of `pid` known, else read from /proc on demand.
  std::optional<ProcessInfo> get(pid_t pid);
  // Exactly that incarnation, else nullopt (read on demand if it is the live one).
  std::optional<ProcessInfo> get(pid_t pid, std::uint64_t start_time_ticks);
  // Drops entries unused since `before` whose process `alive` says has exited, and the
  // oldest ones beyond the size bound.
  void expire(Clock::time_point before, const std::function<bool(pid_t, std::uint64_t)>& alive);
  std::size_t size() const;

 private:
  struct Cached {
    ProcessInfo info;
    Clock::time_point used;
  };
  using Key = std::pair<pid_t, std::uint64_t>;
  std::optional<ProcessInfo> read_and_store(pid_t pid, std::optional<std::uint64_t> start);

  std::string proc_root_;
  std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::map<Key, Cached> entries_;  // ordered: the newest incarnation of a pid is last
};

}  // namespace netscope::host
