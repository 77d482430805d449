#pragma once
// NamespaceDiags: one sock_diag socket per network namespace that processes live in, so
// the attribution thread can dump and query the sockets of containers, flatpaks and
// `ip netns` namespaces as well as its own. Namespaces are found through the processes'
// /proc/<pid>/ns/net (ProcScanner records their inodes); a socket for a new one is
// created inside it by a helper thread (netns.hpp), which needs CAP_SYS_ADMIN. A
// namespace no process uses any more is let go: holding its socket would keep it alive.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "host/proc_scanner.hpp"
#include "host/sock_diag.hpp"

namespace netscope::host {

class NamespaceDiags {
 public:
  struct Member {
    std::uint64_t netns = 0;
    std::unique_ptr<SockDiag> diag;
  };

  // The own namespace is the calling thread's. Throws like SockDiag() when netlink
  // sockets are blocked altogether.
  explicit NamespaceDiags(std::string proc_root);

  // Opens sockets for namespaces first seen among `processes` (when `others`), and drops
  // those whose last process is gone. A namespace that cannot be entered is counted once
  // and not retried while it exists.
  void update(const std::unordered_map<pid_t, ProcessEntry>& processes, bool others);

  // The own namespace first, then the others.
  std::vector<Member>& members() { return members_; }
  std::uint64_t own() const { return members_.front().netns; }
  std::uint64_t enter_failures() const { return enter_failures_; }
  const std::string& last_error() const { return last_error_; }

 private:
  // False only when the namespace refused us (setns or open failed); a pid that left the
  // namespace meanwhile is not a refusal.
  bool try_open(std::uint64_t netns, pid_t via);

  std::string proc_root_;
  std::vector<Member> members_;
  std::unordered_set<std::uint64_t> refused_;  // namespaces setns() refused
  std::uint64_t enter_failures_ = 0;
  std::string last_error_;
};

}  // namespace netscope::host
