#pragma once
// FlowSample: what the tick needs to know about one flow, copied out of the flow table on
// the packet thread once per refresh (or when the flow ends). The tick builder works on
// samples only, so it never touches the table the packet path owns.
//
// DPI fields travel as a shared, immutable DpiInfo, and only when they are new: a sample
// without one means "unchanged since the last sample" (or nothing inspected), and the
// tick builder keeps what it had. FlowDnsEvent is a DNS transaction seen on a flow, queued
// on the packet path (DnsEventQueue) until the next tick names its process.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/flow_key.hpp"
#include "core/timestamp.hpp"
#include "dpi/inspector.hpp"
#include "flow/flow.hpp"
#include "flow/flow_table.hpp"

namespace netscope::monitor {

// The TCP health counters a connection record shows (TcpHealthRecord), as the tracker
// keeps them: 32 bits each (flow::TcpHealth is 12 counters of 64 bits).
struct SampleHealth {
  std::uint32_t retransmissions = 0;
  std::uint32_t fast_retransmissions = 0;
  std::uint32_t spurious_retransmissions = 0;
  std::uint32_t out_of_order = 0;
  std::uint32_t dup_acks = 0;
  std::uint32_t dup_ack_events = 0;
  std::uint32_t zero_windows = 0;
  std::uint32_t rsts = 0;
};

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
  std::array<SampleHealth, 2> health{};       // TCP only; by sending direction
  std::optional<double> rtt_ms;               // handshake RTT, else the data RTT median
  std::int64_t timeout_ns = 0;                // idle timeout in the current state
  std::int64_t active_timeout_ns = 0;         // the same while active (FlowTimeouts)
  std::uint8_t icmp_echo = flow::kNoEcho;     // what the last ICMP echo was
  std::uint8_t arp_state = 0;                 // ARP flows: flow/arp.hpp kArpRequest/kArpReply
  // The flow's DPI fields (Inspector::describe) when they changed since the flow was
  // last sampled; null when unchanged or never recognised.
  std::shared_ptr<const dpi::DpiInfo> dpi;
  // The flow's index in the table's pool (FlowTable::for_each_indexed), which the tick
  // uses to find its connection without a hash lookup; kNoIndex for an ended flow.
  static constexpr std::uint32_t kNoIndex = 0xffffffffu;
  std::uint32_t table_index = kNoIndex;

  core::IpAddress client_addr() const { return client_is_a ? key.addr_a : key.addr_b; }
};

// Copies a flow's state; `table` gives its timeout. The DPI fields are described when
// the flow's protocol is known (FlowStage::sample describes only changed ones).
FlowSample sample_flow(const flow::Flow& f, const flow::FlowTable& table);
// The same, describing the DPI fields only when `with_dpi` (and the protocol is known).
FlowSample sample_flow(const flow::Flow& f, const flow::FlowTable& table, bool with_dpi);
// For a flow that has ended (the table no longer holds it): `timeout_ns` is 0. Its DPI
// fields are always given, as they stand at the end, and moved out of the flow's session
// (dpi::Inspector::take: call it from the sink's on_flow_end, which nothing after reads).
FlowSample sample_ended_flow(const flow::Flow& f, flow::EndReason reason);

// A DNS transaction and the flow it was seen on (the tick finds the connection, and so
// the process, by key and first_seen).
struct FlowDnsEvent {
  core::FlowKey key;
  core::Timestamp flow_first_seen;
  dpi::DnsEvent event;
};

// DNS events between two ticks, filled on the packet path (EngineSink::on_dns_event) and
// taken by the tick. Bounded: past `capacity` events are dropped and counted, so a DNS
// flood costs memory up to the bound only.
class DnsEventQueue {
 public:
  static constexpr std::size_t kDefaultCapacity = 65'536;
  explicit DnsEventQueue(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  void push(const flow::Flow& f, dpi::DnsEvent&& event);
  // Moves the queued events to the end of `out`.
  void take(std::vector<FlowDnsEvent>& out);
  std::uint64_t dropped() const { return dropped_; }  // since the start
  std::size_t size() const { return events_.size(); }

 private:
  std::size_t capacity_;
  std::vector<FlowDnsEvent> events_;
  std::uint64_t dropped_ = 0;
};

}  // namespace netscope::monitor
