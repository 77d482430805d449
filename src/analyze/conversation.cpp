#include "analyze/conversation.hpp"

#include <algorithm>
#include <cctype>

#include "enrich/services.hpp"
#include "flow/arp.hpp"

namespace netscope::analyze {

namespace {
// A SYN sent this close to the end of the capture may simply have had its answer cut
// off; such a connection is not called unanswered.
constexpr std::int64_t kUnansweredGraceNs = 1'000'000'000;
}  // namespace

std::string_view level_name(Level l) {
  switch (l) {
    case Level::none:
      return "NONE";
    case Level::low:
      return "LOW";
    case Level::medium:
      return "MEDIUM";
    case Level::high:
      return "HIGH";
  }
  return "NONE";
}

Level level_of(int score) {
  if (score <= 0) return Level::none;
  if (score < 50) return Level::low;
  if (score < 100) return Level::medium;
  return Level::high;
}

IcmpErrorKind icmp_error_kind(std::uint8_t ip_version, std::uint8_t type, std::uint8_t code) {
  if (ip_version == 6) {
    switch (type) {
      case 1:
        return IcmpErrorKind::unreachable;
      case 2:
        return IcmpErrorKind::packet_too_big;
      case 3:
        return IcmpErrorKind::time_exceeded;
      default:
        return IcmpErrorKind::other;
    }
  }
  if (type == 3) return code == 4 ? IcmpErrorKind::packet_too_big : IcmpErrorKind::unreachable;
  if (type == 11) return IcmpErrorKind::time_exceeded;
  return IcmpErrorKind::other;
}

std::string_view icmp_error_kind_name(IcmpErrorKind kind) {
  switch (kind) {
    case IcmpErrorKind::unreachable:
      return "icmp_unreachable";
    case IcmpErrorKind::packet_too_big:
      return "icmp_packet_too_big";
    case IcmpErrorKind::time_exceeded:
      return "icmp_time_exceeded";
    case IcmpErrorKind::other:
      break;
  }
  return "icmp_error";
}

std::string proto_name(std::uint8_t proto) {
  switch (proto) {
    case decode::ip_proto::tcp:
      return "tcp";
    case decode::ip_proto::udp:
      return "udp";
    case decode::ip_proto::icmp:
      return "icmp";
    case decode::ip_proto::icmpv6:
      return "icmpv6";
    case decode::ip_proto::gre:
      return "gre";
    case 132:
      return "sctp";
    case 50:
      return "esp";
    case flow::kArpProto:
      return "arp";
    default:
      return "ip-proto-" + std::to_string(proto);
  }
}

std::string describe_flow(std::uint8_t proto, const core::Endpoint& from,
                          const core::Endpoint& to) {
  std::string name = proto_name(proto);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  const bool ported = decode::proto_has_ports(proto);
  if (!ported) return name + " " + from.addr.to_string() + " -> " + to.addr.to_string();
  return name + " " + from.to_string() + " -> " + to.to_string();
}

std::string describe(const Conversation& c) {
  return describe_flow(c.proto, c.client, c.server);
}

Conversation summarize(const flow::Flow& f, flow::EndReason reason, core::Timestamp capture_end) {
  Conversation c;
  c.client = f.client();
  c.server = f.server();
  c.proto = f.key.proto;
  c.client_by = f.client_by;
  c.vlan = f.key.vlan;
  c.tunnel = f.tunnel;
  c.tunnel_id = f.key.tunnel_id;
  c.tunnel_src = f.tunnel_src();
  c.tunnel_dst = f.tunnel_dst();
  c.first_seen = f.first_seen;
  c.last_seen = f.last_seen;
  c.end_reason = reason;
  c.icmp_errors = f.icmp_errors;
  c.icmp_type = f.icmp_type;
  c.icmp_code = f.icmp_code;
  c.icmp_version = f.icmp_version;
  c.arp_state = f.arp_state;
  // The flow has ended (summarize is on_flow_end's): its DPI strings are moved, not copied.
  if (f.dpi.detected()) c.dpi = dpi::Inspector::take(f.dpi);
  if (decode::proto_has_ports(c.proto)) {
    c.service = std::string(enrich::service_name(c.server.port, c.proto));
  }
  for (int d = 0; d < 2; ++d) {
    DirectionSummary& s = c.dir[d];
    s.packets = f.dir[d].packets;
    s.bytes = f.dir[d].bytes;
    s.payload_bytes = f.dir[d].payload_bytes;
    s.data_packets = f.dir[d].data_packets;
    if (f.is_tcp()) s.tcp = f.tcp.health(d);
  }
  if (f.is_tcp()) {
    const flow::TcpTracker& t = f.tcp;
    c.tcp_state = t.state();
    c.rtt.handshake_ms = t.handshake_rtt_ms();
    c.rtt.p50_ms = t.rtt().quantile_ms(0.50);
    c.rtt.p95_ms = t.rtt().quantile_ms(0.95);
    c.rtt.max_ms = t.rtt().max_ms();
    c.rtt.samples = t.rtt().count();
    c.reset_by = t.reset_by();
    // "Unanswered" only when the client sent nothing but its SYN and re-sent SYNs (which
    // the analysis counts as retransmissions): a client that went on to send ACKs or data
    // was answered by packets this capture did not see, as when each direction crosses
    // a different VLAN (zeek/ldap_gap-data-missing.pcapng).
    const flow::DirectionStats& up = f.dir[flow::kClientToServer];
    const bool only_syns = up.packets == t.health(flow::kClientToServer).retransmissions + 1;
    const bool silent_server =
        t.syn_seen() && !t.syn_ack_seen() && f.dir[flow::kServerToClient].packets == 0;
    if (t.refused()) {
      c.setup = SetupProblem::refused;
    } else if (silent_server && only_syns &&
               (capture_end.ns - f.last_seen.ns >= kUnansweredGraceNs || up.packets > 1)) {
      // Re-sent SYNs with no answer at all are unanswered even if the capture stops soon.
      c.setup = SetupProblem::syn_unanswered;
    }
  }
  return c;
}

}  // namespace netscope::analyze
