#include "analyze/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "analyze/score.hpp"

namespace netscope::analyze {

namespace {
// True when `a` started after `b` (or, at the same instant, sorts after it by flow): on
// ties, earlier conversations rank higher. Not the id, which follows the order flows end
// in and so differs between a single run and a sharded one.
bool later(const Conversation& a, const Conversation& b) {
  const auto rank = [](const Conversation& c) {
    return std::tie(c.first_seen.ns, c.proto, c.client, c.server, c.vlan, c.tunnel_id,
                    c.last_seen.ns);
  };
  return rank(a) > rank(b);
}
}  // namespace

bool severity_less(const Conversation& a, const Conversation& b) {
  if (a.score != b.score) return a.score < b.score;
  if (a.total_bytes() != b.total_bytes()) return a.total_bytes() < b.total_bytes();
  return later(a, b);
}

bool bytes_less(const Conversation& a, const Conversation& b) {
  if (a.total_bytes() != b.total_bytes()) return a.total_bytes() < b.total_bytes();
  if (a.score != b.score) return a.score < b.score;
  return later(a, b);
}

bool problem_less(const Problem& a, const Problem& b) {
  return std::tie(a.time.ns, a.kind, a.flow, a.detail) <
         std::tie(b.time.ns, b.kind, b.flow, b.detail);
}

namespace {
void add_health(flow::TcpHealth& t, const flow::TcpHealth& d) {
  t.retransmissions += d.retransmissions;
  t.fast_retransmissions += d.fast_retransmissions;
  t.spurious_retransmissions += d.spurious_retransmissions;
  t.out_of_order += d.out_of_order;
  t.dup_acks += d.dup_acks;
  t.dup_ack_events += d.dup_ack_events;
  t.zero_windows += d.zero_windows;
  t.window_full += d.window_full;
  t.lost_segments += d.lost_segments;
  t.keep_alives += d.keep_alives;
  t.rsts += d.rsts;
  t.retransmitted_bytes += d.retransmitted_bytes;
}

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
  // Keep the earliest kMaxProblems, whatever order they arrive in: a max-heap whose root
  // is the latest kept one.
  if (problems_.size() < kMaxProblems) {
    problems_.push_back(std::move(p));
    std::push_heap(problems_.begin(), problems_.end(), problem_less);
    return;
  }
  ++totals_.problems_dropped;
  if (problem_less(p, problems_.front())) {
    std::pop_heap(problems_.begin(), problems_.end(), problem_less);
    problems_.back() = std::move(p);
    std::push_heap(problems_.begin(), problems_.end(), problem_less);
  }
}

std::vector<Problem> ReportBuilder::problems() const {
  std::vector<Problem> out = problems_;
  std::sort(out.begin(), out.end(), problem_less);
  return out;
}

void ReportBuilder::merge(const ReportBuilder& o) {
  totals_.conversations += o.totals_.conversations;
  for (std::size_t i = 0; i < totals_.by_level.size(); ++i) {
    totals_.by_level[i] += o.totals_.by_level[i];
  }
  for (const auto& [name, pt] : o.totals_.by_proto) {
    ProtoTotals& mine = totals_.by_proto[name];
    mine.conversations += pt.conversations;
    mine.packets += pt.packets;
    mine.bytes += pt.bytes;
  }
  add_health(totals_.tcp, o.totals_.tcp);
  // add_problem counts each one again; the other's dropped ones are added on top.
  for (const Problem& p : o.problems_) add_problem(p);
  totals_.problems += o.totals_.problems - o.problems_.size();
  totals_.problems_dropped += o.totals_.problems_dropped;
  for (const Conversation& c : o.by_severity_) keep_top(by_severity_, c, &severity_less);
  for (const Conversation& c : o.by_bytes_) keep_top(by_bytes_, c, &bytes_less);
  apps_.merge(o.apps_);
  dns_.merge(o.dns_);
  arp_.merge(o.arp_);
}

void ReportBuilder::on_dns_event(const flow::Flow& /*flow*/, dpi::DnsEvent&& event) {
  dns_.add(event);
}

void ReportBuilder::on_flow_end(const flow::Flow& flow, flow::EndReason reason) {
  Conversation c = summarize(flow, reason, capture_end_);
  c.id = next_id_++;
  if (geo_) {
    c.client_geo = geo_->lookup(c.client.addr);
    c.server_geo = geo_->lookup(c.server.addr);
  }
  score_conversation(c);

  ++totals_.conversations;
  ++totals_.by_level[static_cast<std::size_t>(c.level())];
  ProtoTotals& pt = totals_.by_proto[proto_name(c.proto)];
  ++pt.conversations;
  pt.packets += c.total_packets();
  pt.bytes += c.total_bytes();
  for (const DirectionSummary& d : c.dir) add_health(totals_.tcp, d.tcp);
  apps_.add(c);
  arp_.add(c);

  // The flow's text is only built for the conversations that become a problem line.
  if (c.setup == SetupProblem::syn_unanswered) {
    add_problem({"syn_unanswered", c.first_seen, c.id, describe(c),
                 fmt::format("{} SYN{} sent, no answer", c.dir[0].packets,
                             c.dir[0].packets == 1 ? "" : "s")});
  } else if (c.setup == SetupProblem::refused) {
    add_problem({"refused", c.first_seen, c.id, describe(c), "SYN answered by RST"});
  }

  if (on_conversation_) on_conversation_(c);
  keep_top(by_severity_, c, &severity_less);
  keep_top(by_bytes_, c, &bytes_less);
}

void ReportBuilder::on_icmp_error(const decode::PacketView& icmp, const flow::Flow* flow) {
  const decode::IcmpQuote& q = icmp.icmp_quote;
  const bool v6 = icmp.ip_proto == decode::ip_proto::icmpv6;
  const std::string kind(
      icmp_error_kind_name(icmp_error_kind(icmp.ip_version, icmp.icmp_type, icmp.icmp_code)));
  std::string quoted = describe_flow(q.proto, {q.src, q.sport}, {q.dst, q.dport});
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
