#include "host/sock_diag.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>  // struct rtattr
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "live_sockets.hpp"

namespace netscope::host {
namespace {

// ---- byte-buffer builders: replies written out as the kernel lays them down ----------

void append_bytes(std::vector<std::uint8_t>& buf, const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  buf.insert(buf.end(), p, p + size);
  buf.resize((buf.size() + 3) & ~std::size_t{3}, 0);  // NLMSG_ALIGN / RTA_ALIGN
}

struct Attr {
  std::uint16_t type;
  std::vector<std::uint8_t> payload;
};

std::vector<std::uint8_t> netlink_message(std::uint16_t type, const std::vector<std::uint8_t>& body,
                                          std::uint32_t seq = 1) {
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<std::uint32_t>(sizeof(hdr) + body.size());
  hdr.nlmsg_type = type;
  hdr.nlmsg_flags = NLM_F_MULTI;
  hdr.nlmsg_seq = seq;
  std::vector<std::uint8_t> out;
  append_bytes(out, &hdr, sizeof(hdr));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<std::uint8_t> socket_message(const inet_diag_msg& msg, const std::vector<Attr>& attrs) {
  std::vector<std::uint8_t> body;
  append_bytes(body, &msg, sizeof(msg));
  for (const auto& a : attrs) {
    rtattr rta{};
    rta.rta_len = static_cast<unsigned short>(sizeof(rta) + a.payload.size());
    rta.rta_type = a.type;
    append_bytes(body, &rta, sizeof(rta));
    if (!a.payload.empty()) append_bytes(body, a.payload.data(), a.payload.size());
  }
  return netlink_message(SOCK_DIAG_BY_FAMILY, body);
}

std::vector<std::uint8_t> done_message() {
  return netlink_message(NLMSG_DONE, {0, 0, 0, 0});
}

std::vector<std::uint8_t> concat(std::vector<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inet_diag_msg tcp4_msg() {
  inet_diag_msg msg{};
  msg.idiag_family = AF_INET;
  msg.idiag_state = 1;  // TCP_ESTABLISHED
  msg.id.idiag_sport = htons(40000);
  msg.id.idiag_dport = htons(443);
  msg.id.idiag_src[0] = htonl(0x0a000001);  // 10.0.0.1
  msg.id.idiag_dst[0] = htonl(0xc0a80114);  // 192.168.1.20
  msg.idiag_uid = 1000;
  msg.idiag_inode = 123456;
  return msg;
}

std::vector<std::uint8_t> tcp_info_attr_payload() {
  tcp_info info{};
  info.tcpi_rtt = 1500;
  info.tcpi_rttvar = 250;
  info.tcpi_total_retrans = 3;
  info.tcpi_bytes_acked = 0x1'0000'0001ULL;
  info.tcpi_bytes_received = 4096;
  info.tcpi_snd_cwnd = 10;
  info.tcpi_unacked = 2;
  info.tcpi_lost = 1;
  std::vector<std::uint8_t> out(sizeof(info));
  std::memcpy(out.data(), &info, sizeof(info));
  return out;
}

TEST(ParseInetDiag, tcp_ipv4_record_with_tcp_info) {
  const auto bytes = concat(
      {socket_message(tcp4_msg(), {{INET_DIAG_INFO, tcp_info_attr_payload()}}), done_message()});
  std::vector<SocketRecord> out;
  DumpStatus status;
  ASSERT_TRUE(parse_inet_diag_messages(bytes, out, status));
  EXPECT_TRUE(status.done);
  EXPECT_EQ(status.error, 0);
  ASSERT_EQ(out.size(), 1u);
  const auto& r = out[0];
  EXPECT_EQ(r.protocol, IPPROTO_TCP);
  EXPECT_EQ(r.family, AF_INET);
  EXPECT_EQ(r.local.to_string(), "10.0.0.1:40000");
  EXPECT_EQ(r.remote.to_string(), "192.168.1.20:443");
  EXPECT_EQ(r.state_name(), "ESTABLISHED");
  EXPECT_EQ(r.inode, 123456u);
  EXPECT_EQ(r.uid, 1000u);
  ASSERT_TRUE(r.tcp_info);
  EXPECT_EQ(r.tcp_info->rtt_us, 1500u);
  EXPECT_EQ(r.tcp_info->rttvar_us, 250u);
  EXPECT_EQ(r.tcp_info->total_retrans, 3u);
  EXPECT_EQ(r.tcp_info->bytes_acked, 0x1'0000'0001ULL);
  EXPECT_EQ(r.tcp_info->bytes_received, 4096u);
  EXPECT_EQ(r.tcp_info->snd_cwnd, 10u);
  EXPECT_EQ(r.tcp_info->unacked, 2u);
  EXPECT_EQ(r.tcp_info->lost, 1u);
}

TEST(ParseInetDiag, short_tcp_info_from_an_older_kernel_zero_fills_missing_fields) {
  auto payload = tcp_info_attr_payload();
  payload.resize(offsetof(tcp_info, tcpi_bytes_acked));  // ends before bytes_acked
  std::vector<SocketRecord> out;
  ASSERT_TRUE(
      parse_inet_diag_messages(socket_message(tcp4_msg(), {{INET_DIAG_INFO, payload}}), out));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].tcp_info);
  EXPECT_EQ(out[0].tcp_info->rtt_us, 1500u);
  EXPECT_EQ(out[0].tcp_info->bytes_acked, 0u);
  EXPECT_EQ(out[0].tcp_info->bytes_received, 0u);
}

TEST(ParseInetDiag, ipv6_listener_and_udp_protocol_from_request) {
  inet_diag_msg msg{};
  msg.idiag_family = AF_INET6;
  msg.idiag_state = 10;  // TCP_LISTEN
  msg.id.idiag_sport = htons(8080);
  const std::uint8_t fd77_1[16] = {0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::memcpy(msg.id.idiag_src, fd77_1, 16);
  msg.idiag_inode = 42;
  std::vector<SocketRecord> out;
  DumpStatus status;
  status.protocol = IPPROTO_UDP;
  // A UDP dump never carries tcp_info; an INET_DIAG_INFO attribute there is ignored.
  ASSERT_TRUE(parse_inet_diag_messages(
      concat({socket_message(msg, {{INET_DIAG_INFO, tcp_info_attr_payload()}}), done_message()}),
      out, status));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].protocol, IPPROTO_UDP);
  EXPECT_EQ(out[0].family, AF_INET6);
  EXPECT_EQ(out[0].local.to_string(), "[fd77::1]:8080");
  EXPECT_TRUE(out[0].remote.addr.is_unspecified());
  EXPECT_EQ(out[0].state_name(), "LISTEN");
  EXPECT_FALSE(out[0].tcp_info);
}

TEST(ParseInetDiag, multipart_dump_continues_across_buffers_until_done) {
  const auto first = concat({socket_message(tcp4_msg(), {}), socket_message(tcp4_msg(), {})});
  std::vector<SocketRecord> out;
  DumpStatus status;
  ASSERT_TRUE(parse_inet_diag_messages(first, out, status));
  EXPECT_FALSE(status.done);
  // Bytes after NLMSG_DONE are not parsed, even when they are garbage.
  const auto second = concat({socket_message(tcp4_msg(), {}), done_message(), {0xde, 0xad}});
  ASSERT_TRUE(parse_inet_diag_messages(second, out, status));
  EXPECT_TRUE(status.done);
  EXPECT_EQ(out.size(), 3u);
}

TEST(ParseInetDiag, truncated_nlmsghdr_is_rejected_and_keeps_earlier_records) {
  auto bytes = concat({socket_message(tcp4_msg(), {}), done_message()});
  bytes.resize(bytes.size() - sizeof(nlmsghdr) - 4 + 7);  // DONE cut to 7 header bytes
  std::vector<SocketRecord> out;
  DumpStatus status;
  EXPECT_FALSE(parse_inet_diag_messages(bytes, out, status));
  EXPECT_FALSE(status.done);
  EXPECT_EQ(out.size(), 1u);
}

TEST(ParseInetDiag, nlmsg_len_past_the_buffer_is_rejected) {
  auto bytes = socket_message(tcp4_msg(), {});
  const std::uint32_t too_long = static_cast<std::uint32_t>(bytes.size() + 4);
  std::memcpy(bytes.data(), &too_long, sizeof(too_long));
  std::vector<SocketRecord> out;
  EXPECT_FALSE(parse_inet_diag_messages(bytes, out));
  EXPECT_TRUE(out.empty());
}

TEST(ParseInetDiag, message_shorter_than_inet_diag_msg_is_rejected) {
  std::vector<SocketRecord> out;
  EXPECT_FALSE(parse_inet_diag_messages(netlink_message(SOCK_DIAG_BY_FAMILY, {2, 1, 0, 0}), out));
  EXPECT_TRUE(out.empty());
}

TEST(ParseInetDiag, rtattr_length_past_the_end_is_rejected) {
  auto bytes = socket_message(tcp4_msg(), {{INET_DIAG_INFO, tcp_info_attr_payload()}});
  // Grow the rtattr's length past the message end; the nlmsghdr length stays honest.
  const std::size_t rta_at = sizeof(nlmsghdr) + sizeof(inet_diag_msg);
  std::uint16_t rta_len = 0;
  std::memcpy(&rta_len, bytes.data() + rta_at, sizeof(rta_len));
  rta_len = static_cast<std::uint16_t>(rta_len + 64);
  std::memcpy(bytes.data() + rta_at, &rta_len, sizeof(rta_len));
  std::vector<SocketRecord> out;
  EXPECT_FALSE(parse_inet_diag_messages(bytes, out));
  EXPECT_TRUE(out.empty());
}

TEST(ParseInetDiag, rtattr_length_below_its_header_is_rejected) {
  auto bytes = socket_message(tcp4_msg(), {{INET_DIAG_INFO, {1, 2, 3, 4}}});
  const std::uint16_t rta_len = 2;
  std::memcpy(bytes.data() + sizeof(nlmsghdr) + sizeof(inet_diag_msg), &rta_len, 2);
  std::vector<SocketRecord> out;
  EXPECT_FALSE(parse_inet_diag_messages(bytes, out));
}

TEST(ParseInetDiag, nlmsg_error_reports_errno) {
  nlmsgerr err{};
  err.error = -EPERM;
  std::vector<std::uint8_t> body(sizeof(err));
  std::memcpy(body.data(), &err, sizeof(err));
  std::vector<SocketRecord> out;
  DumpStatus status;
  EXPECT_FALSE(parse_inet_diag_messages(netlink_message(NLMSG_ERROR, body), out, status));
  EXPECT_EQ(status.error, EPERM);
  EXPECT_TRUE(status.done);
}

TEST(ParseInetDiag, nlmsg_done_with_negative_code_reports_errno) {
  const int interrupted = -EINTR;
  std::vector<std::uint8_t> body(sizeof(int));
  std::memcpy(body.data(), &interrupted, sizeof(int));
  std::vector<SocketRecord> out;
  DumpStatus status;
  EXPECT_FALSE(parse_inet_diag_messages(netlink_message(NLMSG_DONE, body), out, status));
  EXPECT_EQ(status.error, EINTR);
  // A hostile INT_MIN cannot be negated; it still reads as an error.
  const int min = std::numeric_limits<int>::min();
  std::memcpy(body.data(), &min, sizeof(int));
  DumpStatus status2;
  EXPECT_FALSE(parse_inet_diag_messages(netlink_message(NLMSG_ERROR, body), out, status2));
  EXPECT_EQ(status2.error, EINVAL);
}

TEST(ParseInetDiag, replies_to_another_sequence_number_are_skipped) {
  const auto bytes = concat({netlink_message(NLMSG_DONE, {0, 0, 0, 0}, /*seq=*/7),
                             socket_message(tcp4_msg(), {}), done_message()});
  std::vector<SocketRecord> out;
  DumpStatus status;
  status.seq = 1;
  ASSERT_TRUE(parse_inet_diag_messages(bytes, out, status));
  EXPECT_TRUE(status.done);
  EXPECT_EQ(out.size(), 1u);
}

TEST(TcpStateName, names_kernel_states) {
  EXPECT_EQ(tcp_state_name(1), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(7), "CLOSE");
  EXPECT_EQ(tcp_state_name(10), "LISTEN");
  EXPECT_EQ(tcp_state_name(200), "UNKNOWN");
}

// ---- live: the kernel's own table for sockets this process opens ----------------------

using test_support::bound_socket;
using test_support::connect_to;
using test_support::Fd;
using test_support::inode_of;
using test_support::local_port;

const SocketRecord* find(const std::vector<SocketRecord>& records, std::uint8_t protocol,
                         std::uint32_t inode) {
  for (const auto& r : records) {
    if (r.protocol == protocol && r.inode == inode) return &r;
  }
  return nullptr;
}

// The `ss -tan` oracle: ESTABLISHED sockets on 127.0.0.1 with `port` at either end.
int ss_established_on_port(std::uint16_t port) {
  FILE* pipe = ::popen("ss -tan 2>/dev/null", "r");
  if (pipe == nullptr) return -1;
  int count = 0;
  char line[512];
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::istringstream fields(line);
    std::string state, recvq, sendq, local, peer;
    if (!(fields >> state >> recvq >> sendq >> local >> peer)) continue;
    if (state == "ESTAB" && (local == endpoint || peer == endpoint)) ++count;
  }
  return ::pclose(pipe) == 0 ? count : -1;
}

