#include "analyze/report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/score.hpp"

namespace netscope::analyze {

bool severity_less(const Conversation& a, const Conversation& b) {
  if (a.score != b.score) return a.score < b.score;
  if (a.total_bytes() != b.total_bytes()) return a.total_bytes() < b.total_bytes();
  return a.id > b.id;  // earlier conversations rank higher on ties
}

bool bytes_less(const Conversation& a, const Conversation& b) {
  if (a.total_bytes() != b.total_bytes()) return a.total_bytes() < b.total_bytes();
  if (a.score != b.score) return a.score < b.score;
  return a.id > b.id;
}

namespace {
// std heap functions build a max-heap under `comp`; with the inverse order the root is
// the smallest kept element, the one to replace.
template <bool (*Less)(const Conversation&, const Conversation&)>
bool greater(const Conversation& a, const Conversation& b) {
  return Less(b, a);
}
}  // namespace

ReportBuilder::ReportBuilder(std::size_t top_n, ConversationCallback on_conversation)
    : top_n_(top_n), on_conversation_(std::move(on_conversation)) {}

void ReportBuilder::keep_top(std::vector<Conversation>& heap, const Conversation& c,
                             bool (*less)(const Conversation&, const Conversation&)) {
  if (top_n_ == 0) return;
  const auto comp = less == &severity_less ? &greater<severity_less> : &greater<bytes_less>;
  if (heap.size() < top_n_) {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end(), comp);
  } else if (less(heap.front(), c)) {
    std::pop_heap(heap.begin(), heap.end(), comp);
    heap.back() = c;
    std::push_heap(heap.begin(), heap.end(), comp);
  }
}

void ReportBuilder::add_problem(Problem p) {
  ++totals_.problems;
  if (problems_.size() < kMaxProblems) {
    problems_.push_back(std::move(p));
  } else {
    ++totals_.problems_dropped;
  }
}

void ReportBuilder::on_flow_end(const flow::Flow& flow, flow::EndReason reason) {
  Conversation c = summarize(flow, reason, capture_end_);
  c.id = next_id_++;
  score_conversation(c);

  ++totals_.conversations;
  ++totals_.by_level[static_cast<std::size_t>(c.level())];
  ProtoTotals& pt = totals_.by_proto[proto_name(c.proto)];
  ++pt.conversations;
  pt.packets += c.total_packets();
  pt.bytes += c.total_bytes();
  for (const DirectionSummary& d : c.dir) {
    flow::TcpHealth& t = totals_.tcp;
    t.retransmissions += d.tcp.retransmissions;
    t.fast_retransmissions += d.tcp.fast_retransmissions;
    t.spurious_retransmissions += d.tcp.spurious_retransmissions;
    t.out_of_order += d.tcp.out_of_order;
    t.dup_acks += d.tcp.dup_acks;
    t.dup_ack_events += d.tcp.dup_ack_events;
    t.zero_windows += d.tcp.zero_windows;
    t.window_full += d.tcp.window_full;
    t.lost_segments += d.tcp.lost_segments;
    t.keep_alives += d.tcp.keep_alives;
    t.rsts += d.tcp.rsts;
  }

  const std::string who = describe(c);
  if (c.setup == SetupProblem::syn_unanswered) {
    add_problem({"syn_unanswered", c.first_seen, c.id, who,
                 fmt::format("{} SYN{} sent, no answer", c.dir[0].packets,
                             c.dir[0].packets == 1 ? "" : "s")});
  } else if (c.setup == SetupProblem::refused) {
    add_problem({"refused", c.first_seen, c.id, who, "SYN answered by RST"});
  }

  if (on_conversation_) on_conversation_(c);
  keep_top(by_severity_, c, &severity_less);
  keep_top(by_bytes_, c, &bytes_less);
}

void ReportBuilder::on_icmp_error(const decode::PacketView& icmp, const flow::Flow* flow) {
  const decode::IcmpQuote& q = icmp.icmp_quote;
  const bool v6 = icmp.ip_proto == decode::ip_proto::icmpv6;
  std::string kind = "icmp_error";
  if (v6 ? icmp.icmp_type == 1 : icmp.icmp_type == 3) kind = "icmp_unreachable";
  if (v6 ? icmp.icmp_type == 2 : (icmp.icmp_type == 3 && icmp.icmp_code == 4))
    kind = "icmp_packet_too_big";
  if (v6 ? icmp.icmp_type == 3 : icmp.icmp_type == 11) kind = "icmp_time_exceeded";
  const bool ported = q.proto == decode::ip_proto::tcp || q.proto == decode::ip_proto::udp;
  std::string quoted = proto_name(q.proto) + " " +
                       (ported ? core::Endpoint{q.src, q.sport}.to_string() : q.src.to_string()) +
                       " -> " +
                       (ported ? core::Endpoint{q.dst, q.dport}.to_string() : q.dst.to_string());
  add_problem({kind, icmp.ts, 0, quoted,
               fmt::format("{} type {} code {} from {}{}", v6 ? "ICMPv6" : "ICMP", icmp.icmp_type,
                           icmp.icmp_code, icmp.src.to_string(),
                           flow != nullptr ? "" : " (quoted flow not seen in the capture)")});
}

std::vector<Conversation> ReportBuilder::top_by_severity() const {
  std::vector<Conversation> out = by_severity_;
  std::sort(out.begin(), out.end(),
            [](const Conversation& a, const Conversation& b) { return severity_less(b, a); });
  return out;
}

std::vector<Conversation> ReportBuilder::top_by_bytes() const {
  std::vector<Conversation> out = by_bytes_;
  std::sort(out.begin(), out.end(),
            [](const Conversation& a, const Conversation& b) { return bytes_less(b, a); });
  return out;
}

}  // namespace netscope::analyze
