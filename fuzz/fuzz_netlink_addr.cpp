// libFuzzer target for the rtnetlink address parser (host/netlink_addr): arbitrary bytes
// as one recv() buffer of an RTM_GETADDR dump or of the address event groups. The first
// byte picks whether a sequence number is expected (a dump reply) or not (events).
//
// No capture holds netlink messages, so this target writes its own seeds into an empty
// seed directory named on the command line (see builtin_seeds.hpp).

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "builtin_seeds.hpp"
#include "host/netlink_addr.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::uint32_t kSeq = 7;

void append(Bytes& buf, const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  buf.insert(buf.end(), p, p + size);
  buf.resize((buf.size() + 3) & ~std::size_t{3}, 0);  // NLMSG_ALIGN / RTA_ALIGN
}

void append_message(Bytes& buf, std::uint16_t type, const Bytes& body, std::uint32_t seq) {
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<std::uint32_t>(sizeof(hdr) + body.size());
  hdr.nlmsg_type = type;
  hdr.nlmsg_flags = NLM_F_MULTI;
  hdr.nlmsg_seq = seq;
  append(buf, &hdr, sizeof(hdr));
  buf.insert(buf.end(), body.begin(), body.end());
}

Bytes address(std::uint8_t family, std::uint8_t prefix, std::uint8_t scope, bool with_local) {
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  ifa.ifa_prefixlen = prefix;
  ifa.ifa_scope = scope;
  ifa.ifa_index = 2;
  Bytes body;
  append(body, &ifa, sizeof(ifa));
  const std::size_t size = family == AF_INET ? 4 : 16;
  for (const std::uint16_t type : {std::uint16_t{IFA_ADDRESS}, std::uint16_t{IFA_LOCAL}}) {
    if (type == IFA_LOCAL && !with_local) continue;
    rtattr rta{};
    rta.rta_len = static_cast<unsigned short>(sizeof(rta) + size);
    rta.rta_type = type;
    append(body, &rta, sizeof(rta));
    Bytes addr(size, 0);
    addr[0] = family == AF_INET ? 10 : 0xfd;
    addr[size - 1] = type == IFA_LOCAL ? 1 : 2;
    append(body, addr.data(), addr.size());
  }
  return body;
}

// Selector byte (0 dump, 1 events) + the buffer.
std::vector<std::string> seeds() {
  Bytes dump;
  append_message(dump, RTM_NEWADDR, address(AF_INET, 8, RT_SCOPE_HOST, false), kSeq);
  append_message(dump, RTM_NEWADDR, address(AF_INET6, 64, RT_SCOPE_UNIVERSE, false), kSeq);
  append_message(dump, NLMSG_DONE, Bytes(4, 0), kSeq);
  Bytes events;
  append_message(events, RTM_NEWADDR, address(AF_INET, 32, RT_SCOPE_UNIVERSE, true), 0);
  append_message(events, RTM_DELADDR, address(AF_INET6, 128, RT_SCOPE_LINK, false), 0);
  Bytes error;
  nlmsgerr err{};
  err.error = -EPERM;
  Bytes err_body;
  append(err_body, &err, sizeof(err));
  append_message(error, NLMSG_ERROR, err_body, kSeq);
  // The selector byte goes in front last: alignment is relative to the buffer.
  return {std::string(1, '\0') + std::string(dump.begin(), dump.end()),
          std::string(1, '\1') + std::string(events.begin(), events.end()),
          std::string(1, '\0') + std::string(error.begin(), error.end())};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  netscope::fuzz::write_builtin_seeds(*argc, *argv, seeds());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  netscope::host::netlink::ReplyStatus status;
  status.seq = (data[0] & 1) != 0 ? 0 : kSeq;
  std::vector<netscope::host::AddressMessage> out;
  const bool ok =
      netscope::host::parse_address_messages(std::span(data + 1, size - 1), out, status);
  for (const auto& m : out) {
    if (m.family != AF_INET && m.family != AF_INET6) __builtin_trap();
    if (m.prefix_len > (m.family == AF_INET ? 32 : 128)) __builtin_trap();
    if ((m.family == AF_INET) != m.address.is_v4()) {
      // An IPv6 address inside ::ffff:0:0/96 reads as IPv4; nothing else may.
      if (m.family == AF_INET) __builtin_trap();
    }
  }
  if (ok && status.error != 0) __builtin_trap();
  return 0;
}
