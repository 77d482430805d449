#pragma once
// A ProcessResolver for tick builder tests: owners by the port of the side asked as
// local, details named "proc<pid>", and pids marked dead on demand.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "monitor/process_resolver.hpp"

namespace netscope::monitor::test {

class ScriptedResolver : public ProcessResolver {
 public:
  std::map<std::uint16_t, OwnerInfo> owners;         // by local port
  std::map<std::uint16_t, std::string_view> misses;  // the miss reason, by local port
  std::map<pid_t, bool> dead;
  Resolution resolve(std::uint8_t, const core::Endpoint& local, const core::Endpoint&) override {
    Resolution r;
    if (auto it = owners.find(local.port); it != owners.end()) {
      r.owner = it->second;
    } else if (auto m = misses.find(local.port); m != misses.end()) {
      r.miss = m->second;
    } else {
      r.miss = "pending";
    }
    return r;
  }
  std::optional<ProcessDetails> details(pid_t pid, std::uint64_t) override {
    ProcessDetails d;
    d.pid = pid;
    d.name = "proc" + std::to_string(pid);
    return d;
  }
  bool alive(pid_t pid, std::uint64_t) override { return !dead[pid]; }
};

}  // namespace netscope::monitor::test