void check_tcp_pair(int family) {
  Fd listener(bound_socket(family, SOCK_STREAM));
  if (listener.get() < 0 && family == AF_INET6) GTEST_SKIP() << "no IPv6 loopback here";
  ASSERT_GE(listener.get(), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(listener.get(), 4), 0) << std::strerror(errno);
  const std::uint16_t port = local_port(listener.get());
  Fd client(connect_to(family, port));
  ASSERT_GE(client.get(), 0) << std::strerror(errno);
  Fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_GE(server.get(), 0) << std::strerror(errno);
  const char payload[100] = {};
  ASSERT_EQ(::send(client.get(), payload, sizeof(payload), 0), 100);
  char sink[100];
  ASSERT_EQ(::recv(server.get(), sink, sizeof(sink), MSG_WAITALL), 100);
  const std::uint16_t client_port = local_port(client.get());

  SockDiag diag;
  std::vector<SocketRecord> records;
  ASSERT_TRUE(diag.dump(records)) << diag.last_error();

  const auto* l = find(records, IPPROTO_TCP, inode_of(listener.get()));
  const auto* c = find(records, IPPROTO_TCP, inode_of(client.get()));
  const auto* s = find(records, IPPROTO_TCP, inode_of(server.get()));
  ASSERT_TRUE(l && c && s);
  const std::string loop = family == AF_INET ? "127.0.0.1" : "::1";
  for (const auto* r : {l, c, s}) {
    EXPECT_EQ(r->family, family);
    EXPECT_EQ(r->uid, ::getuid());
    EXPECT_EQ(r->local.addr.to_string(), loop);
    ASSERT_TRUE(r->tcp_info);
  }
  EXPECT_EQ(l->state_name(), "LISTEN");
  EXPECT_EQ(l->local.port, port);
  EXPECT_EQ(c->state_name(), "ESTABLISHED");
  EXPECT_EQ(c->local.port, client_port);
  EXPECT_EQ(c->remote.port, port);
  EXPECT_EQ(c->remote.addr.to_string(), loop);
  EXPECT_GT(c->tcp_info->snd_cwnd, 0u);
  EXPECT_EQ(s->state_name(), "ESTABLISHED");
  EXPECT_EQ(s->local.port, port);
  EXPECT_EQ(s->remote.port, client_port);
  EXPECT_GE(s->tcp_info->bytes_received, 100u);

  if (family == AF_INET) {
    int ours = 0;
    for (const auto& r : records) {
      if (r.protocol == IPPROTO_TCP && r.state == 1 && r.local.addr.to_string() == "127.0.0.1" &&
          (r.local.port == port || r.remote.port == port)) {
        ++ours;
      }
    }
    EXPECT_EQ(ours, 2);
    EXPECT_EQ(ss_established_on_port(port), ours) << "ss -tan disagrees with sock_diag";
  }
}

