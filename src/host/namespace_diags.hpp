#pragma once
// NamespaceDiags: sock_diag sockets for every network namespace that processes live in,
// so the attribution threads can dump and query the sockets of containers, flatpaks and
// `ip netns` namespaces as well as their own. Namespaces are found through the processes'
// /proc/<pid>/ns/net (ProcScanner records their inodes); the sockets for a new one are
// created inside it by a helper thread (netns.hpp), which needs CAP_SYS_ADMIN. A
// namespace no process has used for kNamespaceGrace is let go: holding its socket keeps
// it alive, but a container that runs one short command after another (`ip netns exec`)
// is empty between them, and opening the sockets again costs each command's first
// connection a helper thread and setns().
//
// Each namespace has two sockets, one per thread, since a netlink socket carries one
// conversation at a time: the refresh thread owns members() and dumps through them; the
// targeted-lookup thread queries through finders(), an immutable snapshot that keeps the
// sockets it lists open for as long as the snapshot is held.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "host/sock_diag.hpp"
#include "host/tcp_activity.hpp"

namespace netscope::host {

inline constexpr std::chrono::seconds kNamespaceGrace{5};
// Open files a member holds (2 sock_diag sockets, 2 counter files, and a finder the
// targeted-lookup thread may still hold), and the files left for everything else.
inline constexpr std::size_t kFilesPerNamespace = 5;
inline constexpr std::size_t kFilesReserved = 256;
// Namespaces held at most for a soft open-file limit (RLIMIT_NOFILE): what the limit
// leaves after kFilesReserved, at least 16 and at most 8,192. Past it, further
// namespaces are not entered (counted, and their sockets not looked up), so that a host
// with thousands of them cannot make the monitor run out of files for its captures and
// its own /proc reads.
std::size_t namespace_capacity(std::uint64_t soft_file_limit);
// A namespace's TCP sockets are dumped at least every this many refreshes, counters
// standing still or not; once such a dump found nothing the counters had missed, every
// kMaxTcpReuseQuiet refreshes until the counters move again. (A dump of 10,000 sockets
// with their tcp_info costs the kernel ~15 ms: every 10th second that was a third of
// the idle monitor's refresh thread.)
inline constexpr unsigned kMaxTcpReuse = 9;
inline constexpr unsigned kMaxTcpReuseQuiet = 29;

// Opens NETLINK_SOCK_DIAG sockets (as many as `out` holds) inside network namespace
// `netns`, reached through /proc/<via>/ns/net by a helper thread that setns()es, which
// needs CAP_SYS_ADMIN. `moved`: the pid is gone or in another namespace by now, so try
// again through another; `refused`: the namespace cannot be entered (`error` says why).
enum class NamespaceOpen : std::uint8_t { opened, moved, refused };
NamespaceOpen open_sock_diag_in(const std::string& proc_root, std::uint64_t netns, pid_t via,
                                std::span<netlink::Socket> out, std::string* error);

class NamespaceDiags {
 public:
  struct Member {
    std::uint64_t netns = 0;
    std::unique_ptr<SockDiag> diag;              // the refresh thread's
    std::shared_ptr<SockDiag> finder;            // the targeted-lookup thread's
    std::chrono::steady_clock::time_point used;  // last seen with a process in it
    // The namespace's TCP counters (tcp_activity.hpp; none when /proc/<pid>/net could
    // not be opened) and its TCP sockets at the last TCP dump, which dump() hands out
    // again while the counters stand still.
    std::optional<TcpActivity> tcp_activity;
    std::vector<SocketRecord> tcp;
    bool tcp_current = false;  // `tcp` is a whole dump with no socket awaiting accept()
    unsigned tcp_reused = 0;   // dumps in a row that reused `tcp`
    unsigned tcp_reuse_limit = kMaxTcpReuse;  // ... at most, before asking the kernel
    std::vector<SocketRecord> udp;            // its UDP sockets at the last dump
    std::vector<SocketRecord> previous;       // scratch: the last dump, to compare with
  };
  struct Finder {
    std::uint64_t netns = 0;
    std::shared_ptr<SockDiag> diag;
  };
  using Finders = std::shared_ptr<const std::vector<Finder>>;

  // The own namespace is the calling thread's. Throws like SockDiag() when netlink
  // sockets are blocked altogether.
  explicit NamespaceDiags(std::string proc_root);

  // Opens sockets for namespaces first seen in `in_use` (namespace -> a pid in it; see
  // ProcScanner::namespaces()) when `others`, and drops those no process has used for
  // kNamespaceGrace. A namespace that cannot be entered is counted once and not retried
  // while it is in use.
  void update(const std::unordered_map<std::uint64_t, pid_t>& in_use, bool others,
              std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // The refresh thread's sockets: the own namespace first, then the others.
  std::vector<Member>& members() { return members_; }
  // Appends the TCP and UDP sockets of one member (see SockDiag::dump). The TCP sockets
  // of the last dump are handed out again, without asking the kernel, while the
  // namespace's TCP counters have not moved (TcpActivity), for at most
  // kMaxTcpReuse (kMaxTcpReuseQuiet) refreshes in a row. False when a dump failed; the
  // records read so far are in `out`. `changed` is set when the records differ from the
  // last call's (or a dump failed).
  bool dump(Member& member, std::vector<SocketRecord>& out, bool* changed = nullptr);
  // Refreshes that reused the TCP sockets of an earlier dump, since construction.
  std::uint64_t tcp_dumps_saved() const { return tcp_dumps_saved_; }
  // Any thread: the lookup sockets as of the last update(), the own namespace first.
  Finders finders() const;
  std::uint64_t own() const { return members_.front().netns; }
  std::uint64_t enter_failures() const { return enter_failures_; }
  // Namespaces in use that were not entered because max_members() were held (each
  // counted once while it stays in use), since construction.
  std::uint64_t capacity_skips() const { return capacity_skips_; }
  std::size_t max_members() const { return max_members_; }
  void set_max_members(std::size_t n) { max_members_ = std::max<std::size_t>(n, 1); }
  const std::string& last_error() const { return last_error_; }

 private:
  // False only when the namespace refused us (setns or open failed); a pid that left the
  // namespace meanwhile is not a refusal.
  bool try_open(std::uint64_t netns, pid_t via, std::chrono::steady_clock::time_point now);
  void publish();

  std::string proc_root_;
  std::vector<Member> members_;
  std::uint64_t tcp_dumps_saved_ = 0;
  std::unordered_set<std::uint64_t> refused_;  // namespaces setns() refused
  std::uint64_t enter_failures_ = 0;
  std::size_t max_members_;                    // namespace_capacity() of the start-up limit
  std::unordered_set<std::uint64_t> skipped_;  // in use, not entered for max_members_
  std::uint64_t capacity_skips_ = 0;
  std::string last_error_;
  mutable std::mutex finders_mutex_;
  Finders finders_;
};

}  // namespace netscope::host
