#pragma once
// Parser for rtnetlink address messages (RTM_NEWADDR / RTM_DELADDR), as they arrive from
// an RTM_GETADDR dump and from the RTMGRP_IPV4_IFADDR / RTMGRP_IPV6_IFADDR multicast
// groups. Split from the socket code (LocalAddresses) so it can be unit-tested on
// hand-built buffers and fuzzed (fuzz/fuzz_netlink_addr.cpp).

#include <cstdint>
#include <span>
#include <vector>

#include "core/ip_address.hpp"
#include "host/netlink.hpp"

namespace netscope::host {

struct AddressMessage {
  bool added = true;            // RTM_NEWADDR; false for RTM_DELADDR
  std::uint8_t family = 0;      // AF_INET or AF_INET6
  std::uint8_t prefix_len = 0;  // as the family counts it: 0..32 or 0..128
  std::uint8_t scope = 0;       // RT_SCOPE_*: 0 universe, 253 link, 254 host
  std::uint32_t ifindex = 0;
  // IFA_LOCAL when present, else IFA_ADDRESS: on a point-to-point link IFA_ADDRESS is
  // the peer and IFA_LOCAL this host's end (rtnetlink(7)).
  core::IpAddress address;
};

// Parses one recv() buffer and appends an entry per address message of family AF_INET
// or AF_INET6 that carries an address. Other families and message types are skipped.
// Every nlmsghdr and rtattr length is checked against the bytes left; an address
// attribute of the wrong size is malformed. Returns false on malformed bytes or a kernel
// error (status.error); entries parsed before the damage stay in `out`.
bool parse_address_messages(std::span<const std::uint8_t> bytes, std::vector<AddressMessage>& out,
                            netlink::ReplyStatus& status);

}  // namespace netscope::host
