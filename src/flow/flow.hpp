#pragma once
// Flow: one bidirectional conversation (5-tuple + VLAN + tunnel id). Statistics are kept
// per direction, indexed 0 = client -> server and 1 = server -> client. The client is the
// sender of the SYN; without a SYN, client_heuristic() decides (see flow_table.cpp).

#include <array>
#include <cstdint>
#include <string_view>

#include "core/flow_key.hpp"
#include "core/timestamp.hpp"
#include "decode/packet_view.hpp"
#include "dpi/inspector.hpp"
#include "flow/tcp_tracker.hpp"

namespace netscope::flow {

inline constexpr int kClientToServer = 0;
inline constexpr int kServerToClient = 1;

// Flow::icmp_echo values.
inline constexpr std::uint8_t kNoEcho = 0;
inline constexpr std::uint8_t kEchoRequest = 1;
inline constexpr std::uint8_t kEchoReply = 2;

struct DirectionStats {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;          // IP bytes (Conventions)
  std::uint64_t payload_bytes = 0;  // transport payload bytes
  std::uint64_t data_packets = 0;   // packets carrying transport payload
};
static_assert(sizeof(DirectionStats) == 32);

// How the client side was chosen.
enum class ClientBy : std::uint8_t {
  syn,          // sender of a SYN (or receiver of a SYN+ACK)
  port,         // the other side uses a well-known / lower port
  first_packet  // sender of the first packet seen
};

enum class EndReason : std::uint8_t {
  closed,        // TCP FIN exchange or RST finished, and the linger time passed
  idle_timeout,  // no packet for the protocol's idle timeout
  evicted,       // the flow table was full
  end_of_input,  // the capture ended with the flow still open
};
std::string_view end_reason_name(EndReason r);

struct Flow {
  core::FlowKey key;
  bool client_is_a = true;  // the client is endpoint a of `key`
  ClientBy client_by = ClientBy::first_packet;
  decode::Tunnel tunnel = decode::Tunnel::none;
  std::uint8_t interface_id = 0;  // capture interface of the first packet (live: index)
  core::Timestamp first_seen;
  core::Timestamp last_seen;
  std::array<DirectionStats, 2> dir{};

  // ICMP errors whose quoted header names this flow (RFC 792 / RFC 4443 §3).
  std::uint32_t icmp_errors = 0;
  std::uint8_t icmp_type = 0;  // of the last such error
  std::uint8_t icmp_code = 0;
  std::uint8_t icmp_version : 4 = 0;  // 4 for ICMP, 6 for ICMPv6
  // ICMP echo flows: what the last echo was, for the ECHO_REQUEST / ECHO_REPLY states.
  std::uint8_t icmp_echo : 2 = kNoEcho;
  // ARP flows (key.proto == kArpProto): kArpRequest or kArpReply (flow/arp.hpp).
  std::uint8_t arp_state : 2 = 0;
  // The DPI fields changed since the flow was last sampled for a tick: the sampler
  // describes only such flows (monitor::FlowStage::sample), so a tick does not rebuild
  // the strings of every inspected flow. Fills the byte after icmp_version.
  bool dpi_changed = false;

  // Deep packet inspection state (dpi/inspector.hpp): 24 bytes, a heap session only
  // while a recognised protocol needs one. Makes Flow move-only.
  dpi::FlowState dpi;

  TcpTracker tcp;  // meaningful when key.proto == TCP

  core::Endpoint client() const {
    return client_is_a ? core::Endpoint{key.addr_a, key.port_a}
                       : core::Endpoint{key.addr_b, key.port_b};
  }
  core::Endpoint server() const {
    return client_is_a ? core::Endpoint{key.addr_b, key.port_b}
                       : core::Endpoint{key.addr_a, key.port_a};
  }
  bool is_tcp() const { return key.proto == decode::ip_proto::tcp; }
  // Outer addresses of the tunnel the flow came in (`tunnel`), unspecified when none.
  // Kept in the tracker's side block, allocated only for tunnelled flows.
  core::IpAddress tunnel_src() const { return tcp.tunnel_src(); }
  core::IpAddress tunnel_dst() const { return tcp.tunnel_dst(); }
  std::uint64_t total_bytes() const { return dir[0].bytes + dir[1].bytes; }
  std::uint64_t total_packets() const { return dir[0].packets + dir[1].packets; }
};
// The flow table holds one Flow per concurrently active flow, so this is most of the
// memory of a busy capture. Issue 3's budget is 400 bytes per tracked flow, index
// included: the index has 2 slots of 12 bytes per flow (flow_table.hpp), which leaves
// 376 for the Flow; it is 368, so that the pool's last, partly used chunk fits too
// (tests/unit/flow/flow_size_test.cpp accounts for it). Side
// allocations are made only when needed: the tracker's side block (health counters once
// a segment was flagged, tunnel endpoints), the RTT histogram past 8 samples and the DPI
// sessions of recognised flows (capped per Inspector). See the layout notes in
// tcp_tracker.hpp and rtt_sketch.hpp before adding members. (Was 656 bytes, and 1088
// before that.)
inline constexpr std::size_t kFlowBytesBudget = 368;
static_assert(sizeof(Flow) <= kFlowBytesBudget,
              "Flow grew: the flow table must stay within 400 bytes per tracked flow");

}  // namespace netscope::flow
