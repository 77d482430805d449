#include "host/sock_diag.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>  // struct rtattr
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace netscope::host {

namespace {

constexpr std::size_t kNlHeader = sizeof(nlmsghdr);
constexpr std::size_t kRtaHeader = sizeof(rtattr);
// Netlink and rtattr items are 4-byte aligned (NLMSG_ALIGN, RTA_ALIGN).
constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

std::uint16_t from_be16(std::uint16_t v) {
  return ntohs(v);
}

core::IpAddress address_of(std::uint8_t family, const std::array<std::uint8_t, 16>& raw) {
  if (family == AF_INET) {
    return core::IpAddress::from_v4(std::span<const std::uint8_t, 4>(raw.data(), 4));
  }
  return core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(raw));
}

core::Endpoint endpoint_of(std::uint8_t family, const __be32 (&addr)[4], __be16 port) {
  std::array<std::uint8_t, 16> raw{};
  static_assert(sizeof(addr) == 16);
  std::memcpy(raw.data(), addr, 16);
  return core::Endpoint{address_of(family, raw), from_be16(port)};
}

TcpInfo tcp_info_of(std::span<const std::uint8_t> payload) {
  // Older kernels send a shorter tcp_info and newer ones a longer one: copy what fits
  // and leave the rest zero.
  tcp_info info{};
  std::memcpy(&info, payload.data(), std::min(payload.size(), sizeof(info)));
  TcpInfo out;
  out.rtt_us = info.tcpi_rtt;
  out.rttvar_us = info.tcpi_rttvar;
  out.total_retrans = info.tcpi_total_retrans;
  out.bytes_acked = info.tcpi_bytes_acked;
  out.bytes_received = info.tcpi_bytes_received;
  out.snd_cwnd = info.tcpi_snd_cwnd;
  out.unacked = info.tcpi_unacked;
  out.lost = info.tcpi_lost;
  return out;
}

// Walks the rtattrs after inet_diag_msg. Returns false when one overruns the message.
bool parse_attributes(std::span<const std::uint8_t> attrs, SocketRecord& record) {
  while (!attrs.empty()) {
    if (attrs.size() < kRtaHeader) return false;
    rtattr rta;
    std::memcpy(&rta, attrs.data(), kRtaHeader);
    if (rta.rta_len < kRtaHeader || rta.rta_len > attrs.size()) return false;
    const auto payload = attrs.subspan(kRtaHeader, rta.rta_len - kRtaHeader);
    if (rta.rta_type == INET_DIAG_INFO && record.protocol == IPPROTO_TCP) {
      record.tcp_info = tcp_info_of(payload);
    } else if (rta.rta_type == INET_DIAG_PROTOCOL && payload.size() >= 1) {
      record.protocol = payload[0];
      if (record.protocol != IPPROTO_TCP) record.tcp_info.reset();
    }
    attrs = attrs.subspan(std::min(align4(rta.rta_len), attrs.size()));
  }
  return true;
}

bool parse_socket(std::span<const std::uint8_t> payload, std::uint8_t protocol,
                  std::vector<SocketRecord>& out) {
  if (payload.size() < sizeof(inet_diag_msg)) return false;
  inet_diag_msg msg;
  std::memcpy(&msg, payload.data(), sizeof(msg));
  if (msg.idiag_family != AF_INET && msg.idiag_family != AF_INET6) return false;
  SocketRecord record;
  record.protocol = protocol;
  record.family = msg.idiag_family;
  record.local = endpoint_of(msg.idiag_family, msg.id.idiag_src, msg.id.idiag_sport);
  record.remote = endpoint_of(msg.idiag_family, msg.id.idiag_dst, msg.id.idiag_dport);
  record.state = msg.idiag_state;
  record.inode = msg.idiag_inode;
  record.uid = msg.idiag_uid;
  // The attributes start at NLMSG_ALIGN(sizeof(inet_diag_msg)); 72 is already aligned.
  const std::size_t attrs_at = std::min(align4(sizeof(msg)), payload.size());
  if (!parse_attributes(payload.subspan(attrs_at), record)) return false;
  out.push_back(record);
  return true;
}

// NLMSG_ERROR and NLMSG_DONE carry an int: 0 for an ACK / clean end, -errno otherwise.
int error_code(std::span<const std::uint8_t> payload) {
  if (payload.size() < sizeof(int)) return 0;
  int code = 0;
  std::memcpy(&code, payload.data(), sizeof(code));
  return code;
}

// A positive errno for a nonzero code; INT_MIN (not negatable) becomes EINVAL.
int errno_of(int code) {
  if (code == std::numeric_limits<int>::min()) return EINVAL;
  return code < 0 ? -code : code;
}

}  // namespace

std::string_view tcp_state_name(std::uint8_t state) {
  static constexpr std::array<std::string_view, 13> kNames{
      "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",
      "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV"};
  return state < kNames.size() ? kNames[state] : kNames[0];
}

