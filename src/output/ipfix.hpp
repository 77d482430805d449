#pragma once
// IPFIX encoding (RFC 7011 messages, RFC 7012 information elements) of netscope's flow
// records: two templates, one per IP version, with the standard IEs below and netscope's
// enterprise-specific IEs for what only a host-side monitor knows (process, pid, user,
// application, SNI). MessageEncoder packs records into messages no larger than a chosen
// size (1400 bytes by default, under a common path MTU, for UDP), puts the templates in
// front when asked, and keeps the sequence number of the observation domain.
//
// Records are unidirectional (RFC 7011 §2: a flow is a set of packets with common
// properties); a connection is exported as one record per direction that carried packets,
// and flowDirection tells which one: 1 (egress) for packets sent from a local address
// ("up"), 0 (ingress) for packets received ("down").

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/ip_address.hpp"

namespace netscope::output::ipfix {

inline constexpr std::uint16_t kVersion = 10;        // RFC 7011 §3.1
inline constexpr std::uint16_t kTemplateSetId = 2;   // RFC 7011 §3.3.2
inline constexpr std::uint16_t kTemplateIpv4 = 256;  // first data set id
inline constexpr std::uint16_t kTemplateIpv6 = 257;
inline constexpr std::size_t kDefaultMaxMessage = 1400;
// RFC 5612 §2: the Private Enterprise Number reserved for documentation and examples.
// netscope has no registered PEN; its enterprise-specific IEs live under this one so that
// collectors that do not know them skip them (RFC 7011 §8: unknown IEs are ignored).
inline constexpr std::uint32_t kEnterpriseNumber = 32473;

// Standard IEs (IANA "IPFIX Information Elements" registry).
namespace ie {
inline constexpr std::uint16_t octetDeltaCount = 1;            // unsigned64
inline constexpr std::uint16_t packetDeltaCount = 2;           // unsigned64
inline constexpr std::uint16_t protocolIdentifier = 4;         // unsigned8
inline constexpr std::uint16_t tcpControlBits = 6;             // unsigned16 (RFC 7125)
inline constexpr std::uint16_t sourceTransportPort = 7;        // unsigned16
inline constexpr std::uint16_t sourceIPv4Address = 8;          // ipv4Address
inline constexpr std::uint16_t destinationTransportPort = 11;  // unsigned16
inline constexpr std::uint16_t destinationIPv4Address = 12;    // ipv4Address
inline constexpr std::uint16_t sourceIPv6Address = 27;         // ipv6Address
inline constexpr std::uint16_t destinationIPv6Address = 28;    // ipv6Address
inline constexpr std::uint16_t flowDirection = 61;             // unsigned8: 0 ingress, 1 egress
inline constexpr std::uint16_t flowEndReason = 136;            // unsigned8
inline constexpr std::uint16_t flowStartMilliseconds = 152;    // dateTimeMilliseconds
inline constexpr std::uint16_t flowEndMilliseconds = 153;      // dateTimeMilliseconds
}  // namespace ie

// netscope's enterprise-specific IEs (under kEnterpriseNumber). Strings are UTF-8,
// variable length (RFC 7011 §7), empty when unknown; pid 0 means unknown.
namespace nie {
inline constexpr std::uint16_t processName = 1;      // string: the owner's comm
inline constexpr std::uint16_t processId = 2;        // unsigned32
inline constexpr std::uint16_t userName = 3;         // string: the owner's user name
inline constexpr std::uint16_t applicationName = 4;  // string: "TLS", "HTTP", "QUIC", ...
inline constexpr std::uint16_t serverName = 5;       // string: TLS/QUIC SNI, else the HTTP Host
}  // namespace nie

// RFC 5102 §5.11.3 flowEndReason values.
enum class EndReason : std::uint8_t {
  idle_timeout = 1,
  active_timeout = 2,
  end_of_flow = 3,        // FIN/RST seen
  forced_end = 4,         // shutdown, end of a replayed file
  lack_of_resources = 5,  // evicted from a full flow table
};

// TCP flag bits of tcpControlBits (RFC 7125).
namespace tcp_flag {
inline constexpr std::uint16_t fin = 0x01;
inline constexpr std::uint16_t syn = 0x02;
inline constexpr std::uint16_t rst = 0x04;
inline constexpr std::uint16_t ack = 0x10;
}  // namespace tcp_flag

// One unidirectional flow record.
struct FlowRecord {
  core::IpAddress src;
  core::IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t proto = 0;
  std::uint64_t octets = 0;  // IP bytes (octetDeltaCount)
  std::uint64_t packets = 0;
  std::int64_t start_ms = 0;  // Unix milliseconds
  std::int64_t end_ms = 0;
  std::uint16_t tcp_flags = 0;
  EndReason end_reason = EndReason::active_timeout;
  std::uint8_t direction = 0;  // flowDirection: 0 ingress (down), 1 egress (up)
  std::string process;
  std::uint32_t pid = 0;
  std::string user;
  std::string app;
  std::string sni;
};

// One field specifier of a template (RFC 7011 §3.2).
struct FieldSpec {
  std::uint16_t id = 0;
  std::uint16_t length = 0;  // 65535 = variable length
  std::uint32_t enterprise = 0;
};

// The field specifiers of the IPv4 (v6 = false) or IPv6 template, in record order.
std::vector<FieldSpec> template_fields(bool v6);

class MessageEncoder {
 public:
  explicit MessageEncoder(std::uint32_t observation_domain,
                          std::size_t max_message = kDefaultMaxMessage);

  // Encodes `records` into messages of at most max_message bytes each (a record that
  // cannot fit alone is dropped and counted). With `with_templates`, the first message
  // starts with the template set. An empty `records` with templates gives one message
  // holding only the templates. export_time_s is the Unix time of the export.
  std::vector<std::vector<std::uint8_t>> encode(std::span<const FlowRecord> records,
                                                bool with_templates, std::uint32_t export_time_s);

  // Data records sent so far, modulo 2^32 (the next message's sequence number).
  std::uint32_t sequence() const { return sequence_; }
  std::uint64_t oversized() const { return oversized_; }

 private:
  std::uint32_t domain_;
  std::size_t max_message_;
  std::uint32_t sequence_ = 0;
  std::uint64_t oversized_ = 0;
};

}  // namespace netscope::output::ipfix
