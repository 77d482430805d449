#pragma once
// Sinks: every reader of the live engine besides the screen printer (exporters, the event
// log, recorders). run_live and run_snapshot build them from the options with
// make_sinks(), fan every snapshot out to them, and call finish() on each once the
// monitor has stopped, so that they can flush what they still hold.
//
// on_snapshot() runs on the monitor's tick thread: a sink must not block there. Slow work
// (disk, network) goes to the sink's own thread through a bounded queue.

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "cli/live_options.hpp"
#include "monitor/live_monitor.hpp"
#include "monitor/recorder.hpp"

namespace netscope::cli {

class Sink : public monitor::SnapshotListener {
 public:
  // After the last snapshot: flush, close files and sockets. Errors go to core::Log.
  virtual void finish() {}
};

using Sinks = std::vector<std::unique_ptr<Sink>>;

// Builds the sinks the options ask for. Throws std::runtime_error with a message for the
// user (it names the option) when one cannot be opened.
Sinks make_sinks(const LiveCliOptions& o);

// Builds the snapshot decorators the options ask for (GeoIP/ASN, blacklist): see
// monitor::MonitorConfig::decorators. Throws std::runtime_error like make_sinks().
std::vector<std::function<void(monitor::Snapshot&)>> make_decorators(const LiveCliOptions& o);

// Packet recording (--record-pid, --record-process, --auto-pcap): the sink that owns the
// recorder, or null when no option asks for one (make_sinks() adds it). Throws like
// make_sinks() on a bad directory or regex.
std::unique_ptr<Sink> make_recorder_sink(const LiveCliOptions& o);
// The recorder among `sinks` (for MonitorConfig::packet_tap and the TUI's R key), or null.
monitor::Recorder* find_recorder(Sinks& sinks);

// Forwards every snapshot and event to a primary listener and then to each sink.
class FanOut : public monitor::SnapshotListener {
 public:
  FanOut(monitor::SnapshotListener& primary, Sinks& sinks) : primary_(primary), sinks_(sinks) {}
  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override {
    primary_.on_snapshot(snap);
    for (auto& s : sinks_) s->on_snapshot(snap);
  }
  void on_event(std::string_view message) override { primary_.on_event(message); }
  // The monitor has stopped. A live run() folds its last partial interval into a snapshot
  // it does not publish (`last_partial`, LiveMonitor::latest()); the sinks get it before
  // they flush. Null for a replay, whose last snapshot was published (end_of_input).
  void finish(const std::shared_ptr<const monitor::Snapshot>& last_partial) {
    if (last_partial) {
      for (auto& s : sinks_) s->on_snapshot(last_partial);
    }
    for (auto& s : sinks_) s->finish();
  }

 private:
  monitor::SnapshotListener& primary_;
  Sinks& sinks_;
};

}  // namespace netscope::cli
