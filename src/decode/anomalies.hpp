#pragma once
// Named anomaly counters (STYLE.md §4). A malformed packet bumps one of these and is
// otherwise skipped or decoded as far as its bytes allow; it never ends a run. The names
// appear verbatim in JSON and Prometheus outputs.

#include <array>
#include <cstdint>
#include <string_view>

namespace netscope::decode {

#define NETSCOPE_ANOMALIES(X)                                                                \
  X(truncated_link)             /* frame shorter than its link-layer header */               \
  X(truncated_vlan)             /* 802.1Q/802.1ad tag cut short */                           \
  X(truncated_mpls)             /* MPLS label stack without bottom-of-stack in bytes */      \
  X(bad_nflog)                  /* NFLOG TLVs malformed or no payload TLV */                 \
  X(unsupported_ethertype)      /* ethertype we do not decode (not an error) */              \
  X(truncated_ipv4)             /* fewer than 20 bytes, or header length beyond bytes */     \
  X(bad_ipv4_header_len)        /* IHL < 5 */                                                \
  X(bad_ipv4_total_len)         /* total length < header length */                           \
  X(ipv4_len_exceeds_frame)     /* total length > bytes on the wire */                       \
  X(bad_ip_version)             /* version nibble not 4/6 where IP was expected */           \
  X(truncated_ipv6)             /* fewer than 40 bytes */                                    \
  X(bad_ipv6_payload_len)       /* payload length > bytes on the wire */                     \
  X(truncated_ipv6_ext)         /* extension header runs past the bytes */                   \
  X(ipv6_ext_chain_too_long)    /* more extension headers than we walk */                    \
  X(ip_fragment)                /* non-first fragment: no transport header (not an error) */ \
  X(truncated_tcp)              /* TCP header cut short by the snaplen */                    \
  X(bad_tcp_offset)             /* data offset < 5 or beyond the segment */                  \
  X(bad_tcp_option)             /* option length 0/1 or past the header */                   \
  X(truncated_udp)              /* UDP header cut short */                                   \
  X(bad_udp_length)             /* UDP length < 8 or > IP payload */                         \
  X(truncated_icmp)             /* ICMP header cut short */                                  \
  X(truncated_arp)              /* ARP body cut short */                                     \
  X(truncated_gre)              /* GRE header cut short */                                   \
  X(truncated_vxlan)            /* VXLAN header cut short */                                 \
  X(tunnel_too_deep)            /* more nested tunnels than we follow */                     \
  X(snaplen_truncated)          /* packet captured shorter than its wire length */           \
  X(unsupported_address_family) /* BSD null/loop AF that is neither IPv4 nor IPv6 */         \
  X(udp_trailing_bytes)         /* UDP length < IP payload: bytes after the datagram */      \
  X(truncated_icmp_quote)       /* ICMP error quotes less than an IP header */               \
  X(ip_len_zero)                /* IP length 0, no jumbo: offload capture, wire length used */

enum class Anomaly : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_ANOMALIES(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};

inline constexpr std::size_t kAnomalyCount = static_cast<std::size_t>(Anomaly::count_);

constexpr std::string_view anomaly_name(Anomaly a) {
  constexpr std::array<std::string_view, kAnomalyCount> kNames{
#define NETSCOPE_X(name) #name,
      NETSCOPE_ANOMALIES(NETSCOPE_X)
#undef NETSCOPE_X
  };
  return kNames[static_cast<std::size_t>(a)];
}

struct AnomalyCounters {
  std::array<std::uint64_t, kAnomalyCount> counts{};
  void bump(Anomaly a) { ++counts[static_cast<std::size_t>(a)]; }
  std::uint64_t get(Anomaly a) const { return counts[static_cast<std::size_t>(a)]; }
  void merge(const AnomalyCounters& o) {
    for (std::size_t i = 0; i < kAnomalyCount; ++i) counts[i] += o.counts[i];
  }
};

}  // namespace netscope::decode
