#pragma once
// Recorder: per-process packet recording to pcapng (--record-pid, --record-process,
// --auto-pcap, the TUI's R key). It has three parts on three sides of the engine:
//
// - the packet path (PacketTap::on_packet, on the capture thread): looks the packet's
//   flow up in a flat, preallocated decision table and, when the flow is recorded or not
//   yet decided, copies the frame into a bounded byte ring for the writer thread. It
//   never blocks, locks or allocates; a full ring drops the packet and counts it.
// - the tick (on_tick, on the same thread, once per refresh): decides from the snapshot
//   which processes are recorded (pids, comm regex, the --auto-pcap rate threshold with
//   its hold time, toggles) and which flows belong to them, and rebuilds the table.
// - the writer thread: one pcapng file per recording (capture_<name>_<pid>_<time>.pcapng,
//   mode 0600, rotated at --pcap-max-mb), a comment on every packet naming the process.
//   Packets of a flow that is not attributed yet wait in a small per-flow buffer there, so
//   that a recording holds its connections from their first packet (the SYN). A write
//   that fails (a full disk) stops that recording with an alert; the monitor goes on.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/engine.hpp"
#include "monitor/snapshot.hpp"

namespace netscope::monitor {

struct RecorderConfig {
  std::vector<pid_t> pids;           // --record-pid
  std::string process_regex;         // --record-process, searched in the comm ("" = none)
  std::optional<double> auto_mbps;   // --auto-pcap: megabytes (10^6 bytes) per second
  double auto_hold_s = 10;           // --auto-pcap-hold
  std::string dir = ".";             // --pcap-dir
  std::uint64_t max_file_bytes = 0;  // --pcap-max-mb * 10^6; 0 = no cap
  std::string version;               // netscope's, for the section header
  // Bounds (ARCHITECTURE.md "Every cache and buffer has a bound").
  std::size_t queue_bytes = std::size_t{32} << 20;  // packet path -> writer thread
  // Flows the decision table holds, and the flows whose packets wait for a decision.
  std::size_t max_flows = 65'536;
  // Before attribution. Sized for the whole grace below, not one tick: under load (the
  // ASan build on a busy machine) an answer can take a few refreshes, and a 150 KB/s
  // transfer outgrew 512 packets before it.
  std::size_t pending_packets_per_flow = 4096;
  std::size_t pending_bytes_per_flow = std::size_t{4} << 20;
  std::size_t pending_bytes_total = std::size_t{32} << 20;
  // A flow still without a process this long after its first packet is not recorded.
  double attribution_grace_s = 3;
  // A recording outlives its process by this much: the process's last packets (its FIN,
  // the peer's last ACK) may still be in the capture ring when the tick sees it exit.
  double exit_linger_s = 3;
};

struct RecorderStats {
  std::uint64_t packets_queued = 0;   // handed to the writer thread
  std::uint64_t queue_overflow = 0;   // dropped: the ring was full
  std::uint64_t packets_written = 0;  // in a file
  std::uint64_t pending_dropped = 0;  // dropped: a flow's pre-attribution buffer was full
  std::uint64_t pending_flows = 0;    // flows whose packets wait for a decision, now
  std::uint64_t files = 0;            // files opened (rotation included)
  std::uint64_t recordings = 0;       // recordings started
  std::uint64_t failed = 0;           // recordings stopped by a write error
};

class Recorder : public PacketTap {
 public:
  // Checks the directory and the regex and starts the writer thread. Throws
  // std::runtime_error naming the option (--pcap-dir, --record-process) on bad input.
  explicit Recorder(RecorderConfig config);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Packet path.
  void on_packet(const capture::RawPacket& pkt, const decode::PacketView& v) override;
  // Tick thread (a snapshot decorator): the same thread as on_packet.
  void on_tick(const Snapshot& snap);
  // Capture interface names by interface id (LiveMonitor::interfaces()), for the files'
  // interface blocks. Any thread.
  void set_interfaces(std::vector<std::string> names);
  // Any thread (the TUI's R key): starts or stops recording `pid` at the next tick.
  void toggle(pid_t pid);
  // Any thread: whether `pid` is being recorded (as of the last tick).
  bool recording(pid_t pid) const;
  // Stops taking packets, writes what is queued, closes the files, joins the thread.
  void finish();
  RecorderStats stats() const;
  // Every file written so far, in the order they were opened.
  std::vector<std::string> files() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::monitor
