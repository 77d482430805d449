#include "host/namespace_diags.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "host/netns.hpp"

namespace netscope::host {

NamespaceDiags::NamespaceDiags(std::string proc_root) : proc_root_(std::move(proc_root)) {
  members_.push_back(Member{own_netns_inode(), std::make_unique<SockDiag>()});
}

void NamespaceDiags::update(const std::unordered_map<pid_t, ProcessEntry>& processes, bool others) {
  // One process per namespace is enough to reach it.
  std::unordered_map<std::uint64_t, pid_t> in_use;
  if (others) {
    for (const auto& [pid, entry] : processes) {
      if (entry.netns != 0) in_use.try_emplace(entry.netns, pid);
    }
  }
  const std::uint64_t own_ns = own();
  std::erase_if(members_,
                [&](const Member& m) { return m.netns != own_ns && !in_use.contains(m.netns); });
  std::erase_if(refused_, [&](std::uint64_t ns) { return !in_use.contains(ns); });
  for (const auto& [ns, pid] : in_use) {
    const std::uint64_t netns = ns;  // a structured binding cannot be captured in C++20
    if (netns == own_ns || refused_.contains(netns)) continue;
    const bool known = std::any_of(members_.begin(), members_.end(),
                                   [&](const Member& m) { return m.netns == netns; });
    if (!known && !try_open(netns, pid)) {
      refused_.insert(netns);
      ++enter_failures_;
    }
  }
}

bool NamespaceDiags::try_open(std::uint64_t netns, pid_t via) {
  const std::string path = proc_root_ + "/" + std::to_string(via) + "/ns/net";
  const int ns_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0) {
    last_error_ = "open " + path + " failed: " + std::strerror(errno);
    return false;
  }
  // The pid may have exited or moved since it was listed: then try again next time.
  struct stat st {};
  if (::fstat(ns_fd, &st) != 0 || st.st_ino != netns) {
    ::close(ns_fd);
    return true;
  }
  netlink::Socket socket;
  const bool ok = open_netlink_in_netns(ns_fd, NETLINK_SOCK_DIAG, socket, &last_error_);
  ::close(ns_fd);
  if (!ok) return false;
  members_.push_back(Member{netns, std::make_unique<SockDiag>(std::move(socket))});
  return true;
}

}  // namespace netscope::host
