#include "host/netlink_addr.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace netscope::host {

namespace {

bool parse_address(std::uint16_t type, std::span<const std::uint8_t> payload,
                   std::vector<AddressMessage>& out) {
  if (payload.size() < sizeof(ifaddrmsg)) return false;
  ifaddrmsg ifa;
  std::memcpy(&ifa, payload.data(), sizeof(ifa));
  if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) return true;  // not ours
  const std::size_t addr_size = ifa.ifa_family == AF_INET ? 4 : 16;
  if (ifa.ifa_prefixlen > addr_size * 8) return false;

  AddressMessage msg;
  msg.added = type == RTM_NEWADDR;
  msg.family = ifa.ifa_family;
  msg.prefix_len = ifa.ifa_prefixlen;
  msg.scope = ifa.ifa_scope;
  msg.ifindex = ifa.ifa_index;
  std::span<const std::uint8_t> address;
  std::span<const std::uint8_t> local;
  bool sizes_ok = true;
  const auto attrs = payload.subspan(std::min(netlink::align4(sizeof(ifa)), payload.size()));
  const bool attrs_ok = netlink::walk_attributes(attrs, [&](std::uint16_t attr, auto value) {
    if (attr != IFA_ADDRESS && attr != IFA_LOCAL) return;
    if (value.size() != addr_size) sizes_ok = false;
    (attr == IFA_LOCAL ? local : address) = value;
  });
  if (!attrs_ok || !sizes_ok) return false;
  const auto chosen = local.empty() ? address : local;
  if (chosen.empty()) return true;  // an address message without an address: nothing to add
  if (addr_size == 4) {
    msg.address = core::IpAddress::from_v4(std::span<const std::uint8_t, 4>(chosen.data(), 4));
  } else {
    msg.address = core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(chosen.data(), 16));
  }
  out.push_back(msg);
  return true;
}

}  // namespace

bool parse_address_messages(std::span<const std::uint8_t> bytes, std::vector<AddressMessage>& out,
                            netlink::ReplyStatus& status) {
  return netlink::walk_messages(bytes, status, [&](std::uint16_t type, auto payload) {
    if (type != RTM_NEWADDR && type != RTM_DELADDR) return true;  // e.g. link messages
    return parse_address(type, payload, out);
  });
}

}  // namespace netscope::host
