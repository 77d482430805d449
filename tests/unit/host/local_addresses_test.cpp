// The local address set: the rtnetlink address parser on hand-built messages, LocalNets
// (static CIDRs for --read) and LocalAddresses following `ip addr` changes in a network
// namespace of the test's own.

#include "host/local_addresses.hpp"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "host/local_nets.hpp"
#include "host/netlink_addr.hpp"
#include "live_sockets.hpp"

namespace netscope::host {
namespace {

using test_support::eventually;
using test_support::in_new_netns_or_skip;

core::IpAddress ip(const char* text) {
  return *core::IpAddress::parse(text);
}

// ---- parse_address_messages ----------------------------------------------------------

using Bytes = std::vector<std::uint8_t>;

void append(Bytes& buf, const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  buf.insert(buf.end(), p, p + size);
  buf.resize((buf.size() + 3) & ~std::size_t{3}, 0);
}

Bytes attr(std::uint16_t type, const Bytes& payload) {
  rtattr rta{};
  rta.rta_len = static_cast<unsigned short>(sizeof(rta) + payload.size());
  rta.rta_type = type;
  Bytes out;
  append(out, &rta, sizeof(rta));
  if (!payload.empty()) append(out, payload.data(), payload.size());
  return out;
}

Bytes message(std::uint16_t type, const Bytes& body, std::uint32_t seq = 0) {
  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<std::uint32_t>(sizeof(hdr) + body.size());
  hdr.nlmsg_type = type;
  hdr.nlmsg_seq = seq;
  Bytes out;
  append(out, &hdr, sizeof(hdr));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes address_body(std::uint8_t family, std::uint8_t prefix, std::uint8_t scope,
                   std::uint32_t ifindex, const std::vector<Bytes>& attrs) {
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  ifa.ifa_prefixlen = prefix;
  ifa.ifa_scope = scope;
  ifa.ifa_index = ifindex;
  Bytes body;
  append(body, &ifa, sizeof(ifa));
  for (const Bytes& a : attrs) body.insert(body.end(), a.begin(), a.end());
  return body;
}

Bytes bytes_of(const core::IpAddress& addr) {
  if (addr.is_v4()) return Bytes(addr.bytes().begin() + 12, addr.bytes().end());
  return Bytes(addr.bytes().begin(), addr.bytes().end());
}

TEST(ParseAddressMessages, new_and_deleted_addresses_of_both_families) {
  Bytes buf = message(RTM_NEWADDR, address_body(AF_INET, 24, RT_SCOPE_UNIVERSE, 2,
                                                {attr(IFA_ADDRESS, bytes_of(ip("10.0.0.5")))}));
  const Bytes v6 = message(RTM_DELADDR, address_body(AF_INET6, 64, RT_SCOPE_LINK, 3,
                                                     {attr(IFA_ADDRESS, bytes_of(ip("fe80::1")))}));
  buf.insert(buf.end(), v6.begin(), v6.end());
  std::vector<AddressMessage> out;
  netlink::ReplyStatus status;
  ASSERT_TRUE(parse_address_messages(buf, out, status));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].added);
  EXPECT_EQ(out[0].family, AF_INET);
  EXPECT_EQ(out[0].address, ip("10.0.0.5"));
  EXPECT_EQ(out[0].prefix_len, 24);
  EXPECT_EQ(out[0].ifindex, 2u);
  EXPECT_FALSE(out[1].added);
  EXPECT_EQ(out[1].address, ip("fe80::1"));
  EXPECT_EQ(out[1].scope, RT_SCOPE_LINK);
}

TEST(ParseAddressMessages, point_to_point_local_end_wins_over_the_peer) {
  const Bytes buf = message(RTM_NEWADDR, address_body(AF_INET, 32, RT_SCOPE_UNIVERSE, 5,
                                                      {attr(IFA_ADDRESS, bytes_of(ip("192.0.2.2"))),
                                                       attr(IFA_LOCAL, bytes_of(ip("192.0.2.1"))),
                                                       attr(IFA_LABEL, {'p', 'p', 'p', '0', 0})}));
  std::vector<AddressMessage> out;
  netlink::ReplyStatus status;
  ASSERT_TRUE(parse_address_messages(buf, out, status));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].address, ip("192.0.2.1"));
}

