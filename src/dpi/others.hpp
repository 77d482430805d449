#pragma once
// Cheap recognisers for protocols we only name, never parse further: NTP, DHCP, SSDP
// and STUN. Each checks the fixed fields that make a false match on random payload
// unlikely. (mDNS and LLMNR are DNS messages on their own ports: see dns.hpp.)

#include "dpi/reader.hpp"

namespace netscope::dpi::others {

// NTP (RFC 5905 §7.3): version 1..4, mode 1..5, a 48-byte header (extension fields and
// a MAC may follow, in 4-byte units). Weak on its own: used with the port hint only.
bool is_ntp(Bytes payload);

// DHCP / BOOTP (RFC 2131 §2, RFC 2132 §2): op 1 or 2, Ethernet hardware address, and the
// magic cookie 99.130.83.99 at offset 236.
bool is_dhcp(Bytes payload);

// SSDP (UPnP Device Architecture 2.0 §1): HTTP-over-UDP start lines "M-SEARCH * HTTP/1.1",
// "NOTIFY * HTTP/1.1", or a search response with an ST or USN header field.
bool is_ssdp(Bytes payload);

// STUN (RFC 8489 §5, also TURN and ICE): the two top bits zero, a message length that is
// a multiple of 4 and matches the datagram, and the magic cookie 0x2112A442.
bool is_stun(Bytes payload);

}  // namespace netscope::dpi::others
