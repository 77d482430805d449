#pragma once
// ProcScanner maps socket inodes to the processes that hold them, by reading
// /proc/<pid>/fd/* links ("socket:[INODE]"). sock_diag tells us the inode of a
// connection; this index turns it into a pid. It runs off the packet thread.
//
// Reading every fd table is slow (one readlink per open fd on the machine), so the index
// is incremental. It keeps each process's socket set, keyed by pid and checked against
// the process's identity (start time) so a reused pid starts afresh, and reads a table
// only when there is a reason to:
//  - resolve(): sockets the kernel reports that no known process holds. Processes are
//    searched most-likely first (never read, then ones seen opening sockets before,
//    then newest by start time), those in the socket's network namespace before the
//    others, those with the socket's uid before the rest, and the search stops when
//    every socket has a holder. A process whose table was read after
//    the sockets were listed cannot hold them (short of fd passing) and is skipped.
//  - revalidate(): a bounded number of the least recently read tables per refresh, so
//    that sockets handed to another process (fork then close, SCM_RIGHTS) are found
//    again within a few refreshes.
// New processes are found by listing the proc root; list_new_processes() lists only the
// pids handed out since the last listing (pid_listing.hpp), which is what a targeted
// lookup for a connection opened a moment ago needs.
// The fd directory's mtime is no change signal (procfs sets it when the inode is
// instantiated, not when the table changes), hence the explicit reasons above.
// Processes that exit mid-read (ENOENT) and fd tables we may not read (EACCES, when not
// root) are counted, never fatal.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host/pid_listing.hpp"

namespace netscope::host {

// Who holds one socket. A socket inherited across fork() or passed over SCM_RIGHTS is in
// several fd tables; the lowest pid (usually the parent) is the owner, the rest are kept.
struct SocketHolders {
  pid_t owner = 0;
  std::vector<pid_t> others;  // ascending, without the owner
};

// Counters since construction or the last scan(); `sockets` is the current map size.
struct ProcScanStats {
  std::uint64_t processes = 0;          // numeric /proc entries visited by listings
  std::uint64_t fd_tables = 0;          // /proc/<pid>/fd directories read
  std::uint64_t fds = 0;                // fd links read
  std::uint64_t sockets = 0;            // distinct socket inodes currently known
  std::uint64_t permission_denied = 0;  // fd dirs or links refused with EACCES/EPERM
  std::uint64_t vanished = 0;           // processes gone (ENOENT/ESRCH) while read
  std::chrono::nanoseconds duration{0};
};

// One process as the index knows it.
struct ProcessEntry {
  pid_t pid = 0;
  // Start time and namespace come from /proc/<pid>/stat and ns/net, which cost about
  // 70 us for a new process; list_new_processes() leaves them to the first read of the
  // fd table that finds sockets (`identified` false until then), so that a lookup racing
  // a connection's close reads the table first.
  bool identified = false;
  std::uint64_t start_time_ticks = 0;  // 0 when /proc/<pid>/stat was unreadable
  // Owner of /proc/<pid>: the process's euid, but root for a non-dumpable process
  // (setuid programs, PR_SET_DUMPABLE 0), which is why the uid is only a search hint.
  std::uint32_t uid = 0;
  std::uint64_t netns = 0;             // inode of /proc/<pid>/ns/net; 0 when unreadable
  std::vector<std::uint64_t> sockets;  // socket inodes at the last read, sorted, unique
  std::uint64_t read_stamp = 0;        // stamp() of the last fd table read; 0: never read
  std::uint32_t fds = 0;               // entries in the fd table at the last read
  std::uint64_t gained_stamp = 0;      // a re-read that found sockets not held before
  bool fd_denied = false;              // the last read of the fd table was refused
  // Internal bookkeeping: /proc/<pid>'s inode number and change time, which procfs sets
  // when it builds the inode, so a new pair means the dentry was rebuilt, perhaps for a
  // new process with the same pid; and the listing that last saw the pid.
  std::uint64_t dir_inode = 0;
  std::int64_t dir_ctime_ns = 0;
  std::uint64_t listed = 0;
};

struct WantedSocket {
  std::uint64_t inode = 0;
  std::uint32_t uid = 0;  // the socket's uid from sock_diag: which processes to try first
  // The network namespace (nsfs inode) the socket lives in, 0 when unknown. Its holder
  // almost always lives there too (short of fd passing), so processes of other
  // namespaces are read last: on a busy host most new processes are elsewhere, and a
  // stat of /proc/<pid>/ns/net costs a fraction of reading an fd table.
  std::uint64_t netns = 0;
};

struct ResolveResult {
  std::size_t unresolved = 0;      // wanted sockets still without a holder
  std::size_t tables_read = 0;     // fd tables this call read
  bool permission_denied = false;  // a table on the search path could not be read
  bool more = false;               // stopped early (ResolveSteps) with unread candidates left
};

// How resolve() may stop early. Calling it again with the same `since` goes on where it
// stopped: the tables read meanwhile are newer than `since`.
struct ResolveSteps {
  std::size_t max_tables = std::numeric_limits<std::size_t>::max();  // reads per call
  std::function<bool()> pause;  // asked after each read; true stops the call
};

// Called right after a read of a process's fd table found sockets that it did not hold at
// its previous read, while that process is certainly alive: the moment to read whatever
// else is wanted of it (a curl is gone a millisecond later).
using SocketsGained = std::function<void(const ProcessEntry&)>;

// "socket:[12345]" -> 12345; anything else (pipe:[..], a path, garbage) -> nullopt.
std::optional<std::uint64_t> parse_socket_link(std::string_view link);

class ProcScanner {
 public:
  explicit ProcScanner(std::string proc_root = "/proc");
  // See SocketsGained; called from every fd table read (scan, resolve, revalidate).
  void on_sockets_gained(SocketsGained callback) { on_gained_ = std::move(callback); }

