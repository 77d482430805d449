#include "host/proc_scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <memory>
#include <unordered_set>

#include "host/process_info.hpp"

namespace netscope::host {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Closes a plain descriptor on scope exit.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::int64_t ctime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}

bool is_permission_error(int err) {
  return err == EACCES || err == EPERM;
}
bool is_vanished_error(int err) {
  return err == ENOENT || err == ESRCH;
}

// A process started this recently is searched first even if its table was read (before
// it exec()ed, say, as `ip netns exec` or a shell does): it has had no time to be
// anything but the likeliest owner of a socket that is new.
constexpr std::uint64_t kYoungSeconds = 2;

// Now, in the clock and unit of /proc/<pid>/stat's starttime: clock ticks since boot,
// suspend included (the kernel derives it from the task's boot-based start time).
std::uint64_t ticks_per_second() {
  static const long hz = ::sysconf(_SC_CLK_TCK);
  return static_cast<std::uint64_t>(hz > 0 ? hz : 100);
}

std::uint64_t boot_ticks_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * ticks_per_second() +
         static_cast<std::uint64_t>(ts.tv_nsec) / (1'000'000'000 / ticks_per_second());
}

// Start times from this one on (ticks since boot) are young.
std::uint64_t young_since() {
  const std::uint64_t now = boot_ticks_now();
  const std::uint64_t young = ticks_per_second() * kYoungSeconds;
  return now > young ? now - young : 0;
}

// Search order of resolve(): never-read tables and young processes first (a new process
// is the likeliest owner of a new socket), then processes seen opening sockets before,
// most recent first, then everyone else newest first.
struct SearchOrder {
  std::uint64_t young_since = 0;  // start time (ticks) from which a process is young

  // A process listed but not identified yet started after every identified one.
  static std::uint64_t start_of(const ProcessEntry* e) {
    return e->identified ? e->start_time_ticks : std::numeric_limits<std::uint64_t>::max();
  }
  int tier(const ProcessEntry* e) const {
    const std::uint64_t start = start_of(e);
    if (e->read_stamp == 0 || (start != 0 && start >= young_since)) return 0;
    return e->gained_stamp != 0 ? 1 : 2;
  }
  bool operator()(const ProcessEntry* a, const ProcessEntry* b) const {
    const int ta = tier(a);
    const int tb = tier(b);
    if (ta != tb) return ta < tb;
    if (ta == 1 && a->gained_stamp != b->gained_stamp) return a->gained_stamp > b->gained_stamp;
    if (start_of(a) != start_of(b)) return start_of(a) > start_of(b);
    return a->pid > b->pid;
  }
};

}  // namespace

std::optional<std::uint64_t> parse_socket_link(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() <= kPrefix.size() + 1 || !link.starts_with(kPrefix) || link.back() != ']') {
    return std::nullopt;
  }
  const std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
  std::uint64_t inode = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return inode;
}

ProcScanner::ProcScanner(std::string proc_root)
    : proc_root_(std::move(proc_root)), listing_dir_(proc_root_) {}

bool ProcScanner::scan() {
  const auto start = std::chrono::steady_clock::now();
  sockets_.clear();
  processes_.clear();
  ++holders_generation_;
  stats_ = ProcScanStats{};
  const bool listed = list_into_entries();
  if (listed) {
    for (auto& [pid, entry] : processes_) read_fd_table(entry);
  }
  stats_.sockets = sockets_.size();
  stats_.duration += std::chrono::steady_clock::now() - start;
  return listed;
}

bool ProcScanner::list_processes() {
  const auto start = std::chrono::steady_clock::now();
  const bool listed = list_into_entries();
  stats_.sockets = sockets_.size();
  stats_.duration += std::chrono::steady_clock::now() - start;
  return listed;
}

