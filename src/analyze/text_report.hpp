#pragma once
// The human report of `netscope analyze`: summary line, the most severe conversations
// with their reasons, the largest conversations, connection problems and anomalies.
// ANSI colors only when asked (the caller decides: a terminal and no --no-color).

#include <ostream>

#include "analyze/report.hpp"
#include "analyze/summary.hpp"

namespace netscope::analyze {

struct TextOptions {
  bool color = false;
  std::size_t top_n = 10;
  bool dpi = true;  // false (--no-dpi): no Applications or DNS section, nothing was inspected
};

void write_text_report(std::ostream& out, const TextOptions& opt, const Summary& summary,
                       const ReportBuilder& report, const decode::AnomalyCounters& anomalies,
                       const monitor::EngineStats& stats, const FlowTableCounts& flows);

}  // namespace netscope::analyze
