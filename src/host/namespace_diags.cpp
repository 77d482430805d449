#include "host/namespace_diags.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "host/netns.hpp"

namespace netscope::host {

namespace {

// A socket the kernel has accepted for a listener that no process has accept()ed yet:
// accept() gives it an inode without a packet, which no counter shows.
bool awaiting_accept(const SocketRecord& r) {
  return r.inode == 0 && (r.state == static_cast<std::uint8_t>(TcpState::established) ||
                          r.state == static_cast<std::uint8_t>(TcpState::close_wait));
}

NamespaceDiags::Member member(std::uint64_t netns, std::unique_ptr<SockDiag> diag,
                              std::shared_ptr<SockDiag> finder,
                              std::chrono::steady_clock::time_point used) {
  NamespaceDiags::Member m;
  m.netns = netns;
  m.diag = std::move(diag);
  m.finder = std::move(finder);
  m.used = used;
  return m;
}

}  // namespace

std::size_t namespace_capacity(std::uint64_t soft_file_limit) {
  const std::uint64_t left =
      soft_file_limit > kFilesReserved ? soft_file_limit - kFilesReserved : 0;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(left / kFilesPerNamespace, 16, 8192));
}

namespace {
std::size_t capacity_now() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return namespace_capacity(1024);
  return namespace_capacity(lim.rlim_cur == RLIM_INFINITY ? ~std::uint64_t{0} : lim.rlim_cur);
}
}  // namespace

NamespaceDiags::NamespaceDiags(std::string proc_root)
    : proc_root_(std::move(proc_root)), max_members_(capacity_now()) {
  members_.push_back(member(own_netns_inode(), std::make_unique<SockDiag>(),
                            std::make_shared<SockDiag>(), std::chrono::steady_clock::now()));
  // The calling thread's namespace, as own_netns_inode() reads it.
  members_.front().tcp_activity = TcpActivity::open(proc_root_ + "/thread-self/net");
  publish();
}

bool NamespaceDiags::dump(Member& member, std::vector<SocketRecord>& out, bool* changed) {
  // The counters are read before the dump, so that whatever happens during it shows as a
  // change at the next look.
  const bool moved = !member.tcp_activity || member.tcp_activity->changed();
  bool tcp_ok = true;
  bool differ = false;
  if (moved || !member.tcp_current || member.tcp_reused >= member.tcp_reuse_limit) {
    const bool was_current = member.tcp_current;
    std::swap(member.previous, member.tcp);
    member.tcp.clear();
    tcp_ok = member.diag->dump_tcp(member.tcp);
    member.tcp_current =
        tcp_ok && std::none_of(member.tcp.begin(), member.tcp.end(), awaiting_accept);
    member.tcp_reused = 0;
    differ = !tcp_ok || !was_current || member.tcp != member.previous;
    // A dump made only because the reuse ran out, which found what the counters said
    // (nothing new), lengthens the next reuse; anything else shortens it again.
    member.tcp_reuse_limit = !moved && was_current && !differ ? kMaxTcpReuseQuiet : kMaxTcpReuse;
  } else {
    ++member.tcp_reused;
    ++tcp_dumps_saved_;
  }
  out.insert(out.end(), member.tcp.begin(), member.tcp.end());
  std::swap(member.previous, member.udp);
  member.udp.clear();
  const bool udp_ok = member.diag->dump_udp(member.udp);
  out.insert(out.end(), member.udp.begin(), member.udp.end());
  differ = differ || !udp_ok || member.udp != member.previous;
  if (!udp_ok) member.udp.clear();  // a partial dump compares unequal next time
  if (changed != nullptr) *changed = differ;
  return tcp_ok && udp_ok;
}

