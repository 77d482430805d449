// SSH identification strings and packet headers; the NTP, DHCP, SSDP and STUN recognisers.

#include <gtest/gtest.h>

#include "dpi/others.hpp"
#include "dpi/ssh.hpp"
#include "dpi_test_util.hpp"

namespace netscope::dpi {
namespace {

using test::ByteVec;
using test::hex;

TEST(SshBanner, protocol_software_and_comments) {
  ssh::Banner b;
  std::size_t used = 0;
  const std::string_view data = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nbinary packets follow";
  ASSERT_EQ(ssh::parse_banner(data, b, used), ssh::Status::ok);
  EXPECT_EQ(b.line, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
  EXPECT_EQ(b.proto_version, "2.0");
  EXPECT_EQ(b.software, "OpenSSH_9.2p1");
  EXPECT_EQ(b.comments, "Debian-2");
  EXPECT_EQ(used, 32u);
}

TEST(SshBanner, lines_before_the_version_string_are_skipped) {
  ssh::Banner b;
  std::size_t used = 0;
  ASSERT_EQ(ssh::parse_banner("Welcome\r\nauthorised use only\nSSH-1.99-Cisco-1.25\n", b, used),
            ssh::Status::ok);
  EXPECT_EQ(b.proto_version, "1.99");
  EXPECT_EQ(b.software, "Cisco-1.25");
  EXPECT_TRUE(b.comments.empty());
}

TEST(SshBanner, incomplete_overlong_and_malformed) {
  ssh::Banner b;
  std::size_t used = 0;
  EXPECT_EQ(ssh::parse_banner("SSH-2.0-Open", b, used), ssh::Status::need_more);
  EXPECT_EQ(ssh::parse_banner("SSH-2.0-" + std::string(300, 'x'), b, used), ssh::Status::malformed);
  EXPECT_EQ(ssh::parse_banner("SSH-2.0-" + std::string(300, 'x') + "\r\n", b, used),
            ssh::Status::malformed);
  EXPECT_EQ(ssh::parse_banner("SSH-20\r\n", b, used), ssh::Status::malformed);
  EXPECT_EQ(ssh::parse_banner("SSH-2.0-a\x1b[2J\r\n", b, used), ssh::Status::malformed);
  EXPECT_EQ(ssh::parse_banner(std::string(5000, 'z'), b, used), ssh::Status::malformed);
}

TEST(SshPacket, kexinit_header_and_implausible_lengths) {
  ssh::PacketHeader h;
  ASSERT_EQ(ssh::parse_packet_header(hex("0000056c 0a 14 ffff"), h), ssh::Status::ok);
  EXPECT_EQ(h.message, ssh::kMsgKexInit);
  EXPECT_EQ(h.total(), 0x56cu + 4);
  EXPECT_EQ(ssh::parse_packet_header(hex("0000000c 0a"), h), ssh::Status::need_more);
  EXPECT_EQ(ssh::parse_packet_header(hex("00ffffff 0a 14"), h), ssh::Status::malformed);
  EXPECT_EQ(ssh::parse_packet_header(hex("0000000c 02 15"), h),
            ssh::Status::malformed);  // padding < 4
  EXPECT_EQ(ssh::parse_packet_header(hex("00000005 0a 15"), h),
            ssh::Status::malformed);  // shorter than its padding
}

TEST(Others, ntp_client_and_server_packets) {
  ByteVec ntp(48, 0);
  ntp[0] = 0x23;  // LI 0, version 4, mode 3 (client)
  EXPECT_TRUE(others::is_ntp(ntp));
  ntp[0] = 0x24;  // mode 4 (server)
  ntp[1] = 2;
  EXPECT_TRUE(others::is_ntp(ntp));
  ntp[0] = 0x26;  // mode 6: control messages have another layout
  EXPECT_FALSE(others::is_ntp(ntp));
  ntp[0] = 0x03;  // version 0
  EXPECT_FALSE(others::is_ntp(ntp));
  EXPECT_FALSE(others::is_ntp(ByteVec(47, 0x23)));
}

TEST(Others, dhcp_needs_the_magic_cookie) {
  ByteVec dhcp(300, 0);
  dhcp[0] = 1;
  dhcp[1] = 1;
  dhcp[2] = 6;
  EXPECT_FALSE(others::is_dhcp(dhcp));
  dhcp[236] = 99;
  dhcp[237] = 130;
  dhcp[238] = 83;
  dhcp[239] = 99;
  EXPECT_TRUE(others::is_dhcp(dhcp));
  dhcp[0] = 3;
  EXPECT_FALSE(others::is_dhcp(dhcp));
}

TEST(Others, ssdp_requests_and_search_responses) {
  EXPECT_TRUE(
      others::is_ssdp(test::bytes("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n")));
  EXPECT_TRUE(others::is_ssdp(test::bytes("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n")));
  EXPECT_TRUE(others::is_ssdp(test::bytes(
      "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n\r\n")));
  EXPECT_FALSE(others::is_ssdp(test::bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
  EXPECT_FALSE(others::is_ssdp(test::bytes("GET / HTTP/1.1\r\n")));
}

TEST(Others, stun_binding_request) {
  // RFC 5769 §2.1 style: Binding Request, length 8, magic cookie, transaction ID, one attribute.
  const ByteVec req = hex("0001 0008 2112a442 b7e7a701bc34d686fa87dfae 8022 0004 74657374");
  EXPECT_TRUE(others::is_stun(req));
  ByteVec bad_cookie = req;
  bad_cookie[4] = 0;
  EXPECT_FALSE(others::is_stun(bad_cookie));
  ByteVec bad_len = req;
  bad_len[3] = 12;
  EXPECT_FALSE(others::is_stun(bad_len));
  ByteVec channel_data = req;
  channel_data[0] = 0x40;  // top bits set: TURN ChannelData, not a STUN message
  EXPECT_FALSE(others::is_stun(channel_data));
}

}  // namespace
}  // namespace netscope::dpi
