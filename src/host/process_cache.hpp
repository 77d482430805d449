#pragma once
// ProcessCache: ProcessInfo of the processes that own sockets, keyed by (pid, start
// time) so that a reused pid is never shown with an older process's name. The attribution
// thread stores an owner's details the moment it identifies it (its fd table was just
// read, so it is alive); a curl that lives 20 ms is gone before the next tick asks. The
// entries stay after the process exits, so a snapshot still names the processes of
// closed connections, until they have been unused for the remember window; the least
// recently used go first beyond the size bound. Thread-safe: the attribution thread
// fills it, the tick thread reads it.

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

  // When note_owner() reads a process that is cached already.
  enum class Reread : std::uint8_t {
    no,       // keep the cached details
    if_exec,  // only if /proc/<pid>/exe changed (it exec()ed: new comm and cmdline)
    yes,      // always (the caller knows the process changed)
  };

  ProcessCache(std::string proc_root, std::size_t max_entries);

  // Makes sure (pid, start) is cached. Does nothing when the process at `pid` is no
  // longer that one. A re-read that finds the process exiting (a zombie has no cmdline
  // or exe any more) keeps the details read while it ran.
  void note_owner(pid_t pid, std::uint64_t start_time_ticks, Reread reread, Clock::time_point now);
  // The newest incarnation of `pid` known, else read from /proc on demand.
  std::optional<ProcessInfo> get(pid_t pid);
  // Exactly that incarnation, else nullopt (read on demand if it is the live one).
  std::optional<ProcessInfo> get(pid_t pid, std::uint64_t start_time_ticks);
  // Drops entries unused since `before` whose process `alive` says has exited, and the
  // least recently used ones beyond the size bound.
  void expire(Clock::time_point before, const std::function<bool(pid_t, std::uint64_t)>& alive);
  std::size_t size() const;

 private:
  struct Cached {
    ProcessInfo info;
    Clock::time_point used;
  };
  using Key = std::pair<pid_t, std::uint64_t>;
  std::optional<ProcessInfo> read_and_store(pid_t pid, std::optional<std::uint64_t> start,
                                            Clock::time_point now);

  std::string proc_root_;
  std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::map<Key, Cached> entries_;  // ordered: the newest incarnation of a pid is last
};

}  // namespace netscope::host
