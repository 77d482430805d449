#pragma once
// PidListing: the processes (numeric entries) of a proc root, listed in full or only from
// a pid onwards. A targeted lookup needs the process started a moment ago, and listing
// every process for it costs about 1 us per process; listing from the highest pid seen
// costs only the new ones.
//
// That relies on how procfs lists its root (fs/proc/base.c, proc_pid_readdir()): thread
// group leaders in ascending pid order, each at the directory offset TGID_OFFSET + pid,
// and a seek to an offset resumes the listing at the first pid at or above it. The
// constant is not exported, so the full listing learns it from the entries' d_off (the
// offset of the entry after each one) and uses it only when every pair of entries agrees
// and the directory is procfs. Anything else (a fake tree in tests, a kernel that lists
// differently) just gets full listings.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netscope::host {

class PidListing {
 public:
  explicit PidListing(std::string proc_root);
  ~PidListing();
  PidListing(const PidListing&) = delete;
  PidListing& operator=(const PidListing&) = delete;

  // The proc root, open as a directory for openat() (-1 when it could not be opened).
  int root_fd() const { return fd_; }
  // Every pid, ascending on procfs. False when the root cannot be read.
  bool list_all(std::vector<pid_t>& out);
  // The pids >= `first`, when the directory supports listing from a pid (see above);
  // nullopt otherwise, and the caller falls back to list_all().
  std::optional<std::size_t> list_from(pid_t first, std::vector<pid_t>& out);
  bool can_list_from() const { return offset_.has_value(); }

 private:
  // Reads entries from the current position to the end. `learn`: check the d_off of each
  // pair of consecutive pids for the pid-to-offset constant.
  bool read_entries(std::vector<pid_t>& out, bool learn);

  std::string proc_root_;
  int fd_ = -1;
  bool procfs_ = false;
  std::optional<std::int64_t> offset_;  // d_off of the entry before pid P is P + offset_
};

}  // namespace netscope::host
