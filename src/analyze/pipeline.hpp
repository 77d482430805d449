#pragma once
// run_pipeline(): reads every packet of an open capture through the packet path and
// returns what the report needs. With one thread the Engine does everything on the
// calling thread; with more, the calling thread reads and decodes and the flows are
// sharded over worker threads (monitor::ShardedFlows), one ReportBuilder per shard,
// merged at the end. Both give the same report (ReportBuilder explains why).

#include <cstddef>
#include <memory>

#include "analyze/json_report.hpp"
#include "analyze/report.hpp"
#include "analyze/summary.hpp"
#include "capture/file_reader.hpp"
#include "monitor/engine.hpp"

namespace netscope::analyze {

struct PipelineResult {
  std::unique_ptr<ReportBuilder> report;
  monitor::EngineStats stats;
  decode::AnomalyCounters anomalies;
  FlowTableCounts flows;
};

// `threads`: number of flow shards; 1 runs today's single pipeline. Input that is not
// memory-mapped (reader.zero_copy() false) always runs with 1: the shards keep views
// into the packet bytes, which the streaming reader reuses. Conversations go to `json`
// (may be null) as they end. Throws what the engine throws (a BPF filter that cannot
// compile for a link type met mid-file).
// `geo` (may be null) looks up the endpoints of every conversation.
PipelineResult run_pipeline(capture::FileReader& reader, const monitor::EngineConfig& config,
                            std::size_t top_n, JsonReportWriter* json, std::size_t threads,
                            std::shared_ptr<const enrich::GeoIp> geo = nullptr);

// --threads 0: the number of CPUs, at most kMaxAutoThreads.
inline constexpr std::size_t kMaxAutoThreads = 4;
std::size_t resolve_threads(std::size_t requested);

}  // namespace netscope::analyze
