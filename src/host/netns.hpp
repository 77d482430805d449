#pragma once
// Network namespaces as the attribution code sees them: identified by the inode of their
// nsfs file (/proc/<pid>/ns/net), and reached through a netlink socket created inside
// them. A socket stays bound to the namespace it was created in, so a short-lived helper
// thread setns()es into the namespace, creates the socket and exits; the calling thread
// never changes namespace and the socket then answers for that namespace from any thread.

#include <cstdint>
#include <string>

#include "host/netlink.hpp"

namespace netscope::host {

// The inode of the namespace file at `path` (e.g. "/proc/123/ns/net"), or 0 with
// `*error_number` set (EACCES for another user's process without CAP_SYS_PTRACE).
std::uint64_t netns_inode(const std::string& path, int* error_number = nullptr);

// The network namespace of the calling thread.
std::uint64_t own_netns_inode();

// Opens a netlink socket of `protocol` inside the network namespace that the open
// namespace file `ns_fd` refers to. setns() needs CAP_SYS_ADMIN; without it this returns
// false with `error` naming the capability.
bool open_netlink_in_netns(int ns_fd, int protocol, netlink::Socket& out, std::string* error);

}  // namespace netscope::host
