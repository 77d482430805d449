#pragma once
// Entry point of the decoder: frame bytes + link type -> PacketView. Decoding walks a
// span layer by layer (dispatch tables keyed by ethertype / IP protocol), never reads
// past the span, never allocates and never throws. On malformed input it fills what it
// could, bumps a named anomaly and returns false.

#include <cstdint>
#include <span>

#include "decode/anomalies.hpp"
#include "decode/packet_view.hpp"

namespace netscope::decode {

// Link types we decode (values from pcap-linktype(7)).
namespace linktype {
inline constexpr int null_bsd = 0;     // DLT_NULL: 4-byte host-order AF
inline constexpr int ethernet = 1;     // DLT_EN10MB
inline constexpr int raw = 101;        // LINKTYPE_RAW: IPv4 or IPv6 by version nibble
inline constexpr int raw_dlt = 12;     // DLT_RAW as pcap_datalink() reports it on Linux (tun)
inline constexpr int loop = 108;       // DLT_LOOP (OpenBSD): 4-byte network-order AF
inline constexpr int linux_sll = 113;  // Linux cooked v1
inline constexpr int nflog = 239;      // Linux NFLOG
inline constexpr int ipv4 = 228;
inline constexpr int ipv6 = 229;
inline constexpr int linux_sll2 = 276;  // Linux cooked v2
}  // namespace linktype

// True when decode_packet() understands the link type.
bool linktype_supported(int linktype);

// Decodes `frame` (captured bytes) of a packet whose wire length is `orig_len`. Returns
// true when at least the IP layer was decoded (or ARP). `view` is reset first, except
// `view.ts`, which is kept so the caller may stamp the time before or after decoding.
bool decode_packet(int linktype, std::span<const std::uint8_t> frame, std::uint32_t orig_len,
                   PacketView& view, AnomalyCounters& anomalies);

}  // namespace netscope::decode
