#include "cli/sinks.hpp"

namespace netscope::cli {

Sinks make_sinks(const LiveCliOptions& /*o*/) {
  Sinks sinks;
  // One block per sink, in the order they should see each snapshot.
  return sinks;
}

}  // namespace netscope::cli