TEST(ParseAddressMessages, dump_end_error_and_foreign_messages) {
  const Bytes done = message(NLMSG_DONE, {0, 0, 0, 0}, 9);
  std::vector<AddressMessage> out;
  netlink::ReplyStatus status;
  status.seq = 9;
  // A link message in the stream is skipped; a message of another sequence is ignored.
  Bytes buf = message(RTM_NEWLINK, Bytes(16, 0), 9);
  const Bytes other = message(RTM_NEWADDR, address_body(AF_INET, 8, 0, 1, {}), 4);
  buf.insert(buf.end(), other.begin(), other.end());
  buf.insert(buf.end(), done.begin(), done.end());
  ASSERT_TRUE(parse_address_messages(buf, out, status));
  EXPECT_TRUE(status.done);
  EXPECT_TRUE(out.empty());

  nlmsgerr err{};
  err.error = -EPERM;
  Bytes body(sizeof(err));
  std::memcpy(body.data(), &err, sizeof(err));
  netlink::ReplyStatus failed;
  EXPECT_FALSE(parse_address_messages(message(NLMSG_ERROR, body), out, failed));
  EXPECT_EQ(failed.error, EPERM);
}

TEST(ParseAddressMessages, malformed_messages_are_rejected) {
  std::vector<AddressMessage> out;
  netlink::ReplyStatus status;
  // Shorter than ifaddrmsg.
  EXPECT_FALSE(parse_address_messages(message(RTM_NEWADDR, Bytes{2, 24, 0, 0}), out, status));
  // An IPv4 address attribute of 16 bytes.
  EXPECT_FALSE(parse_address_messages(
      message(RTM_NEWADDR, address_body(AF_INET, 24, 0, 1, {attr(IFA_ADDRESS, Bytes(16, 1))})), out,
      status));
  // A prefix longer than the family allows.
  EXPECT_FALSE(parse_address_messages(
      message(RTM_NEWADDR,
              address_body(AF_INET, 33, 0, 1, {attr(IFA_ADDRESS, bytes_of(ip("10.0.0.1")))})),
      out, status));
  // An attribute running past the message.
  Bytes bad = message(
      RTM_NEWADDR, address_body(AF_INET, 24, 0, 1, {attr(IFA_ADDRESS, bytes_of(ip("10.0.0.1")))}));
  bad[sizeof(nlmsghdr) + sizeof(ifaddrmsg)] = 0x40;  // rta_len 64
  EXPECT_FALSE(parse_address_messages(bad, out, status));
  // A truncated header.
  EXPECT_FALSE(parse_address_messages(Bytes{1, 2, 3}, out, status));
  EXPECT_TRUE(out.empty());
}

// ---- LocalNets ------------------------------------------------------------------------

