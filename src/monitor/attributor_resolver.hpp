#pragma once
// AttributorResolver: the tick builder's ProcessResolver over the live host::Attributor
// (sock_diag + /proc). It converts the attributor's socket owners and cached process
// details into the snapshot's terms (state names, RTT in ms, start time as wall time).

#include "host/attributor.hpp"
#include "monitor/process_resolver.hpp"

namespace netscope::monitor {

class AttributorResolver : public ProcessResolver {
 public:
  explicit AttributorResolver(host::Attributor& attributor);

  Resolution resolve(std::uint8_t proto, const core::Endpoint& local,
                     const core::Endpoint& remote) override;
  std::optional<ProcessDetails> details(pid_t pid, std::uint64_t start_ticks) override;
  bool alive(pid_t pid, std::uint64_t start_ticks) override;
  std::uint64_t generation() const override { return attributor_.table_generation(); }

 private:
  host::Attributor& attributor_;
  std::int64_t boot_time_ns_ = 0;  // CLOCK_REALTIME at boot (/proc/stat btime)
  long ticks_per_second_ = 100;
};

}  // namespace netscope::monitor