void NamespaceDiags::update(const std::unordered_map<std::uint64_t, pid_t>& in_use, bool others,
                            std::chrono::steady_clock::time_point now) {
  const std::uint64_t own_ns = own();
  const std::size_t before = members_.size();
  const auto used = [&](std::uint64_t ns) { return others && in_use.contains(ns); };
  for (Member& m : members_) {
    if (used(m.netns)) m.used = now;
  }
  std::erase_if(members_, [&](const Member& m) {
    return m.netns != own_ns && (!others || (!used(m.netns) && now - m.used >= kNamespaceGrace));
  });
  bool changed = members_.size() != before;
  std::erase_if(refused_, [&](std::uint64_t ns) { return !used(ns); });
  std::erase_if(skipped_, [&](std::uint64_t ns) { return !used(ns); });
  if (others) {
    for (const auto& [ns, pid] : in_use) {
      const std::uint64_t netns = ns;  // a structured binding cannot be captured in C++20
      if (netns == own_ns || refused_.contains(netns)) continue;
      const bool known = std::any_of(members_.begin(), members_.end(),
                                     [&](const Member& m) { return m.netns == netns; });
      if (known) continue;
      if (members_.size() >= max_members_) {
        if (skipped_.insert(netns).second) ++capacity_skips_;
        continue;
      }
      skipped_.erase(netns);
      const std::size_t count = members_.size();
      if (!try_open(netns, pid, now)) {
        refused_.insert(netns);
        ++enter_failures_;
      }
      changed = changed || members_.size() != count;
    }
  }
  if (changed) publish();
}

NamespaceDiags::Finders NamespaceDiags::finders() const {
  const std::lock_guard lock(finders_mutex_);
  return finders_;
}

void NamespaceDiags::publish() {
  auto next = std::make_shared<std::vector<Finder>>();
  next->reserve(members_.size());
  for (const Member& m : members_) next->push_back(Finder{m.netns, m.finder});
  const std::lock_guard lock(finders_mutex_);
  finders_ = std::move(next);
}

bool NamespaceDiags::try_open(std::uint64_t netns, pid_t via,
                              std::chrono::steady_clock::time_point now) {
  std::array<netlink::Socket, 2> sockets;  // dumps, finds
  const NamespaceOpen result = open_sock_diag_in(proc_root_, netns, via, sockets, &last_error_);
  if (result == NamespaceOpen::opened) {
    members_.push_back(member(netns, std::make_unique<SockDiag>(std::move(sockets[0])),
                              std::make_shared<SockDiag>(std::move(sockets[1])), now));
    // The counters through the same pid, if it is still in the namespace once they are
    // open (the open files then stay with the namespace).
    const std::string via_dir = proc_root_ + "/" + std::to_string(via);
    std::optional<TcpActivity> activity = TcpActivity::open(via_dir + "/net");
    struct stat st {};
    if (activity && ::stat((via_dir + "/ns/net").c_str(), &st) == 0 && st.st_ino == netns) {
      members_.back().tcp_activity = std::move(activity);
    }
  }
  return result != NamespaceOpen::refused;
}

NamespaceOpen open_sock_diag_in(const std::string& proc_root, std::uint64_t netns, pid_t via,
                                std::span<netlink::Socket> out, std::string* error) {
  const std::string path = proc_root + "/" + std::to_string(via) + "/ns/net";
  const int ns_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0) {
    const int err = errno;
    if (error != nullptr) *error = "open " + path + " failed: " + std::strerror(err);
    return err == ENOENT || err == ESRCH ? NamespaceOpen::moved : NamespaceOpen::refused;
  }
  // The pid may have exited or moved since it was listed: then try again next time.
  struct stat st {};
  if (::fstat(ns_fd, &st) != 0 || st.st_ino != netns) {
    ::close(ns_fd);
    return NamespaceOpen::moved;
  }
  bool ok = true;
  for (netlink::Socket& socket : out) {
    ok = ok && open_netlink_in_netns(ns_fd, NETLINK_SOCK_DIAG, socket, error);
  }
  ::close(ns_fd);
  return ok ? NamespaceOpen::opened : NamespaceOpen::refused;
}

}  // namespace netscope::host