TEST(LocalNets, cidrs_and_plain_addresses_match_their_family_only) {
  LocalNets nets;
  std::string error;
  ASSERT_TRUE(nets.add_cidr("10.0.0.0/8", &error)) << error;
  ASSERT_TRUE(nets.add_cidr("2001:db8::/32", &error)) << error;
  ASSERT_TRUE(nets.add_cidr("192.168.1.7", &error)) << error;  // a /32
  ASSERT_TRUE(nets.add_cidr("fd00::1", &error)) << error;      // a /128
  EXPECT_TRUE(nets.contains(ip("10.255.0.1")));
  EXPECT_FALSE(nets.contains(ip("11.0.0.1")));
  EXPECT_TRUE(nets.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(nets.contains(ip("2001:db9::1")));
  EXPECT_TRUE(nets.contains(ip("192.168.1.7")));
  EXPECT_FALSE(nets.contains(ip("192.168.1.8")));
  EXPECT_TRUE(nets.contains(ip("fd00::1")));
  EXPECT_FALSE(nets.contains(ip("fd00::2")));
  EXPECT_EQ(nets.cidrs()[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(nets.cidrs()[1].to_string(), "2001:db8::/32");
  EXPECT_EQ(nets.cidrs()[2].to_string(), "192.168.1.7/32");
}

TEST(LocalNets, host_bits_are_cleared_and_zero_length_prefixes_stay_in_their_family) {
  std::string error;
  const auto subnet = parse_cidr("192.168.1.77/24", &error);
  ASSERT_TRUE(subnet) << error;
  EXPECT_EQ(subnet->to_string(), "192.168.1.0/24");
  EXPECT_TRUE(subnet->contains(ip("192.168.1.200")));
  const auto all4 = parse_cidr("0.0.0.0/0", &error);
  const auto all6 = parse_cidr("::/0", &error);
  ASSERT_TRUE(all4 && all6);
  EXPECT_TRUE(all4->contains(ip("203.0.113.9")));
  EXPECT_FALSE(all4->contains(ip("2001:db8::1")));
  EXPECT_TRUE(all6->contains(ip("2001:db8::1")));
  EXPECT_FALSE(all6->contains(ip("203.0.113.9")));
  // IPv4-mapped notation is IPv4.
  const auto mapped = parse_cidr("::ffff:10.0.0.0/104", &error);
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->contains(ip("10.1.2.3")));
  EXPECT_EQ(Cidr::of(ip("127.0.0.1"), 8).to_string(), "127.0.0.0/8");
}

TEST(LocalNets, bad_input_is_refused_with_a_message_naming_it) {
  LocalNets nets;
  for (const char* bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/8x",
        "10.0.0.256/8", "example.com", "10.0.0.0/8/8", "10.0.0.0 /8", "fe80::1%eth0/64"}) {
    std::string error;
    EXPECT_FALSE(nets.add_cidr(bad, &error)) << bad;
    EXPECT_NE(error.find(std::string("'") + bad + "'"), std::string::npos) << error;
  }
  EXPECT_TRUE(nets.empty());
  std::string error;
  EXPECT_FALSE(nets.add_cidr("10.0.0.0/40", &error));
  EXPECT_NE(error.find("0 to 32"), std::string::npos) << error;
}

// ---- LocalAddresses -------------------------------------------------------------------

int run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

TEST(LocalAddresses, follows_addresses_added_and_removed_with_ip_addr) {
  in_new_netns_or_skip([] {
    if (run("ip -V") != 0) GTEST_SKIP() << "iproute2 not installed";
    LocalAddresses local;
    std::string error;
    ASSERT_TRUE(local.start(&error)) << error;
    // lo is up: 127.0.0.1/8 is host scope, so all of 127/8 is local; ::1 too.
    EXPECT_TRUE(local.contains(ip("127.0.0.1")));
    EXPECT_TRUE(local.contains(ip("127.4.5.6")));
    EXPECT_TRUE(local.contains(ip("::1")));
    EXPECT_FALSE(local.contains(ip("10.77.0.1")));

    const std::uint64_t before = local.version();
    // `ip` runs in this thread's namespace: fork() copies the caller's namespaces.
    ASSERT_EQ(run("ip addr add 10.77.0.1/24 dev lo"), 0);
    ASSERT_EQ(run("ip -6 addr add fd77::1/64 dev lo nodad"), 0);
    EXPECT_TRUE(eventually(
        [&] { return local.contains(ip("10.77.0.1")) && local.contains(ip("fd77::1")); }));
    EXPECT_GT(local.version(), before);
    EXPECT_FALSE(local.contains(ip("10.77.0.2")));  // a global address is itself only
    const auto all = local.addresses();
    EXPECT_NE(std::find(all.begin(), all.end(), ip("10.77.0.1")), all.end());

    ASSERT_EQ(run("ip addr del 10.77.0.1/24 dev lo"), 0);
    EXPECT_TRUE(eventually([&] { return !local.contains(ip("10.77.0.1")); }));
    EXPECT_TRUE(local.contains(ip("fd77::1")));
    EXPECT_EQ(local.errors(), 0u);
    local.stop();
  });
}

TEST(LocalAddresses, contains_is_false_before_start) {
  LocalAddresses local;
  EXPECT_FALSE(local.contains(ip("127.0.0.1")));
  EXPECT_TRUE(local.addresses().empty());
}

}  // namespace
}  // namespace netscope::host
