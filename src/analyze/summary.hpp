#pragma once
// Summary: what `analyze` says about the input as a whole (file, link types, size, time
// span, how reading ended, how fast it went).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/file_reader.hpp"
#include "monitor/engine.hpp"

namespace netscope::analyze {

struct Summary {
  std::string file;
  std::string format;                   // "pcap" or "pcapng"
  std::vector<std::string> link_types;  // names of the link types packets came on
  std::uint64_t packets = 0;
  std::uint64_t ip_bytes = 0;
  std::uint64_t wire_bytes = 0;
  std::optional<core::Timestamp> first;
  std::optional<core::Timestamp> last;
  double duration_s = 0;
  double processing_seconds = 0;  // wall-clock time spent reading and analysing
  capture::ReadStatus read_status = capture::ReadStatus::end;
  std::string read_error;  // empty when the file was read to its end
  std::uint64_t stopped_at_offset = 0;

  // IP bytes per second over the capture's duration (0 for a single instant).
  double average_rate() const {
    return duration_s > 0 ? static_cast<double>(ip_bytes) / duration_s : 0.0;
  }
  double packets_per_second_processed() const {
    return processing_seconds > 0 ? static_cast<double>(packets) / processing_seconds : 0.0;
  }
  bool complete() const { return read_status == capture::ReadStatus::end; }
};

// The flow tables' bounds and how often they were hit, summed over the flow shards.
struct FlowTableCounts {
  std::uint64_t evicted = 0;
  std::size_t peak_active = 0;  // with shards: the sum of each shard's peak (an upper bound)
  std::size_t capacity = 0;     // --max-flows (per shard)
  void add(const flow::FlowTable& t) {
    evicted += t.evicted();
    peak_active += t.peak_size();
    capacity = t.capacity();
  }
};

Summary make_summary(const capture::FileReader& reader, const monitor::EngineStats& stats,
                     double processing_seconds);

std::string_view read_status_name(capture::ReadStatus s);  // "complete", "truncated", ...

}  // namespace netscope::analyze
