#include "host/sock_diag.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace netscope::host {

namespace {

// A reply that has not arrived after this long fails the call instead of hanging the
// attribution thread; the kernel answers sock_diag requests synchronously.
constexpr int kReceiveTimeoutMs = 2000;

// Every TCP state but TCP_BOUND_INACTIVE (13, Linux 6.6): a socket bound but neither
// listening nor connected carries no traffic, and asking for it adds a walk of the bind
// hash table to every dump (about 0.3 ms here).
constexpr std::uint32_t kTcpStates = ~0u & ~(1u << 13);

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
  const std::size_t attrs_at = std::min(netlink::align4(sizeof(msg)), payload.size());
  const bool attrs_ok =
      netlink::walk_attributes(payload.subspan(attrs_at), [&](std::uint16_t type, auto value) {
        if (type == INET_DIAG_INFO && record.protocol == IPPROTO_TCP) {
          record.tcp_info = tcp_info_of(value);
        } else if (type == INET_DIAG_PROTOCOL && !value.empty()) {
          record.protocol = value[0];
          if (record.protocol != IPPROTO_TCP) record.tcp_info.reset();
        }
      });
  if (!attrs_ok) return false;
  out.push_back(record);
  return true;
}

// Fills an inet_diag address field: 4 bytes for AF_INET, 16 for AF_INET6.
void put_address(__be32 (&field)[4], std::uint8_t family, const core::IpAddress& addr) {
  if (family == AF_INET) {
    std::memcpy(field, addr.bytes().data() + 12, 4);
  } else {
    std::memcpy(field, addr.bytes().data(), 16);
  }
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
  netlink::ReplyStatus reply{status.seq, status.done, status.error};
  // NLMSG_OVERRUN and types a sock_diag reply never carries are malformed input.
  const bool ok = netlink::walk_messages(bytes, reply, [&](std::uint16_t type, auto payload) {
    // A TCPDIAG_GETSOCK request (SockDiag::dump_tcp) is answered in messages of its type.
    return (type == SOCK_DIAG_BY_FAMILY || type == TCPDIAG_GETSOCK) &&
           parse_socket(payload, status.protocol, out);
  });
  status.done = reply.done;
  status.error = reply.error;
  return ok;
}

bool parse_inet_diag_messages(std::span<const std::uint8_t> bytes, std::vector<SocketRecord>& out) {
  DumpStatus status;
  return parse_inet_diag_messages(bytes, out, status);
}

SockDiag::SockDiag() : buffer_(64 * 1024) {
  std::string error;
  if (!socket_.open(NETLINK_SOCK_DIAG, 0, &error)) {
    const int err = errno;
    throw std::runtime_error(
        "sock_diag: " + error +
        (err == EPERM || err == EACCES
             ? " (dumping sockets of the own network namespace needs no capability, not even "
               "CAP_NET_ADMIN; a seccomp filter or LSM policy is blocking netlink sockets)"
             : ""));
  }
  socket_.set_receive_timeout(kReceiveTimeoutMs, nullptr);
}

SockDiag::SockDiag(netlink::Socket socket) : socket_(std::move(socket)), buffer_(64 * 1024) {
  socket_.set_receive_timeout(kReceiveTimeoutMs, nullptr);
}

bool SockDiag::fail(std::string message) {
  last_error_ = std::move(message);
  return false;
}

bool SockDiag::dump(std::vector<SocketRecord>& out) {
  return dump_tcp(out) && dump_udp(out);
}

bool SockDiag::dump_udp(std::vector<SocketRecord>& out) {
  return dump(AF_INET, IPPROTO_UDP, out) && dump(AF_INET6, IPPROTO_UDP, out);
}

bool SockDiag::dump_tcp(std::vector<SocketRecord>& out) {
  // A dump of TCP sockets walks every bucket of the kernel's established hash table, which
  // all namespaces share (262,144 buckets on a 24 GB machine: about 1.3 ms, however few
  // sockets there are). A SOCK_DIAG_BY_FAMILY request names one family, so IPv4 and IPv6
  // cost a walk each; the older TCPDIAG_GETSOCK request dumps both families in one walk
  // (net/ipv4/inet_diag.c, inet_diag_dump_compat: sdiag_family = AF_UNSPEC).
  if (!compat_refused_) {
    auto request = netlink::make_request<inet_diag_req>(TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP,
                                                        socket_.next_seq());
    request.body.idiag_ext = 1u << (INET_DIAG_INFO - 1);
    request.body.idiag_states = kTcpStates;
    std::string error;
    if (!socket_.send(&request, sizeof(request), &error)) return fail("sock_diag: " + error);
    DumpStatus status;
    status.protocol = IPPROTO_TCP;
    status.seq = request.header.seq;
    const std::size_t before = out.size();
    if (receive_replies(status, out, /*one_reply=*/false)) return true;
    // A kernel without the compatibility request refuses it before any socket.
    if (out.size() != before ||
        (status.error != EINVAL && status.error != ENOENT && status.error != EOPNOTSUPP)) {
      return false;
    }
    compat_refused_ = true;
  }
  return dump(AF_INET, IPPROTO_TCP, out) && dump(AF_INET6, IPPROTO_TCP, out);
}

