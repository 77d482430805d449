#include "cli/sinks.hpp"

namespace netscope::cli {

Sinks make_sinks(const LiveCliOptions& /*o*/) {
  Sinks sinks;
  // One block per sink, in the order they should see each snapshot.
  return sinks;
}

}  // namespace netscope::cli

namespace netscope::cli {

std::vector<std::function<void(monitor::Snapshot&)>> make_decorators(const LiveCliOptions& /*o*/) {
  std::vector<std::function<void(monitor::Snapshot&)>> decorators;
  // One block per decorator, in the order they should run.
  return decorators;
}

}  // namespace netscope::cli