TEST(SockDiagLive, finds_own_ipv4_listener_and_connected_pair) {
  check_tcp_pair(AF_INET);
}

TEST(SockDiagLive, finds_own_ipv6_listener_and_connected_pair) {
  check_tcp_pair(AF_INET6);
}

TEST(SockDiagLive, finds_own_udp_sockets_without_tcp_info) {
  for (const int family : {AF_INET, AF_INET6}) {
    Fd udp(bound_socket(family, SOCK_DGRAM));
    if (udp.get() < 0 && family == AF_INET6) continue;  // no IPv6 loopback
    ASSERT_GE(udp.get(), 0) << std::strerror(errno);
    SockDiag diag;
    std::vector<SocketRecord> records;
    ASSERT_TRUE(diag.dump(records)) << diag.last_error();
    const auto* r = find(records, IPPROTO_UDP, inode_of(udp.get()));
    ASSERT_TRUE(r) << "family " << family;
    EXPECT_EQ(r->family, family);
    EXPECT_EQ(r->local.port, local_port(udp.get()));
    EXPECT_EQ(r->state_name(), "CLOSE");  // unconnected UDP reports TCP_CLOSE
    EXPECT_EQ(r->uid, ::getuid());
    EXPECT_FALSE(r->tcp_info);
  }
}

}  // namespace
}  // namespace netscope::host
