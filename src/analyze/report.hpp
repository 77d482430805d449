#pragma once
// ReportBuilder: the EngineSink behind `netscope analyze`. It turns every ended flow into
// a scored Conversation, streams it to the JSON writer (if any) at once, and keeps only
// bounded state for the text report: the top N conversations by severity and by bytes,
// the first problems of each kind, running totals, and the application and DNS
// statistics of deep inspection (app_report.hpp). Memory therefore follows the
// number of flows alive at once, never the length of the capture.
//
// Nothing it reports depends on the order flows end in (only Conversation::id does): the
// top lists break ties by first_seen and flow, the kept problems are the earliest by
// (time, kind, flow, detail), so per-shard builders merged with merge() give the same
// report as one builder that saw every flow (analyze --threads).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyze/app_report.hpp"
#include "analyze/arp_report.hpp"
#include "analyze/conversation.hpp"
#include "monitor/engine.hpp"

namespace netscope::analyze {

struct Problem {
  std::string kind;  // "syn_unanswered", "refused", "icmp_unreachable", ...
  core::Timestamp time;
  std::uint64_t conversation = 0;  // Conversation::id, 0 when the flow is unknown
  std::string flow;                // describe() of the conversation or the quoted flow
  std::string detail;
};

struct ProtoTotals {
  std::uint64_t conversations = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

struct ReportTotals {
  std::uint64_t conversations = 0;
  std::array<std::uint64_t, 4> by_level{};  // indexed by Level
  std::map<std::string, ProtoTotals> by_proto;
  flow::TcpHealth tcp;  // summed over both directions of every conversation
  std::uint64_t problems = 0;
  std::uint64_t problems_dropped = 0;  // beyond the kept list
};

class ReportBuilder : public monitor::EngineSink {
 public:
  using ConversationCallback = std::function<void(const Conversation&)>;

  // `top_n` bounds the kept lists; `on_conversation` receives every conversation as it
  // ends (the streaming JSON writer), may be empty.
  ReportBuilder(std::size_t top_n, ConversationCallback on_conversation);

  void on_flow_end(const flow::Flow& flow, flow::EndReason reason) override;
  void on_icmp_error(const decode::PacketView& icmp, const flow::Flow* flow) override;
  // The engine's packet clock: the newest packet time, for judging "unanswered" SYNs
  // near the end of the capture.
  void on_clock(core::Timestamp now) override { capture_end_ = now; }
  void on_dns_event(const flow::Flow& flow, dpi::DnsEvent&& event) override;
  void set_capture_end(core::Timestamp t) { capture_end_ = t; }
  // Looks up both endpoints of every conversation (thread-safe; may be shared by shards).
  void set_geoip(std::shared_ptr<const enrich::GeoIp> geo) { geo_ = std::move(geo); }

  // Adds another builder's totals, top lists and problems (a flow shard's) to this one.
  void merge(const ReportBuilder& other);

  // Sorted views of the kept conversations (most severe / largest first).
  std::vector<Conversation> top_by_severity() const;
  std::vector<Conversation> top_by_bytes() const;
  // Ordered by time, then kind, flow and detail.
  std::vector<Problem> problems() const;
  const ReportTotals& totals() const { return totals_; }
  const AppStats& apps() const { return apps_; }
  const DnsStats& dns() const { return dns_; }
  const ArpStats& arp() const { return arp_; }

  static constexpr std::size_t kMaxProblems = 10'000;

 private:
  void keep_top(std::vector<Conversation>& heap, const Conversation& c,
                bool (*less)(const Conversation&, const Conversation&));
  void add_problem(Problem p);

  std::size_t top_n_;
  ConversationCallback on_conversation_;
  core::Timestamp capture_end_;
  std::uint64_t next_id_ = 1;
  std::vector<Conversation> by_severity_;  // min-heaps of size <= top_n_
  std::vector<Conversation> by_bytes_;
  std::vector<Problem> problems_;  // max-heap under problem_less, size <= kMaxProblems
  ReportTotals totals_;
  AppStats apps_;
  DnsStats dns_;
  ArpStats arp_;
  std::shared_ptr<const enrich::GeoIp> geo_;
};

// Orders used for the top lists: severity (score, then bytes) and bytes (then score); on
// a tie the later conversation (first_seen, then flow) is the lesser.
bool severity_less(const Conversation& a, const Conversation& b);
bool bytes_less(const Conversation& a, const Conversation& b);
// The order problems are listed and kept in: time, kind, flow, detail.
bool problem_less(const Problem& a, const Problem& b);

}  // namespace netscope::analyze
