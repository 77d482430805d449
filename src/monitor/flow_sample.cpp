#include "monitor/flow_sample.hpp"

#include "decode/packet_view.hpp"

namespace netscope::monitor {

namespace {

FlowSample copy_flow(const flow::Flow& f) {
  FlowSample s;
  s.key = f.key;
  s.client_is_a = f.client_is_a;
  s.client_by = f.client_by;
  s.interface_id = f.interface_id;
  s.first_seen = f.first_seen;
  s.last_seen = f.last_seen;
  s.dir = f.dir;
  if (f.is_tcp()) {
    s.tcp_state = f.tcp.state();
    s.health = {f.tcp.health(flow::kClientToServer), f.tcp.health(flow::kServerToClient)};
    s.rtt_ms = f.tcp.handshake_rtt_ms();
    if (!s.rtt_ms && f.tcp.rtt().count() > 0) s.rtt_ms = f.tcp.rtt().quantile_ms(0.5);
  }
  return s;
}

}  // namespace

FlowSample sample_flow(const flow::Flow& f, const flow::FlowTable& table) {
  FlowSample s = copy_flow(f);
  s.timeout_ns = table.timeout_ns(f);
  return s;
}

FlowSample sample_ended_flow(const flow::Flow& f, flow::EndReason reason) {
  FlowSample s = copy_flow(f);
  s.ended = true;
  s.end_reason = reason;
  return s;
}

}  // namespace netscope::monitor
