#pragma once
// Recorder internals shared by recorder.cpp (packet path and tick) and
// recorder_writer.cpp (the writer thread). Not part of the interface.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "monitor/recorder.hpp"
#include "monitor/recorder_ring.hpp"

namespace netscope::monitor {

struct FlowKeyHash {
  std::size_t operator()(const core::FlowKey& k) const { return core::hash_flow_key(k); }
};

// What the writer needs to know about a recording (shared under Impl::mu).
struct RecordingInfo {
  std::string name;  // comm
  pid_t pid = 0;
  std::string reason;  // "pid", "process", "auto", "toggle"
};

// The packet path's view of the decisions: a flat open-addressing table rebuilt at every
// tick (generation-stamped, so rebuilding does not clear it). Reads never allocate.
class DecisionTable {
 public:
  explicit DecisionTable(std::size_t max_flows);
  void clear() {
    ++generation_;
    used_ = 0;
  }
  // False when the table is full (the flow stays undecided and is counted).
  bool put(const core::FlowKey& key, std::uint32_t recording);
  // The recording of a decided flow (0 = not recorded), or nullopt when undecided.
  const std::uint32_t* find(const core::FlowKey& key) const;

 private:
  struct Slot {
    core::FlowKey key;
    std::uint32_t recording = 0;
    std::uint32_t generation = 0;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
  std::uint32_t generation_ = 1;
};

// The writer thread's state (recorder_writer.cpp).
class RecorderWriter {
 public:
  RecorderWriter(const RecorderConfig& config, RecorderRing& ring, std::mutex& mu,
                 std::map<std::uint32_t, RecordingInfo>& infos,
                 std::vector<std::string>& interface_names, std::vector<std::string>& files,
                 RecorderStats& stats);
  ~RecorderWriter();
  // Runs until `stop` is set and the ring is empty.
  void run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::monitor
