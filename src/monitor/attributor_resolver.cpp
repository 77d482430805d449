#include "monitor/attributor_resolver.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

namespace netscope::monitor {

namespace {

// proc(5): the "btime" line of /proc/stat is the boot time in seconds since the epoch.
std::int64_t read_boot_time_ns() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      std::int64_t s = 0;
      in >> s;
      return s * 1'000'000'000;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

AttributorResolver::AttributorResolver(host::Attributor& attributor)
    : attributor_(attributor), boot_time_ns_(read_boot_time_ns()) {
  const long t = sysconf(_SC_CLK_TCK);
  if (t > 0) ticks_per_second_ = t;
}

Resolution AttributorResolver::resolve(std::uint8_t proto, const core::Endpoint& local,
                                       const core::Endpoint& remote) {
  const host::Lookup l = attributor_.lookup(host::FlowQuery{proto, local, remote});
  Resolution r;
  if (!l.owner) {
    r.miss = host::miss_name(l.miss);
    return r;
  }
  OwnerInfo o;
  o.pid = l.owner->pid;
  o.start_ticks = l.owner->start_time_ticks;
  o.quality = host::quality_name(l.owner->quality);
  o.kernel_state = host::tcp_state_name(l.owner->kernel_state);
  if (l.owner->tcp_info && l.owner->tcp_info->rtt_us > 0) {
    o.kernel_rtt_ms = l.owner->tcp_info->rtt_us / 1000.0;
  }
  o.local = l.owner->local;
  r.owner = std::move(o);
  return r;
}

std::optional<ProcessDetails> AttributorResolver::details(pid_t pid, std::uint64_t start_ticks) {
  const std::optional<host::ProcessInfo> info = attributor_.process(pid, start_ticks);
  if (!info) return std::nullopt;
  ProcessDetails d;
  d.pid = pid;
  d.ppid = info->ppid;
  d.name = info->comm;
  d.cmdline = info->cmdline;
  d.exe = info->exe;
  if (info->uid) d.uid = *info->uid;
  d.user = info->user;
  d.container = info->container;
  d.container_runtime = info->container_runtime;
  d.pod_uid = info->pod_uid;
  d.unit = info->unit;
  if (boot_time_ns_ > 0) {
    d.start_time = core::Timestamp{boot_time_ns_ + static_cast<std::int64_t>(start_ticks) *
                                                       (1'000'000'000 / ticks_per_second_)};
  }
  return d;
}

bool AttributorResolver::alive(pid_t pid, std::uint64_t start_ticks) {
  return attributor_.alive(pid, start_ticks);
}

}  // namespace netscope::monitor
