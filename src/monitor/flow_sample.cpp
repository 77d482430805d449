#include "monitor/flow_sample.hpp"

#include "decode/packet_view.hpp"

namespace netscope::monitor {

namespace {

SampleHealth sample_health(const flow::TcpHealth& h) {
  const auto n = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };  // 32-bit kept
  return SampleHealth{n(h.retransmissions),
                      n(h.fast_retransmissions),
                      n(h.spurious_retransmissions),
                      n(h.out_of_order),
                      n(h.dup_acks),
                      n(h.dup_ack_events),
                      n(h.zero_windows),
                      n(h.rsts)};
}

// `mode`: describe the DPI fields (copies of the session's strings), or take them (moves:
// the flow has ended, nothing reads them after the sink).
enum class Dpi { none, describe, take };

FlowSample copy_flow(const flow::Flow& f, Dpi mode) {
  FlowSample s;
  s.key = f.key;
  s.client_is_a = f.client_is_a;
  s.client_by = f.client_by;
  s.interface_id = f.interface_id;
  s.first_seen = f.first_seen;
  s.last_seen = f.last_seen;
  s.dir = f.dir;
  s.icmp_echo = f.icmp_echo;
  s.arp_state = f.arp_state;
  if (f.is_tcp()) {
    s.tcp_state = f.tcp.state();
    s.health = {sample_health(f.tcp.health(flow::kClientToServer)),
                sample_health(f.tcp.health(flow::kServerToClient))};
    s.rtt_ms = f.tcp.handshake_rtt_ms();
    if (!s.rtt_ms && f.tcp.rtt().count() > 0) s.rtt_ms = f.tcp.rtt().quantile_ms(0.5);
  }
  if (mode == Dpi::take && f.dpi.detected()) {
    s.dpi = dpi::Inspector::take(f.dpi).shared();
  } else if (mode == Dpi::describe && f.dpi.detected()) {
    auto info = std::make_shared<dpi::DpiInfo>();
    dpi::Inspector::describe(f.dpi, *info);
    s.dpi = std::move(info);
  }
  return s;
}

}  // namespace

FlowSample sample_flow(const flow::Flow& f, const flow::FlowTable& table) {
  return sample_flow(f, table, true);
}

FlowSample sample_flow(const flow::Flow& f, const flow::FlowTable& table, bool with_dpi) {
  FlowSample s = copy_flow(f, with_dpi ? Dpi::describe : Dpi::none);
  s.timeout_ns = table.timeout_ns(f);
  s.active_timeout_ns = table.shown_timeout_ns(f, f.last_seen);
  return s;
}

FlowSample sample_ended_flow(const flow::Flow& f, flow::EndReason reason) {
  FlowSample s = copy_flow(f, Dpi::take);
  s.ended = true;
  s.end_reason = reason;
  return s;
}

void DnsEventQueue::push(const flow::Flow& f, dpi::DnsEvent&& event) {
  if (events_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  events_.push_back(FlowDnsEvent{f.key, f.first_seen, std::move(event)});
}

void DnsEventQueue::take(std::vector<FlowDnsEvent>& out) {
  if (out.empty()) {
    out.swap(events_);
  } else {
    for (FlowDnsEvent& e : events_) out.push_back(std::move(e));
  }
  events_.clear();
}

}  // namespace netscope::monitor