  // Rebuilds everything from scratch: lists the processes and reads every fd table.
  // Fails (returns false) only when the proc root itself cannot be opened; per-process
  // errors are counted in stats(), which restart from zero.
  bool scan();

  // Incremental use. Lists the processes: new pids get their identity (start time, uid,
  // netns) but no fd read yet; pids that are gone are forgotten with their sockets.
  bool list_processes();
  // Adds the processes started since the last listing, without listing the others: the
  // pids above the newest process's (pid_listing.hpp). Does a full list_processes() where
  // that is not possible, and when the kernel's last pid shows a wrap-around since the
  // last listing. Gone processes are only forgotten by list_processes().
  bool list_new_processes();
  // A counter that advances with every fd table read. Take it before asking the kernel
  // for sockets and pass it as `since`: tables read after it are current enough.
  std::uint64_t stamp() const { return stamp_; }
  // Finds holders for the wanted sockets that have none (see the header comment). With
  // `any_uid` false only processes of the sockets' uids are read.
  ResolveResult resolve(std::span<const WantedSocket> wanted, std::uint64_t since, bool any_uid,
                        const ResolveSteps& steps = {});
  // Re-reads up to `max_tables` of the least recently read tables not read after `since`,
  // oldest first, fewer when `pause` (asked after each read) says so, and stops before a
  // table whose entries at its previous read would take the tables read past `max_fds`
  // (a table costs a readlink per fd; the caller's budget grows until the oldest table
  // fits). Returns the number read; adds their entries (as read now) to `*fds_read`.
  std::size_t revalidate(std::size_t max_tables, std::uint64_t since,
                         const std::function<bool()>& pause = {},
                         std::size_t max_fds = std::numeric_limits<std::size_t>::max(),
                         std::size_t* fds_read = nullptr);
  // Entries of every known fd table at its last read.
  std::size_t known_fds() const;

  // One process in each network namespace that processes live in (namespace inode ->
  // pid), to reach the namespace through /proc/<pid>/ns/net.
  std::unordered_map<std::uint64_t, pid_t> namespaces() const;
  // The same for the processes started in the last few seconds and those not identified
  // yet, their namespace read again now: `ip netns exec` and container runtimes enter a
  // namespace after fork(), and a listing may have caught them before. For a lookup whose
  // socket is in no namespace known so far.
  std::unordered_map<std::uint64_t, pid_t> recent_namespaces();

  // Advances whenever a socket gains or loses a holder: equal values mean every
  // find() answers as it did.
  std::uint64_t holders_generation() const { return holders_generation_; }

  const SocketHolders* find(std::uint64_t inode) const;
  std::optional<pid_t> owner_of(std::uint64_t inode) const;
  const std::unordered_map<std::uint64_t, SocketHolders>& sockets() const { return sockets_; }
  const ProcessEntry* process(pid_t pid) const;
  const std::unordered_map<pid_t, ProcessEntry>& processes() const { return processes_; }
  const ProcScanStats& stats() const { return stats_; }
  const std::string& proc_root() const { return proc_root_; }

 private:
  bool list_into_entries();
  // The last pid the kernel handed out (<proc root>/sys/kernel/ns_last_pid), if readable.
  std::optional<pid_t> read_last_pid() const;
  // Adds `pid` if it is new (unless it vanished meanwhile), with its whole identity or
  // only what the directory's stat tells (`full` false).
  enum class Listed : std::uint8_t { added, known, vanished };
  Listed add_listed(pid_t pid, std::uint64_t listing, bool full);
  bool read_identity(int dir_fd, ProcessEntry& entry);
  // Reads one fd table (and re-checks the process identity first). False when the
  // process is gone.
  bool read_fd_table(ProcessEntry& entry);
  void replace_sockets(ProcessEntry& entry, std::vector<std::uint64_t> sockets);
  void add_holder(std::uint64_t inode, pid_t pid);
  void remove_holder(std::uint64_t inode, pid_t pid);

  std::string proc_root_;
  PidListing listing_dir_;
  std::vector<pid_t> listed_pids_;  // scratch for listings
  pid_t next_pid_ = 1;              // the next pid the kernel is expected to hand out
  SocketsGained on_gained_;
  std::unordered_map<std::uint64_t, SocketHolders> sockets_;
  std::unordered_map<pid_t, ProcessEntry> processes_;
  std::uint64_t stamp_ = 0;
  std::uint64_t listing_ = 0;
  std::uint64_t holders_generation_ = 0;
  ProcScanStats stats_;
};

}  // namespace netscope::host
