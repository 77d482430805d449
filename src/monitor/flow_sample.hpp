#pragma once
// FlowSample: what the tick needs to know about one flow, copied out of the flow table on
// the packet thread once per refresh (or when the flow ends). The tick builder works on
// samples only, so it never touches the table the packet path owns.

#include <array>
#include <cstdint>
#include <optional>

#include "core/flow_key.hpp"
#include "core/timestamp.hpp"
#include "flow/flow.hpp"
#include "flow/flow_table.hpp"

namespace netscope::monitor {

struct FlowSample {
  core::FlowKey key;
  bool client_is_a = true;
  flow::ClientBy client_by = flow::ClientBy::first_packet;
  std::uint8_t interface_id = 0;
  flow::TcpState tcp_state = flow::TcpState::none;
  bool ended = false;
  flow::EndReason end_reason = flow::EndReason::end_of_input;
  core::Timestamp first_seen;
  core::Timestamp last_seen;
  std::array<flow::DirectionStats, 2> dir{};  // 0 = client -> server
  std::array<flow::TcpHealth, 2> health{};    // TCP only; by sending direction
  std::optional<double> rtt_ms;               // handshake RTT, else the data RTT median
  std::int64_t timeout_ns = 0;                // idle timeout in the current state

  core::IpAddress client_addr() const { return client_is_a ? key.addr_a : key.addr_b; }
};

// Copies a flow's state; `table` gives its timeout.
FlowSample sample_flow(const flow::Flow& f, const flow::FlowTable& table);
// For a flow that has ended (the table no longer holds it): `timeout_ns` is 0.
FlowSample sample_ended_flow(const flow::Flow& f, flow::EndReason reason);

}  // namespace netscope::monitor
