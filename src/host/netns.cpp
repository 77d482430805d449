#include "host/netns.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace netscope::host {

std::uint64_t netns_inode(const std::string& path, int* error_number) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (error_number != nullptr) *error_number = errno;
    return 0;
  }
  return st.st_ino;
}

std::uint64_t own_netns_inode() {
  // thread-self, not self: a thread may have unshared its own namespace.
  return netns_inode("/proc/thread-self/ns/net");
}

bool open_netlink_in_netns(int ns_fd, int protocol, netlink::Socket& out, std::string* error) {
  std::string message;
  bool ok = false;
  // setns() changes only the calling thread, and this thread ends right after, so no
  // other code ever runs in the foreign namespace.
  std::thread helper([&] {
    if (::setns(ns_fd, CLONE_NEWNET) != 0) {
      const int err = errno;
      message = std::string("setns(CLONE_NEWNET) failed: ") + std::strerror(err) +
                (err == EPERM ? " (entering another network namespace needs CAP_SYS_ADMIN)" : "");
      return;
    }
    ok = out.open(protocol, 0, &message);
  });
  helper.join();
  if (!ok && error != nullptr) *error = message;
  return ok;
}

}  // namespace netscope::host
