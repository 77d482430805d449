#pragma once
// LiveMonitor: the live engine. It reads packets from the network (libpcap on one or
// more interfaces) or replays a capture file at a chosen pace, runs them through the one
// pipeline (Engine: decode -> flow table -> TCP tracker), and once per refresh samples
// the flow table, folds the samples into a Snapshot (TickBuilder) and hands it to a
// listener. Process attribution (host::Attributor) and reverse DNS (enrich::ReverseDns)
// run on their own threads; the packet path only queues requests to them.
//
// Clocks: live, ticks follow the monotonic wall clock and packets carry the kernel's
// timestamps. A replay is driven by packet time only: a tick falls every --refresh of
// packet time, whatever the replay speed, so `--speed 0` gives the same snapshots as
// `--speed 1`, only sooner.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/live_capture.hpp"
#include "flow/timeouts.hpp"
#include "monitor/snapshot.hpp"

namespace netscope::monitor {

class PacketTap;  // monitor/engine.hpp

struct MonitorConfig {
  // Source: a file to replay (--read), else live capture.
  std::string read_file;
  double speed = 1;                     // replay pace; 0 = as fast as possible
  std::vector<std::string> local_nets;  // --local-net CIDRs (replay; live adds them too)
  capture::LiveOptions capture;         // interfaces, snaplen, bpf, show_localhost
  std::size_t max_flows = 65'536;
  flow::FlowTimeouts timeouts;  // --timeout NAME=SECONDS
  std::chrono::milliseconds refresh{1000};
  double window_s = 5;
  bool resolve = true;               // reverse DNS for remote hosts
  bool attribute = true;             // process attribution (live only)
  bool syn_watch = true;             // immediate-mode SYN handle for short-lived connections
  bool dpi = true;                   // deep packet inspection (--no-dpi turns it off)
  bool keep_history = false;         // keep closed connections for whole_run() (`snapshot`)
  std::optional<double> duration_s;  // stop after this long (live: wall time)
  // Called by run() on its thread after every handle and socket is open and before any
  // helper thread starts: the place to drop capabilities (they are per thread).
  std::function<void()> before_threads;
  // Called on the tick thread, in order, on every snapshot after it is built and before it
  // is published (and on whole_run()'s document): enrichment that needs no flow state,
  // such as GeoIP/ASN and blacklist matching. Must be fast and must not block; must be
  // idempotent for a record it has seen before (whole_run() repeats records).
  std::vector<std::function<void(Snapshot&)>> decorators;
  // Sees every IP packet on the packet path (the per-process recorder); not owned.
  PacketTap* packet_tap = nullptr;
};

class SnapshotListener {
 public:
  virtual ~SnapshotListener() = default;
  virtual void on_snapshot(const std::shared_ptr<const Snapshot>& snap) = 0;
  // Something the user should know: an interface went down, a file is damaged, ...
  virtual void on_event(std::string_view /*message*/) {}
};

struct MonitorResult {
  int exit_code = 0;  // 0, or 3 when a replayed file is damaged part-way
  std::string error;  // names the file and offset when exit_code is 3
};

class LiveMonitor {
 public:
  // Opens the capture handles (or the file), the netlink sockets and the helper
  // threads. Throws capture::CaptureError (live) or std::runtime_error (unreadable or
  // non-capture file, bad --local-net) with a message for the user.
  LiveMonitor(MonitorConfig config, SnapshotListener& listener);
  ~LiveMonitor();
  LiveMonitor(const LiveMonitor&) = delete;
  LiveMonitor& operator=(const LiveMonitor&) = delete;

  // Runs until stop(), the duration, or the end of a replay. The last snapshot of a
  // replay has end_of_input set.
  MonitorResult run();
  // Async-signal-safe: ends run() soon (an atomic store and an eventfd write).
  void stop();

  // Everything seen so far (keep_history for closed connections and exited processes).
  Snapshot whole_run() const;
  std::shared_ptr<const Snapshot> latest() const;
  // Interface names in capture order (interface_id indexes this).
  std::vector<std::string> interfaces() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::monitor
