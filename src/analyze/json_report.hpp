#pragma once
// JSON output of `analyze --json`: {"schema": "netscope.analyze/3", "conversations": [...],
// "summary": {...}, "problems": [...], "anomalies": {...}, "totals": {...}}.
// Conversations are written one by one as flows end (streaming), the rest at the end.
// Keys follow ARCHITECTURE.md Conventions: snake_case, integers for counts, RFC 3339
// times, *_ms durations, null for unknown.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

#include "analyze/conversation.hpp"
#include "analyze/json_out.hpp"
#include "analyze/report.hpp"
#include "analyze/summary.hpp"

namespace netscope::analyze {

// /2: the endpoints ("client", "server") carry "country", "asn" and "asn_org".
inline constexpr const char* kAnalyzeSchema = "netscope.analyze/3";

// One conversation as a JSON object (the elements of "conversations").
void write_conversation_json(JsonOut& out, const Conversation& c);
std::string conversation_json(const Conversation& c);

class JsonReportWriter {
 public:
  explicit JsonReportWriter(std::ostream& out);
  void write_conversation(const Conversation& c);
  // Appends conversations serialised elsewhere (a flow shard's ConversationBuffer): each
  // one preceded by '\n', separated by ','. Calls must not overlap (the caller locks).
  void write_chunk(std::string_view chunk);
  void finish(const Summary& summary, const ReportBuilder& report,
              const decode::AnomalyCounters& anomalies, const monitor::EngineStats& stats,
              const FlowTableCounts& flows);

 private:
  std::ostream& out_;
  JsonOut buf_;  // reused for every conversation
  bool first_ = true;
};

}  // namespace netscope::analyze
