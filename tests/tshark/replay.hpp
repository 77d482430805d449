#pragma once
// Test support: replays a capture through one TcpTracker per TCP connection and reports
// the analysis bits of every TCP frame, numbered as tshark numbers frames (from 1). The
// client of a connection is the sender of its first SYN (or of the SYN+ACK's peer), or
// the first sender when no SYN was captured, which is what the flow table does too.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "flow/tcp_tracker.hpp"

namespace netscope::test {

struct FrameFlags {
  std::uint32_t frame = 0;
  std::uint32_t flags = 0;  // flow::tcp_analysis bits
  int dir = 0;
  std::uint32_t conn = 0;  // index of the connection in ReplayResult::trackers
};

struct ReplayResult {
  std::map<std::uint32_t, FrameFlags> frames;  // TCP frames only, by frame number
  std::vector<flow::TcpTracker> trackers;      // one per connection, in order of first packet
  std::uint32_t total_frames = 0;
};

// Throws std::runtime_error when the file cannot be opened.
ReplayResult replay_tcp(const std::string& path);

}  // namespace netscope::test
