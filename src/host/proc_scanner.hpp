#pragma once
// ProcScanner maps socket inodes to the processes that hold them, by walking
// /proc/<pid>/fd/* and reading each link ("socket:[INODE]"). sock_diag tells us the inode
// of a connection; this map turns it into a pid. The walk is slow (one readlink per open
// fd on the machine), so it runs off the packet thread and is timed: `stats().duration`.
// Processes that exit mid-scan (ENOENT) and fd tables we may not read (EACCES, when not
// root) are counted, never fatal.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netscope::host {

// Who holds one socket. A socket inherited across fork() or passed over SCM_RIGHTS is in
// several fd tables; the lowest pid (usually the parent) is the owner, the rest are kept.
struct SocketHolders {
  pid_t owner = 0;
  std::vector<pid_t> others;  // ascending, without the owner
};

struct ProcScanStats {
  std::uint64_t processes = 0;          // numeric /proc entries visited
  std::uint64_t fds = 0;                // fd links read
  std::uint64_t sockets = 0;            // distinct socket inodes found
  std::uint64_t permission_denied = 0;  // fd dirs or links refused with EACCES/EPERM
  std::uint64_t vanished = 0;           // processes gone (ENOENT/ESRCH) during the scan
  std::chrono::nanoseconds duration{0};
};

// "socket:[12345]" -> 12345; anything else (pipe:[..], a path, garbage) -> nullopt.
std::optional<std::uint64_t> parse_socket_link(std::string_view link);

class ProcScanner {
 public:
  explicit ProcScanner(std::string proc_root = "/proc");

  // Rebuilds the inode -> holders map from scratch. Fails (returns false) only when the
  // proc root itself cannot be opened; per-process errors are counted in stats().
  bool scan();

  const SocketHolders* find(std::uint64_t inode) const;
  std::optional<pid_t> owner_of(std::uint64_t inode) const;
  const std::unordered_map<std::uint64_t, SocketHolders>& sockets() const { return sockets_; }
  const ProcScanStats& stats() const { return stats_; }
  const std::string& proc_root() const { return proc_root_; }

 private:
  void scan_process(pid_t pid, const std::string& fd_dir);

  std::string proc_root_;
  std::unordered_map<std::uint64_t, SocketHolders> sockets_;
  ProcScanStats stats_;
};

}  // namespace netscope::host
