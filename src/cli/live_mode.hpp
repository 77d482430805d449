#pragma once
// The live modes: `netscope [OPTIONS]` (raw or JSON lines until the TUI exists, and
// whenever stdout is not a terminal) and `netscope snapshot`. They wire a LiveMonitor to
// an output writer, handle SIGINT/SIGTERM/SIGPIPE, drop capabilities once everything is
// open, and map failures to the exit codes of the Conventions.

#include <iosfwd>

#include "cli/live_options.hpp"

namespace netscope::cli {

int run_live(const LiveCliOptions& o, std::ostream& out, std::ostream& err);
int run_snapshot(const LiveCliOptions& o, std::ostream& out, std::ostream& err);

}  // namespace netscope::cli
