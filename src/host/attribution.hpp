#pragma once
// The value types of process attribution: the flow asked about, the owner found, and the
// reason when there is none. Attributor (attributor.hpp) produces them; SocketTable
// (socket_table.hpp) holds and matches them.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ip_address.hpp"
#include "host/sock_diag.hpp"

namespace netscope::host {

// A flow, in either orientation: a or b may be the local end, and lookups try both.
struct FlowQuery {
  std::uint8_t proto = 0;  // IPPROTO_TCP or IPPROTO_UDP; anything else has no socket
  core::Endpoint a;
  core::Endpoint b;
};

// How the owner was matched. Only `exact` is a kernel fact about this very flow; the
// others are the documented guesses (ARCHITECTURE.md: "a guess is marked as one").
enum class Quality : std::uint8_t {
  exact,       // the socket with this full 5-tuple (alive, or remembered after it closed)
  listener,    // the TCP listener on the local port: an accepted connection whose own
               // socket is gone or not accepted yet
  local_port,  // an unconnected UDP socket bound to the local ip:port or the wildcard
};
std::string_view quality_name(Quality quality);  // "exact", "listener", "local_port"

struct Owner {
  pid_t pid = 0;
  std::uint64_t start_time_ticks = 0;  // with pid: which process, across pid reuse
  Quality quality = Quality::exact;
  std::uint8_t kernel_state = 0;  // TcpState number; tcp_state_name() for text. A socket
                                  // remembered after it closed reads TIME_WAIT or CLOSE.
  std::optional<TcpInfo> tcp_info;
  std::uint32_t uid = 0;    // the socket's uid
  std::uint32_t inode = 0;  // the socket's inode
  std::uint64_t netns = 0;  // inode of the network namespace the socket lives in
  // The local end of the flow: the socket's own local endpoint for `exact`; for
  // `listener` and `local_port` the flow endpoint that matched (the socket itself may be
  // bound to the wildcard address).
  core::Endpoint local;
};

enum class Miss : std::uint8_t {
  pending,        // not looked up yet (request() it), or the search is still running
  no_socket,      // the kernel has no matching socket (kernel-generated traffic, or
                  // forwarded), or one that no process holds
  no_permission,  // the socket exists, but /proc/<pid>/fd tables that may hold it were
                  // unreadable (EACCES: another user's process without CAP_SYS_PTRACE)
  closed,         // the socket was gone (TIME_WAIT, inode 0) when first looked up
};
std::string_view miss_name(Miss miss);  // "pending", "no_socket", "no_permission", "closed"

struct Lookup {
  std::optional<Owner> owner;
  // Why there is no exact owner: meaningful when `owner` is empty or only a guess
  // (listener, local_port), e.g. `closed` for a flow whose own socket was gone.
  Miss miss = Miss::pending;
};

}  // namespace netscope::host
