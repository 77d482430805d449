#pragma once
// The TUI application: runs the live monitor on its own thread and the screen on the
// calling thread. The monitor publishes snapshots into a SnapshotMailbox; the UI thread
// owns ncurses, waits on the keyboard and the mailbox with poll(), rebuilds the Frame
// when a new snapshot is shown or the filter or sort changes, and draws.

#include <functional>
#include <string>
#include <vector>

#include "monitor/live_monitor.hpp"
#include "tui/mailbox.hpp"
#include "tui/model.hpp"
#include "tui/text.hpp"

namespace netscope::tui {

struct TuiOptions {
  std::vector<Table> tables{Table::processes, Table::connections, Table::remotes};  // -p -c -a
  bool totals = false;                                                              // -t
  bool resolve = true;  // -n turns it off
  std::size_t top = 0;  // --top
  UnitStyle units;      // --units, --prefix
  bool color = true;    // NO_COLOR / --no-color turn it off
  std::string export_dir = ".";
  bool replay = false;  // --read: `x` refuses, the header shows the replay clock
  // Applied to each snapshot before it is shown (--filter REGEX, --pid).
  std::function<void(monitor::Snapshot&)> prefilter;
  // The R key: starts or stops recording a process; returns whether it will now be
  // recorded. Empty when no recorder runs (no --pcap-dir or --record-* option).
  std::function<bool(pid_t)> toggle_recording;
};

// Runs until the user quits or a stop signal; stops the monitor and joins it. Returns the
// exit code (the monitor's: 0, or 3 for a damaged replay), or 2 when the terminal cannot
// be set up. `mailbox` must be the monitor's listener (or fed by it).
int run_tui(const TuiOptions& opt, monitor::LiveMonitor& mon, SnapshotMailbox& mailbox);

}  // namespace netscope::tui
