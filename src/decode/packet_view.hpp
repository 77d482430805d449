#pragma once
// PacketView: the flat result of decoding one frame. It holds values and views into the
// captured bytes, never copies of them, and decoding it never allocates (STYLE.md §2).
// Fields past the deepest layer that could be decoded keep their defaults; `layers`
// says how far decoding got.

#include <array>
#include <cstdint>
#include <span>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"

namespace netscope::decode {

// TCP flag bits as on the wire (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

namespace ip_proto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t gre = 47;
inline constexpr std::uint8_t icmpv6 = 58;
}  // namespace ip_proto

// Protocols whose flows are keyed by port (and whose ports ICMP quotes are matched on).
constexpr bool proto_has_ports(std::uint8_t proto) {
  return proto == ip_proto::tcp || proto == ip_proto::udp;
}

enum class Tunnel : std::uint8_t { none, gre, vxlan, ip_in_ip };

struct TcpOptions {
  bool has_mss = false;
  bool has_wscale = false;
  bool sack_permitted = false;
  bool has_timestamps = false;
  std::uint16_t mss = 0;
  std::uint8_t wscale = 0;
  std::uint8_t sack_count = 0;  // blocks in `sack`
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
  std::array<std::uint32_t, 8> sack{};  // left,right pairs (up to 4 blocks)
};

// The transport header an ICMP error quotes (RFC 792, RFC 4443 §3): ties the error to
// the flow that caused it.
struct IcmpQuote {
  bool present = false;
  core::IpAddress src;
  core::IpAddress dst;
  std::uint8_t proto = 0;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
};

struct PacketView {
  // Which layers were decoded, as bits.
  enum Layer : std::uint8_t {
    kLink = 1,
    kIp = 2,
    kTransport = 4,  // TCP/UDP/ICMP header fully present
    kArp = 8,
  };
  std::uint8_t layers = 0;

  core::Timestamp ts;
  std::uint32_t cap_len = 0;   // bytes captured
  std::uint32_t orig_len = 0;  // bytes on the wire
  int linktype = 0;
  std::uint8_t interface_id = 0;  // capture interface index (RawPacket::interface_id)

  // Link and encapsulation.
  std::uint8_t vlan_count = 0;
  std::uint16_t vlan = 0;  // innermost 802.1Q VID
  std::uint8_t mpls_labels = 0;
  Tunnel tunnel = Tunnel::none;
  std::uint32_t tunnel_id = 0;  // VNI or GRE key
  core::IpAddress tunnel_src;   // outer addresses of the innermost tunnel
  core::IpAddress tunnel_dst;

  // Network layer (the innermost IP header when tunnelled).
  std::uint8_t ip_version = 0;  // 4 or 6, 0 when none
  core::IpAddress src;
  core::IpAddress dst;
  std::uint8_t ip_proto = 0;  // transport protocol (after IPv6 extension headers)
  std::uint8_t ttl = 0;       // TTL or hop limit
  std::uint8_t tos = 0;       // DSCP/ECN byte (IPv4 TOS, IPv6 traffic class)
  // IP bytes as the Conventions define them: IP header + payload, from the IP length
  // field (or the wire length when the field is 0, as with TSO captures).
  std::uint32_t ip_bytes = 0;
  bool is_fragment = false;     // any fragment (MF set or offset != 0)
  bool first_fragment = false;  // offset 0 fragment (carries the transport header)
  std::uint32_t frag_id = 0;
  std::uint16_t frag_offset = 0;  // in bytes

  // Transport.
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint8_t tcp_flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;  // raw, unscaled
  std::uint8_t tcp_header_len = 0;
  TcpOptions tcp_opts;
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  IcmpQuote icmp_quote;

  // Transport payload: its length on the wire (from the IP/UDP lengths) and the bytes
  // actually captured, which may be shorter.
  std::uint32_t payload_len = 0;
  std::span<const std::uint8_t> payload;

  // ARP (layers & kArp).
  std::uint16_t arp_op = 0;
  // The ARP message: 8 + 2 * (hardware + protocol address length) bytes, 28 for
  // Ethernet/IPv4. An ARP flow's bytes (flow/arp.hpp), as ip_bytes are an IP flow's.
  std::uint16_t arp_len = 0;
  core::IpAddress arp_sender;
  core::IpAddress arp_target;

  // Bytes of the packet on the wire that were not captured (orig_len - cap_len).
  std::uint32_t missing_bytes = 0;
  // Bytes the IP length field claimed beyond what the wire held (0 normally). ip_bytes
  // and payload_len are trimmed to the wire.
  std::uint32_t ip_len_excess = 0;

  bool has_ip() const { return (layers & kIp) != 0; }
  bool has_transport() const { return (layers & kTransport) != 0; }
  bool is_tcp() const { return has_transport() && ip_proto == ip_proto::tcp; }
  bool is_udp() const { return has_transport() && ip_proto == ip_proto::udp; }
};

}  // namespace netscope::decode
