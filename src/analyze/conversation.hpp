#pragma once
// Conversation: the compact, self-contained summary of one ended flow that the analyze
// report keeps or streams out. It is built once, when the flow ends, so the report never
// holds on to flow-table objects (ARCHITECTURE.md: readers never touch the flow table).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"
#include "decode/packet_view.hpp"
#include "dpi/inspector.hpp"
#include "enrich/geoip.hpp"
#include "flow/flow.hpp"
#include "flow/tcp_tracker.hpp"

namespace netscope::analyze {

enum class Level : std::uint8_t { none, low, medium, high };
std::string_view level_name(Level l);  // "NONE", "LOW", "MEDIUM", "HIGH"
Level level_of(int score);

struct DirectionSummary {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t data_packets = 0;
  flow::TcpHealth tcp;
};

struct RttSummary {
  std::optional<double> handshake_ms;
  std::optional<double> p50_ms;
  std::optional<double> p95_ms;
  std::optional<double> max_ms;
  std::uint64_t samples = 0;
};

// What went wrong with setting the connection up, if anything.
enum class SetupProblem : std::uint8_t {
  none,
  syn_unanswered,  // SYNs sent, nothing came back
  refused,         // SYN answered by RST
};

struct Conversation {
  std::uint64_t id = 0;  // 1-based, in the order conversations ended
  core::Endpoint client;
  core::Endpoint server;
  std::uint8_t proto = 0;
  flow::ClientBy client_by = flow::ClientBy::first_packet;
  std::uint16_t vlan = 0;
  decode::Tunnel tunnel = decode::Tunnel::none;
  std::uint32_t tunnel_id = 0;
  core::IpAddress tunnel_src;
  core::IpAddress tunnel_dst;
  core::Timestamp first_seen;
  core::Timestamp last_seen;
  flow::EndReason end_reason = flow::EndReason::end_of_input;
  std::optional<flow::TcpState> tcp_state;
  std::array<DirectionSummary, 2> dir{};  // 0 = client -> server
  RttSummary rtt;
  SetupProblem setup = SetupProblem::none;
  int reset_by = -1;  // direction that sent the first RST, -1 if none
  std::uint32_t icmp_errors = 0;
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  std::uint8_t icmp_version = 0;
  std::uint8_t arp_state = 0;  // ARP conversations: flow/arp.hpp kArpRequest / kArpReply
  // What deep inspection learnt (Inspector::describe at the flow's end); empty fields
  // are unknown. `service` is the server port's name from /etc/services.
  dpi::DpiFields dpi;
  std::string service;
  // Country and AS of each endpoint (enrich::GeoIp, analyze --geoip/--asn-db): "private"
  // or "reserved" for such ranges; empty fields when unknown or without a lookup.
  enrich::GeoRecord client_geo;
  enrich::GeoRecord server_geo;

  int score = 0;
  std::vector<std::string> reasons;

  Level level() const { return level_of(score); }
  std::uint64_t total_bytes() const { return dir[0].bytes + dir[1].bytes; }
  std::uint64_t total_packets() const { return dir[0].packets + dir[1].packets; }
  bool is_tcp() const { return proto == decode::ip_proto::tcp; }
  double duration_s() const { return static_cast<double>(last_seen.ns - first_seen.ns) / 1e9; }
};

// `capture_end` is the timestamp of the last packet read, used to avoid calling a SYN
// "unanswered" when the capture simply stopped right after it. For a flow that has ended
// (FlowSink::on_flow_end): its DPI fields are moved out (dpi::Inspector::take).
Conversation summarize(const flow::Flow& flow, flow::EndReason reason, core::Timestamp capture_end);

// What an ICMP or ICMPv6 error says about the flow it quotes (RFC 792, RFC 4443 §3).
enum class IcmpErrorKind : std::uint8_t { unreachable, packet_too_big, time_exceeded, other };
IcmpErrorKind icmp_error_kind(std::uint8_t ip_version, std::uint8_t type, std::uint8_t code);
// "icmp_unreachable", "icmp_packet_too_big", "icmp_time_exceeded", "icmp_error".
std::string_view icmp_error_kind_name(IcmpErrorKind kind);

// "tcp", "udp", "icmp", "icmpv6", "gre", "arp" (flow::kArpProto), or the protocol number.
std::string proto_name(std::uint8_t proto);
// "TCP 10.0.0.1:43512 -> 10.0.0.2:80" (no ports for port-less protocols).
std::string describe_flow(std::uint8_t proto, const core::Endpoint& from, const core::Endpoint& to);
std::string describe(const Conversation& c);

}  // namespace netscope::analyze