bool parse_inet_diag_messages(std::span<const std::uint8_t> bytes, std::vector<SocketRecord>& out,
                              DumpStatus& status) {
  while (!bytes.empty() && !status.done) {
    if (bytes.size() < kNlHeader) return false;
    nlmsghdr hdr;
    std::memcpy(&hdr, bytes.data(), kNlHeader);
    if (hdr.nlmsg_len < kNlHeader || hdr.nlmsg_len > bytes.size()) return false;
    const auto payload = bytes.subspan(kNlHeader, hdr.nlmsg_len - kNlHeader);
    bytes = bytes.subspan(std::min<std::size_t>(align4(hdr.nlmsg_len), bytes.size()));
    if (status.seq != 0 && hdr.nlmsg_seq != status.seq) continue;

    switch (hdr.nlmsg_type) {
      case SOCK_DIAG_BY_FAMILY:
        if (!parse_socket(payload, status.protocol, out)) return false;
        break;
      case NLMSG_DONE:
        status.done = true;
        if (const int code = error_code(payload); code < 0) {
          status.error = errno_of(code);
          return false;
        }
        break;
      case NLMSG_ERROR: {
        if (payload.size() < sizeof(int)) return false;
        const int code = error_code(payload);
        if (code == 0) break;  // an ACK
        status.error = errno_of(code);
        status.done = true;
        return false;
      }
      case NLMSG_NOOP:
        break;
      default:  // NLMSG_OVERRUN or a type a sock_diag dump never sends
        return false;
    }
  }
  return true;
}

bool parse_inet_diag_messages(std::span<const std::uint8_t> bytes, std::vector<SocketRecord>& out) {
  DumpStatus status;
  return parse_inet_diag_messages(bytes, out, status);
}

SockDiag::SockDiag() : buffer_(64 * 1024) {
  fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd_ < 0) {
    const int err = errno;
    throw std::runtime_error(
        std::string("sock_diag: socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG) failed: ") +
        std::strerror(err) +
        (err == EPERM || err == EACCES
             ? " (dumping sockets of the own network namespace needs no capability, not even "
               "CAP_NET_ADMIN; a seccomp filter or LSM policy is blocking netlink sockets)"
             : ""));
  }
}

SockDiag::~SockDiag() {
  if (fd_ >= 0) ::close(fd_);
}

bool SockDiag::fail(std::string message) {
  last_error_ = std::move(message);
  return false;
}

bool SockDiag::dump(std::vector<SocketRecord>& out) {
  for (const std::uint8_t protocol : {std::uint8_t{IPPROTO_TCP}, std::uint8_t{IPPROTO_UDP}}) {
    for (const std::uint8_t family : {std::uint8_t{AF_INET}, std::uint8_t{AF_INET6}}) {
      if (!dump(family, protocol, out)) return false;
    }
  }
  return true;
}

bool SockDiag::dump(std::uint8_t family, std::uint8_t protocol, std::vector<SocketRecord>& out) {
  struct Request {
    nlmsghdr hdr;
    inet_diag_req_v2 req;
  };
  Request request{};
  request.hdr.nlmsg_len = sizeof(request);
  request.hdr.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  if (++seq_ == 0) ++seq_;  // 0 means "any" in DumpStatus
  request.hdr.nlmsg_seq = seq_;
  request.req.sdiag_family = family;
  request.req.sdiag_protocol = protocol;
  request.req.idiag_states = ~0u;  // every state
  if (protocol == IPPROTO_TCP) request.req.idiag_ext = 1u << (INET_DIAG_INFO - 1);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd_, &request, sizeof(request), 0, reinterpret_cast<sockaddr*>(&kernel),
                    sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return fail(std::string("sock_diag: sendto failed: ") + std::strerror(errno));

  DumpStatus status;
  status.protocol = protocol;
  status.seq = seq_;
  while (!status.done) {
    iovec iov{buffer_.data(), buffer_.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t got = ::recvmsg(fd_, &msg, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return fail(std::string("sock_diag: recvmsg failed: ") + std::strerror(errno));
    }
    if (got == 0) return fail("sock_diag: recvmsg returned end of stream before NLMSG_DONE");
    if ((msg.msg_flags & MSG_TRUNC) != 0) {
      return fail("sock_diag: recvmsg truncated a datagram larger than the buffer");
    }
    const std::span<const std::uint8_t> bytes(buffer_.data(), static_cast<std::size_t>(got));
    if (!parse_inet_diag_messages(bytes, out, status)) {
      return fail(status.error != 0 ? std::string("sock_diag: kernel answered the dump with ") +
                                          std::strerror(status.error)
                                    : std::string("sock_diag: malformed netlink reply"));
    }
  }
  return true;
}

}  // namespace netscope::host
