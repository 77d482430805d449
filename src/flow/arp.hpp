#pragma once
// ARP conversations (RFC 826). An ARP request ("who has B? tell A") and its reply ("B is
// at <mac>", sent back to A) form one conversation, keyed like an IP flow by the pair of
// protocol (IPv4) addresses, ordered so that both directions share a key, with no ports
// and the pseudo protocol number kArpProto. The client is the sender of the first packet
// seen: the requester, when the request was captured.
//
// State: ARP_REQUEST after a request that no reply has followed yet, ARP_REPLY once a
// reply is seen; a later request (a cache refresh) asks again and shows ARP_REQUEST until
// its reply, as ICMP echo flows show the last echo. A gratuitous ARP (sender and target
// protocol address equal, RFC 5227 §3 "ARP Announcement", sent as a request or a reply
// alike, RFC 5944 §4.6) states a binding and expects no answer: it counts as a reply.
// Only requests and replies with IPv4 protocol addresses make flows; other operations
// (RARP, InARP) and other protocol types are counted as ARP packets only.
//
// Bytes: ARP carries no IP header, so a flow's bytes are the ARP message itself (8 bytes
// of header plus the two hardware and protocol addresses: 28 for Ethernet/IPv4), never
// the frame with its link header or padding.

#include <cstdint>
#include <string_view>

#include "decode/packet_view.hpp"
#include "flow/flow.hpp"

namespace netscope::flow {

// FlowKey::proto of an ARP flow. ARP is not an IP protocol; IANA reserves 255 (RFC 5237
// §3), so no valid IP packet carries it and ARP flows never meet valid IP ones. (A
// malformed IP packet with protocol 255 would share the key of an ARP flow between the
// same addresses and be counted and named with it.)
inline constexpr std::uint8_t kArpProto = 255;

// ARP operation codes (RFC 826).
inline constexpr std::uint16_t kArpOpRequest = 1;
inline constexpr std::uint16_t kArpOpReply = 2;

// Flow::arp_state values.
inline constexpr std::uint8_t kNoArp = 0;
inline constexpr std::uint8_t kArpRequest = 1;
inline constexpr std::uint8_t kArpReply = 2;

// True for a decoded ARP request or reply with IPv4 protocol addresses (and no IP layer):
// the packets that make ARP flows.
inline bool is_arp_flow_packet(const decode::PacketView& v) {
  return (v.layers & (decode::PacketView::kArp | decode::PacketView::kIp)) ==
             decode::PacketView::kArp &&
         (v.arp_op == kArpOpRequest || v.arp_op == kArpOpReply) && v.arp_sender.is_v4() &&
         v.arp_target.is_v4();
}

// True for a gratuitous ARP: the sender announces its own address.
inline bool is_gratuitous_arp(const decode::PacketView& v) {
  return v.arp_sender == v.arp_target;
}

// The state of an ARP flow after packet `v` (is_arp_flow_packet(v)).
inline std::uint8_t arp_state_after(const decode::PacketView& v) {
  return v.arp_op == kArpOpReply || is_gratuitous_arp(v) ? kArpReply : kArpRequest;
}

// "ARP_REQUEST", "ARP_REPLY", or "" for kNoArp.
std::string_view arp_state_name(std::uint8_t state);

}  // namespace netscope::flow
