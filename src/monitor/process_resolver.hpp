#pragma once
// ProcessResolver: what the tick builder asks about sockets and processes. The live
// monitor implements it over host::Attributor (sock_diag + /proc); a replay has none, and
// unit tests give the tick builder a scripted one to check its bookkeeping.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"

namespace netscope::monitor {

struct OwnerInfo {
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;  // start time in clock ticks after boot (pid reuse guard)
  // Names in static storage (host::quality_name, host::tcp_state_name, literals): a
  // connection's owner is kept per connection, so it holds no string of its own.
  std::string_view quality;       // "exact", "listener", "local_port"
  std::string_view kernel_state;  // sock_diag state name; empty when unknown
  std::optional<double> kernel_rtt_ms;
  // The socket's own local endpoint: tells which side of the flow is on this host (or in
  // a container on it) when the addresses alone cannot, as for forwarded traffic.
  std::optional<core::Endpoint> local;
};

struct Resolution {
  std::optional<OwnerInfo> owner;
  // Without an owner: "pending" (not looked up yet), "no_socket", "no_permission",
  // "closed" (the socket was gone when it was looked up). Static storage, as above.
  std::string_view miss = "pending";
};

struct ProcessDetails {
  pid_t pid = 0;
  std::optional<pid_t> ppid;
  std::string name;
  std::string cmdline;
  std::string exe;
  std::optional<std::uint32_t> uid;
  std::string user;
  std::string container;
  std::string container_runtime;  // "docker", "containerd", "cri-o", "podman"
  std::string pod_uid;            // Kubernetes pod UID
  std::string unit;               // systemd unit ("nginx.service")
  std::optional<core::Timestamp> start_time;
};

class ProcessResolver {
 public:
  virtual ~ProcessResolver() = default;
  // The socket that owns the flow between `local` and `remote`; the socket may hold
  // either end (see OwnerInfo::local).
  virtual Resolution resolve(std::uint8_t proto, const core::Endpoint& local,
                             const core::Endpoint& remote) = 0;
  virtual std::optional<ProcessDetails> details(pid_t pid, std::uint64_t start_ticks) = 0;
  // Advances whenever resolve() may answer differently for the same arguments (the
  // socket table changed), so a caller may keep an answer while it stays; 0 when the
  // resolver cannot tell, and every call counts.
  virtual std::uint64_t generation() const { return 0; }
  virtual bool alive(pid_t pid, std::uint64_t start_ticks) = 0;
};

}  // namespace netscope::monitor