bool ProcScanner::list_new_processes() {
  const auto start = std::chrono::steady_clock::now();
  // After a pid wrap-around (pid_max is 32768 on many hosts, and a busy one wraps every
  // minute or two) new processes get pids below next_pid_: the kernel's last pid
  // (cyclic allocation) tells, and a full listing finds them. Without this the new
  // processes went unseen until the next refresh's listing, and a curl with them.
  if (const std::optional<pid_t> last = read_last_pid(); last && *last + 1 < next_pid_) {
    return list_processes();
  }
  if (!listing_dir_.list_from(next_pid_, listed_pids_)) return list_processes();
  for (const pid_t pid : listed_pids_) {
    // Only a pid not known before is new: the ones above it that are known are processes
    // from before a pid wrap-around.
    if (add_listed(pid, listing_, false) == Listed::added) next_pid_ = std::max(next_pid_, pid + 1);
  }
  stats_.duration += std::chrono::steady_clock::now() - start;
  return true;
}

std::optional<pid_t> ProcScanner::read_last_pid() const {
  const int fd = ::openat(listing_dir_.root_fd(), "sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::array<char, 32> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  ::close(fd);
  if (n <= 0) return std::nullopt;
  pid_t pid = 0;
  const char* end = buf.data() + n;
  const auto [ptr, ec] = std::from_chars(buf.data(), end, pid);
  if (ec != std::errc{} || pid <= 0) return std::nullopt;
  return pid;
}

bool ProcScanner::list_into_entries() {
  if (!listing_dir_.list_all(listed_pids_)) return false;
  const std::uint64_t listing = ++listing_;
  for (const pid_t pid : listed_pids_) add_listed(pid, listing, true);
  // The kernel hands out pids in ascending order and wraps around at pid_max, so the
  // processes to come get pids above the newest process's, not above the highest pid
  // (long-lived processes from before a wrap-around keep high pids).
  const ProcessEntry* newest = nullptr;
  for (auto it = processes_.begin(); it != processes_.end();) {
    ProcessEntry& e = it->second;
    if (e.listed != listing) {
      replace_sockets(e, {});
      it = processes_.erase(it);
      continue;
    }
    if (newest == nullptr || e.start_time_ticks > newest->start_time_ticks ||
        (e.start_time_ticks == newest->start_time_ticks && e.pid > newest->pid)) {
      newest = &e;
    }
    ++it;
  }
  next_pid_ = newest == nullptr ? 1 : newest->pid + 1;
  return true;
}

ProcScanner::Listed ProcScanner::add_listed(pid_t pid, std::uint64_t listing, bool full) {
  ++stats_.processes;
  auto [it, inserted] = processes_.try_emplace(pid);
  ProcessEntry& entry = it->second;
  const std::string name = std::to_string(pid);
  bool ok = true;
  if (inserted && !full) {
    entry.pid = pid;
    struct stat st {};
    ok = fstatat(listing_dir_.root_fd(), name.c_str(), &st, 0) == 0;
    entry.uid = st.st_uid;
    entry.dir_inode = st.st_ino;
    entry.dir_ctime_ns = ctime_ns(st);
  } else if (inserted || !entry.identified) {
    entry.pid = pid;
    FdGuard dir(openat(listing_dir_.root_fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ok = dir.get() >= 0 && read_identity(dir.get(), entry);
  }
  if (!ok) {
    ++stats_.vanished;
    replace_sockets(entry, {});
    processes_.erase(it);
    return Listed::vanished;
  }
  entry.listed = listing;
  return inserted ? Listed::added : Listed::known;
}

bool ProcScanner::read_identity(int dir_fd, ProcessEntry& entry) {
  struct stat st {};
  if (fstat(dir_fd, &st) != 0) return false;
  entry.uid = st.st_uid;
  entry.dir_inode = st.st_ino;
  entry.dir_ctime_ns = ctime_ns(st);
  entry.start_time_ticks = read_start_time_at(dir_fd).value_or(0);
  struct stat ns {};
  entry.netns = fstatat(dir_fd, "ns/net", &ns, 0) == 0 ? ns.st_ino : 0;
  entry.identified = true;
  return true;
}

bool ProcScanner::read_fd_table(ProcessEntry& entry) {
  const std::string name = std::to_string(entry.pid);
  FdGuard dir(openat(listing_dir_.root_fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  if (dir.get() < 0 || fstat(dir.get(), &st) != 0) {
    ++stats_.vanished;
    replace_sockets(entry, {});
    return false;
  }
  if (st.st_ino != entry.dir_inode || ctime_ns(st) != entry.dir_ctime_ns) {
    // The dentry was rebuilt: maybe evicted, maybe a new process behind the same pid.
    const std::uint64_t old_start = entry.start_time_ticks;
    if (!read_identity(dir.get(), entry)) return false;
    if (entry.start_time_ticks != old_start) {
      replace_sockets(entry, {});  // another process: nothing of the old one carries over
      entry.read_stamp = 0;
      entry.gained_stamp = 0;
    }
  }
  ++stats_.fd_tables;
  const bool first_read = entry.read_stamp == 0;
  entry.read_stamp = ++stamp_;
  entry.fd_denied = false;

  const int fd_dir_fd = openat(dir.get(), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DirPtr fd_dir(fd_dir_fd >= 0 ? fdopendir(fd_dir_fd) : nullptr);
  if (!fd_dir) {
    const int err = errno;
    if (fd_dir_fd >= 0) ::close(fd_dir_fd);
    if (is_permission_error(err)) {
      ++stats_.permission_denied;
      entry.fd_denied = true;
    } else if (is_vanished_error(err)) {
      ++stats_.vanished;  // exited between the two opens, or a zombie
      replace_sockets(entry, {});
    }
    return true;
  }
  // Links are "socket:[<u64>]" at most; anything longer is not a socket.
  std::array<char, 64> target{};
  std::vector<std::uint64_t> found;
  std::uint32_t entries = 0;
  while (const dirent* dent = readdir(fd_dir.get())) {
    if (dent->d_name[0] == '.') continue;
    ++entries;
    const ssize_t n = readlinkat(dirfd(fd_dir.get()), dent->d_name, target.data(), target.size());
    if (n < 0) {
      // ENOENT here is an fd closed between readdir and readlink: not worth a counter.
      if (is_permission_error(errno)) {
        ++stats_.permission_denied;
        entry.fd_denied = true;
      }
      continue;
    }
    ++stats_.fds;
    if (static_cast<std::size_t>(n) >= target.size()) continue;  // truncated: not a socket
    const auto inode =
        parse_socket_link(std::string_view(target.data(), static_cast<std::size_t>(n)));
    if (inode) found.push_back(*inode);
  }
  entry.fds = entries;
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  // An owner needs its start time; the table came first (see ProcessEntry::identified).
  if (!entry.identified && !found.empty()) read_identity(dir.get(), entry);
  const bool grew =
      !std::includes(entry.sockets.begin(), entry.sockets.end(), found.begin(), found.end());
  replace_sockets(entry, std::move(found));
  if (grew && !first_read) entry.gained_stamp = entry.read_stamp;
  if (grew && on_gained_) on_gained_(entry);
  return true;
}

void ProcScanner::replace_sockets(ProcessEntry& entry, std::vector<std::uint64_t> sockets) {
  std::vector<std::uint64_t> changed;
  std::set_difference(entry.sockets.begin(), entry.sockets.end(), sockets.begin(), sockets.end(),
                      std::back_inserter(changed));
  for (const std::uint64_t inode : changed) remove_holder(inode, entry.pid);
  changed.clear();
  std::set_difference(sockets.begin(), sockets.end(), entry.sockets.begin(), entry.sockets.end(),
                      std::back_inserter(changed));
  for (const std::uint64_t inode : changed) add_holder(inode, entry.pid);
  entry.sockets = std::move(sockets);
}

void ProcScanner::add_holder(std::uint64_t inode, pid_t pid) {
  ++holders_generation_;
  auto [it, inserted] = sockets_.try_emplace(inode);
  SocketHolders& h = it->second;
  if (inserted) {
    h.owner = pid;
    return;
  }
  if (pid == h.owner) return;
  pid_t other = pid;
  if (pid < h.owner) {
    other = h.owner;
    h.owner = pid;
  }
  const auto pos = std::lower_bound(h.others.begin(), h.others.end(), other);
  if (pos == h.others.end() || *pos != other) h.others.insert(pos, other);
}

void ProcScanner::remove_holder(std::uint64_t inode, pid_t pid) {
  const auto it = sockets_.find(inode);
  if (it == sockets_.end()) return;
  ++holders_generation_;
  SocketHolders& h = it->second;
  if (h.owner == pid) {
    if (h.others.empty()) {
      sockets_.erase(it);
      return;
    }
    h.owner = h.others.front();
    h.others.erase(h.others.begin());
    return;
  }
  const auto pos = std::lower_bound(h.others.begin(), h.others.end(), pid);
  if (pos != h.others.end() && *pos == pid) h.others.erase(pos);
}

ResolveResult ProcScanner::resolve(std::span<const WantedSocket> wanted, std::uint64_t since,
                                   bool any_uid, const ResolveSteps& steps) {
  const auto start = std::chrono::steady_clock::now();
  ResolveResult result;
  std::unordered_set<std::uint64_t> remaining;
  std::vector<std::uint32_t> uids;
  std::vector<std::uint64_t> netns;  // empty: some socket's namespace is unknown
  bool every_netns = true;
  for (const WantedSocket& w : wanted) {
    if (w.inode == 0 || sockets_.contains(w.inode)) continue;
    remaining.insert(w.inode);
    if (std::find(uids.begin(), uids.end(), w.uid) == uids.end()) uids.push_back(w.uid);
    every_netns = every_netns && w.netns != 0;
    if (std::find(netns.begin(), netns.end(), w.netns) == netns.end()) netns.push_back(w.netns);
  }
  if (!every_netns) netns.clear();
  if (!remaining.empty()) {
    std::vector<ProcessEntry*> candidates;
    for (auto& [pid, entry] : processes_) {
      if (entry.read_stamp <= since) candidates.push_back(&entry);
    }
    const std::uint64_t young = young_since();
    std::sort(candidates.begin(), candidates.end(), SearchOrder{young});
    const auto uid_wanted = [&](const ProcessEntry* e) {
      return std::find(uids.begin(), uids.end(), e->uid) != uids.end();
    };
    // Whether the process is in a wanted namespace now. A young or unidentified
    // process's namespace is read again (`ip netns exec` and container runtimes enter it
    // after fork()); a vanished one is dropped from the search.
    const auto in_netns = [&](ProcessEntry& e, bool& vanished) {
      vanished = false;
      if (netns.empty()) return true;
      if (!e.identified || e.netns == 0 || e.start_time_ticks == 0 || e.start_time_ticks >= young) {
        const std::string path = std::to_string(e.pid) + "/ns/net";
        struct stat ns {};
        if (::fstatat(listing_dir_.root_fd(), path.c_str(), &ns, 0) == 0) {
          e.netns = ns.st_ino;
        } else if (is_vanished_error(errno)) {
          vanished = true;
          return false;
        }
      }
      return std::find(netns.begin(), netns.end(), e.netns) != netns.end();
    };
    const auto read = [&](ProcessEntry& entry) {
      if (!read_fd_table(entry)) return;
      ++result.tables_read;
      result.permission_denied = result.permission_denied || entry.fd_denied;
      for (const std::uint64_t inode : entry.sockets) remaining.erase(inode);
      // Stops with `more` only if there is more to do; the loops end if there is not.
      result.more = result.tables_read == steps.max_tables || (steps.pause && steps.pause());
    };
    // The processes of other namespaces, for a socket passed across (rare): last.
    std::vector<ProcessEntry*> elsewhere;
    for (const bool same_uid : {true, false}) {
      if (!same_uid && !any_uid) break;
      for (ProcessEntry* entry : candidates) {
        if (remaining.empty() || result.more) break;
        if (uid_wanted(entry) != same_uid) continue;
        bool vanished = false;
        if (!in_netns(*entry, vanished)) {
          if (!vanished) elsewhere.push_back(entry);
          continue;
        }
        read(*entry);
      }
    }
    for (ProcessEntry* entry : elsewhere) {
      if (remaining.empty() || result.more) break;
      read(*entry);
    }
    if (remaining.empty()) result.more = false;
  }
  result.unresolved = remaining.size();
  stats_.sockets = sockets_.size();
  stats_.duration += std::chrono::steady_clock::now() - start;
  return result;
}

std::size_t ProcScanner::revalidate(std::size_t max_tables, std::uint64_t since,
                                    const std::function<bool()>& pause, std::size_t max_fds,
                                    std::size_t* fds_read) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<ProcessEntry*> stale;
  for (auto& [pid, entry] : processes_) {
    if (entry.read_stamp <= since) stale.push_back(&entry);
  }
  const auto older = [](const ProcessEntry* a, const ProcessEntry* b) {
    return a->read_stamp < b->read_stamp;
  };
  const std::size_t count = std::min(max_tables, stale.size());
  const auto last = stale.begin() + static_cast<std::ptrdiff_t>(count);
  std::partial_sort(stale.begin(), last, stale.end(), older);
  std::size_t read = 0;
  std::size_t fds = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (stale[i]->fds > max_fds - fds) break;
    if (read_fd_table(*stale[i])) ++read;
    fds += stale[i]->fds;
    if (pause && pause()) break;
  }
  if (fds_read != nullptr) *fds_read += fds;
  stats_.sockets = sockets_.size();
  stats_.duration += std::chrono::steady_clock::now() - start;
  return read;
}

std::size_t ProcScanner::known_fds() const {
  std::size_t n = 0;
  for (const auto& [pid, entry] : processes_) n += entry.fds;
  return n;
}

std::unordered_map<std::uint64_t, pid_t> ProcScanner::namespaces() const {
  std::unordered_map<std::uint64_t, pid_t> out;
  for (const auto& [pid, entry] : processes_) {
    if (entry.netns != 0) out.try_emplace(entry.netns, pid);
  }
  return out;
}

std::unordered_map<std::uint64_t, pid_t> ProcScanner::recent_namespaces() {
  std::unordered_map<std::uint64_t, pid_t> out;
  const std::uint64_t since = young_since();
  for (auto it = processes_.begin(); it != processes_.end();) {
    ProcessEntry& entry = it->second;
    if (entry.identified && (entry.start_time_ticks == 0 || entry.start_time_ticks < since)) {
      ++it;
      continue;
    }
    // One syscall: <pid>/ns/net from the root.
    const std::string path = std::to_string(entry.pid) + "/ns/net";
    struct stat ns {};
    if (fstatat(listing_dir_.root_fd(), path.c_str(), &ns, 0) != 0) {
      if (is_vanished_error(errno)) {
        // Gone (short-lived processes are most of the young ones): forget it now.
        ++stats_.vanished;
        replace_sockets(entry, {});
        it = processes_.erase(it);
        continue;
      }
      ++it;
      continue;
    }
    entry.netns = ns.st_ino;
    out.try_emplace(entry.netns, entry.pid);
    ++it;
  }
  return out;
}

const SocketHolders* ProcScanner::find(std::uint64_t inode) const {
  const auto it = sockets_.find(inode);
  return it == sockets_.end() ? nullptr : &it->second;
}

std::optional<pid_t> ProcScanner::owner_of(std::uint64_t inode) const {
  const SocketHolders* holders = find(inode);
  if (holders == nullptr) return std::nullopt;
  return holders->owner;
}

const ProcessEntry* ProcScanner::process(pid_t pid) const {
  const auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : &it->second;
}

}  // namespace netscope::host
