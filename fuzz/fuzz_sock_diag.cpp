// libFuzzer target for the inet_diag reply parser: arbitrary bytes as one recv() buffer
// of a NETLINK_SOCK_DIAG dump. The first byte picks the requested protocol so that both
// the TCP (tcp_info) and UDP paths run.
//
// make_seeds derives seeds from captures, which hold no netlink replies, so this target
// carries its own: LLVMFuzzerInitialize writes them into a seed directory named on the
// command line that is missing or empty (its parent must exist), as `make test` and
// fuzz/run.sh pass <build>/fuzz/seeds/sock_diag.

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_seeds.hpp"
#include "host/sock_diag.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

void append(Bytes& buf, const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  buf.insert(buf.end(), p, p + size);
  buf.resize((buf.size() + 3) & ~std::size_t{3}, 0);  // NLMSG_ALIGN / RTA_ALIGN
}

void append_message(Bytes& buf, std::uint16_t type, const Bytes& body) {
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<std::uint32_t>(sizeof(hdr) + body.size());
  hdr.nlmsg_type = type;
  hdr.nlmsg_flags = NLM_F_MULTI;
  hdr.nlmsg_seq = 1;
  append(buf, &hdr, sizeof(hdr));
  buf.insert(buf.end(), body.begin(), body.end());
}

Bytes socket_body(std::uint8_t family, bool with_tcp_info) {
  inet_diag_msg msg{};
  msg.idiag_family = family;
  msg.idiag_state = 1;  // TCP_ESTABLISHED
  msg.id.idiag_sport = htons(40000);
  msg.id.idiag_dport = htons(443);
  msg.id.idiag_src[0] = htonl(0x7f000001);
  msg.id.idiag_dst[0] = htonl(0x7f000001);
  msg.idiag_inode = 4242;
  Bytes body;
  append(body, &msg, sizeof(msg));
  if (with_tcp_info) {
    tcp_info info{};
    info.tcpi_rtt = 1000;
    info.tcpi_snd_cwnd = 10;
    rtattr rta{};
    rta.rta_len = static_cast<unsigned short>(sizeof(rta) + sizeof(info));
    rta.rta_type = INET_DIAG_INFO;
    append(body, &rta, sizeof(rta));
    append(body, &info, sizeof(info));
  }
  return body;
}

// Selector byte (0 TCP, 1 UDP) + the reply bytes. Alignment is relative to the reply,
// so the selector is put in front last.
std::vector<Bytes> seeds() {
  const Bytes done(4, 0);
  Bytes tcp;
  append_message(tcp, SOCK_DIAG_BY_FAMILY, socket_body(AF_INET, true));
  append_message(tcp, SOCK_DIAG_BY_FAMILY, socket_body(AF_INET6, true));
  append_message(tcp, NLMSG_DONE, done);
  Bytes udp;
  append_message(udp, SOCK_DIAG_BY_FAMILY, socket_body(AF_INET6, false));
  append_message(udp, NLMSG_DONE, done);
  Bytes error;
  nlmsgerr err{};
  err.error = -EPERM;
  Bytes err_body;
  append(err_body, &err, sizeof(err));
  append_message(error, NLMSG_ERROR, err_body);
  tcp.insert(tcp.begin(), 0);
  udp.insert(udp.begin(), 1);
  error.insert(error.begin(), 0);
  return {tcp, udp, error};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  std::vector<std::string> as_text;
  for (const Bytes& seed : seeds()) as_text.emplace_back(seed.begin(), seed.end());
  netscope::fuzz::write_builtin_seeds(*argc, *argv, as_text);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  netscope::host::DumpStatus status;
  status.protocol = (data[0] & 1) != 0 ? IPPROTO_UDP : IPPROTO_TCP;
  std::vector<netscope::host::SocketRecord> records;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  const bool ok = netscope::host::parse_inet_diag_messages(bytes, records, status);
  for (const auto& r : records) {
    if (r.state_name().empty()) __builtin_trap();
    if (r.tcp_info && r.protocol != IPPROTO_TCP) __builtin_trap();
    if (r.family != AF_INET && r.family != AF_INET6) __builtin_trap();
  }
  if (ok && status.error != 0) __builtin_trap();
  return 0;
}