bool SockDiag::receive_replies(DumpStatus& status, std::vector<SocketRecord>& out, bool one_reply) {
  std::string error;
  const std::size_t before = out.size();
  // A request without NLM_F_DUMP is answered by one message and no NLMSG_DONE.
  while (!status.done && !(one_reply && out.size() > before)) {
    const long got = socket_.receive(buffer_, &error);
    if (got < 0) return fail("sock_diag: " + error);
    if (got == 0) return fail("sock_diag: recvmsg returned end of stream before NLMSG_DONE");
    const std::span<const std::uint8_t> bytes(buffer_.data(), static_cast<std::size_t>(got));
    if (!parse_inet_diag_messages(bytes, out, status)) {
      return fail(status.error != 0 ? std::string("sock_diag: kernel answered with ") +
                                          std::strerror(status.error)
                                    : std::string("sock_diag: malformed netlink reply"));
    }
  }
  return true;
}

// The request body follows the header at NLMSG_HDRLEN, as the kernel reads it.
static_assert(offsetof(netlink::Request<inet_diag_req_v2>, body) == NLMSG_HDRLEN);

// A SOCK_DIAG_BY_FAMILY request for one family and protocol, asking for tcp_info on TCP.
netlink::Request<inet_diag_req_v2> diag_request(std::uint16_t flags, std::uint32_t seq,
                                                std::uint8_t family, std::uint8_t protocol) {
  auto request = netlink::make_request<inet_diag_req_v2>(SOCK_DIAG_BY_FAMILY, flags, seq);
  request.body.sdiag_family = family;
  request.body.sdiag_protocol = protocol;
  if (protocol == IPPROTO_TCP) request.body.idiag_ext = 1u << (INET_DIAG_INFO - 1);
  return request;
}

bool SockDiag::exchange(const netlink::Request<inet_diag_req_v2>& request,
                        std::vector<SocketRecord>& out, bool one_reply, int& error_number) {
  std::string error;
  if (!socket_.send(&request, sizeof(request), &error)) return fail("sock_diag: " + error);
  DumpStatus status;
  status.protocol = request.body.sdiag_protocol;
  status.seq = request.header.seq;
  const bool ok = receive_replies(status, out, one_reply);
  error_number = status.error;
  return ok;
}

bool SockDiag::dump(std::uint8_t family, std::uint8_t protocol, std::vector<SocketRecord>& out) {
  auto request = diag_request(NLM_F_REQUEST | NLM_F_DUMP, socket_.next_seq(), family, protocol);
  request.body.idiag_states = protocol == IPPROTO_TCP ? kTcpStates : ~0u;
  int error_number = 0;
  return exchange(request, out, /*one_reply=*/false, error_number);
}

FindResult SockDiag::find(std::uint8_t protocol, const core::Endpoint& local,
                          const core::Endpoint& remote, SocketRecord& out) {
  const bool v4 = local.addr.is_v4() && remote.addr.is_v4();
  const std::uint8_t family = v4 ? AF_INET : AF_INET6;
  // No NLM_F_DUMP: one socket, by its id.
  auto request = diag_request(NLM_F_REQUEST, socket_.next_seq(), family, protocol);
  // tcp_diag looks the id up with src as the local end (inet_lookup(.., dst, dport, src,
  // sport, ..)); udp_diag passes src as the sender of an incoming datagram, i.e. the
  // remote end ("src and dst are swapped for historical reasons", net/ipv4/udp_diag.c).
  const bool swap = protocol == IPPROTO_UDP;
  const core::Endpoint& src = swap ? remote : local;
  const core::Endpoint& dst = swap ? local : remote;
  inet_diag_sockid& id = request.body.id;
  put_address(id.idiag_src, family, src.addr);
  put_address(id.idiag_dst, family, dst.addr);
  id.idiag_sport = htons(src.port);
  id.idiag_dport = htons(dst.port);
  id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  std::vector<SocketRecord> records;
  int error_number = 0;
  if (!exchange(request, records, /*one_reply=*/true, error_number)) {
    return error_number == ENOENT ? FindResult::absent : FindResult::failed;
  }
  if (records.empty()) {
    fail("sock_diag: the targeted lookup ended without a socket or an error");
    return FindResult::failed;
  }
  out = records.front();
  return FindResult::found;
}

}  // namespace netscope::host
