#include "host/proc_scanner.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <memory>

namespace netscope::host {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::optional<pid_t> parse_pid(std::string_view name) {
  if (name.empty() || name.size() > 10) return std::nullopt;
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc{} || end != name.data() + name.size() || pid <= 0) return std::nullopt;
  return pid;
}

bool is_permission_error(int err) {
  return err == EACCES || err == EPERM;
}
bool is_vanished_error(int err) {
  return err == ENOENT || err == ESRCH;
}

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

ProcScanner::ProcScanner(std::string proc_root) : proc_root_(std::move(proc_root)) {}

bool ProcScanner::scan() {
  const auto start = std::chrono::steady_clock::now();
  sockets_.clear();
  stats_ = ProcScanStats{};

  DirPtr root(opendir(proc_root_.c_str()));
  if (!root) {
    stats_.duration = std::chrono::steady_clock::now() - start;
    return false;
  }
  while (const dirent* entry = readdir(root.get())) {
    const auto pid = parse_pid(entry->d_name);
    if (!pid) continue;  // self, net, sys, ...
    ++stats_.processes;
    scan_process(*pid, proc_root_ + "/" + entry->d_name + "/fd");
  }

  // Owner = lowest pid; one pid may hold the same socket on several fds (dup()).
  for (auto& [inode, holders] : sockets_) {
    auto& pids = holders.others;
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    holders.owner = pids.front();
    pids.erase(pids.begin());
  }
  stats_.sockets = sockets_.size();
  stats_.duration = std::chrono::steady_clock::now() - start;
  return true;
}

void ProcScanner::scan_process(pid_t pid, const std::string& fd_dir) {
  DirPtr dir(opendir(fd_dir.c_str()));
  if (!dir) {
    if (is_permission_error(errno)) {
      ++stats_.permission_denied;
    } else if (is_vanished_error(errno)) {
      ++stats_.vanished;
    }
    return;
  }
  // Links are "socket:[<u64>]" at most; anything longer is not a socket.
  std::array<char, 64> target{};
  std::string path;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    path.assign(fd_dir).append("/").append(entry->d_name);
    const ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0) {
      // ENOENT here is an fd closed between readdir and readlink: not worth a counter.
      if (is_permission_error(errno)) ++stats_.permission_denied;
      continue;
    }
    ++stats_.fds;
    if (static_cast<std::size_t>(n) >= target.size()) continue;  // truncated: not a socket
    const auto inode =
        parse_socket_link(std::string_view(target.data(), static_cast<std::size_t>(n)));
    if (!inode) continue;
    // Collected unsorted in `others`; scan() picks the owner once every pid is known.
    sockets_[*inode].others.push_back(pid);
  }
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

}  // namespace netscope::host
