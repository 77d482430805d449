#include "capture/syn_watch.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "capture/capture_error.hpp"
#include "netns_util.hpp"

namespace netscope::capture {
namespace {

using Frame = std::vector<std::uint8_t>;

core::IpAddress ip(const char* text) {
  return *core::IpAddress::parse(text);
}

void put16(Frame& f, std::uint16_t v) {
  f.push_back(static_cast<std::uint8_t>(v >> 8));
  f.push_back(static_cast<std::uint8_t>(v));
}

void put_addr(Frame& f, const core::IpAddress& a) {
  const auto& b = a.bytes();
  if (a.is_v4()) {
    f.insert(f.end(), b.begin() + 12, b.end());
  } else {
    f.insert(f.end(), b.begin(), b.end());
  }
}

// A 20-byte TCP header with the given flags (checksums are not looked at).
Frame tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags) {
  Frame f;
  put16(f, sport);
  put16(f, dport);
  f.insert(f.end(), 8, 0);  // seq, ack
  f.push_back(0x50);        // data offset 5
  f.push_back(flags);
  put16(f, 65535);
  f.insert(f.end(), 4, 0);
  return f;
}

Frame ipv4(const Frame& l4, std::uint16_t frag = 0, std::uint8_t proto = 6) {
  Frame f{0x45, 0};
  put16(f, static_cast<std::uint16_t>(20 + l4.size()));
  put16(f, 1);
  put16(f, frag);
  f.push_back(64);
  f.push_back(proto);
  put16(f, 0);
  put_addr(f, ip("10.0.0.1"));
  put_addr(f, ip("10.0.0.2"));
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

// IPv6 with optional extension headers given as (type, bytes) in order.
Frame ipv6(const Frame& l4, const std::vector<std::pair<std::uint8_t, Frame>>& ext = {}) {
  Frame f{0x60, 0, 0, 0};
  std::size_t len = l4.size();
  for (const auto& e : ext) len += e.second.size();
  put16(f, static_cast<std::uint16_t>(len));
  f.push_back(ext.empty() ? 6 : ext[0].first);
  f.push_back(64);
  put_addr(f, ip("2001:db8::1"));
  put_addr(f, ip("2001:db8::2"));
  for (std::size_t i = 0; i < ext.size(); ++i) {
    Frame h = ext[i].second;
    h[0] = i + 1 < ext.size() ? ext[i + 1].first : 6;
    f.insert(f.end(), h.begin(), h.end());
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

Frame ethernet(const Frame& l3, std::uint16_t type, int vlan_tags = 0) {
  Frame f(12, 0x02);
  for (int i = 0; i < vlan_tags; ++i) {
    put16(f, 0x8100);
    put16(f, 100);
  }
  put16(f, type);
  f.insert(f.end(), l3.begin(), l3.end());
  return f;
}

constexpr std::uint8_t kSyn = 0x02, kAck = 0x10, kRst = 0x04;

TEST(ParseSyn, EthernetIpv4Syn) {
  const auto ev = parse_syn(1, ethernet(ipv4(tcp(43012, 443, kSyn)), 0x0800));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->src, ip("10.0.0.1"));
  EXPECT_EQ(ev->dst, ip("10.0.0.2"));
  EXPECT_EQ(ev->sport, 43012);
  EXPECT_EQ(ev->dport, 443);
  EXPECT_FALSE(ev->ack);
}

TEST(ParseSyn, SynAckBehindTwoVlanTags) {
  const auto ev = parse_syn(1, ethernet(ipv4(tcp(443, 43012, kSyn | kAck)), 0x0800, 2));
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->ack);
  EXPECT_EQ(ev->sport, 443);
}

TEST(ParseSyn, NotASynIsNothing) {
  EXPECT_FALSE(parse_syn(1, ethernet(ipv4(tcp(1, 2, kAck)), 0x0800)));
  EXPECT_FALSE(parse_syn(1, ethernet(ipv4(tcp(1, 2, kRst)), 0x0800)));
  EXPECT_FALSE(parse_syn(1, ethernet(ipv4(tcp(1, 2, kSyn), 0, 17), 0x0800)));  // UDP
  EXPECT_FALSE(parse_syn(1, ethernet(ipv4(tcp(1, 2, kSyn)), 0x0806)));         // ARP
  EXPECT_FALSE(parse_syn(147, ipv4(tcp(1, 2, kSyn))));  // a link type it does not know
}

TEST(ParseSyn, OnlyTheFirstFragmentCarriesTcp) {
  EXPECT_TRUE(parse_syn(101, ipv4(tcp(1, 2, kSyn), 0x2000)));   // MF, offset 0
  EXPECT_FALSE(parse_syn(101, ipv4(tcp(1, 2, kSyn), 0x0010)));  // offset 128
  const Frame frag_later{0, 0, 0x00, 0x08, 0, 0, 0, 1};         // offset 1
  EXPECT_FALSE(parse_syn(229, ipv6(tcp(1, 2, kSyn), {{44, frag_later}})));
}

TEST(ParseSyn, Ipv6ThroughExtensionHeaders) {
  const Frame hop_by_hop{0, 0, 1, 4, 0, 0, 0, 0};                    // PadN
  const Frame fragment{0, 0, 0, 1, 0, 0, 0, 7};                      // offset 0, more fragments
  const Frame auth{0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};  // (2 + 2) * 4 bytes
  const auto ev = parse_syn(
      1,
      ethernet(ipv6(tcp(5000, 22, kSyn), {{0, hop_by_hop}, {44, fragment}, {51, auth}}), 0x86dd));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->src, ip("2001:db8::1"));
  EXPECT_EQ(ev->dst, ip("2001:db8::2"));
  EXPECT_EQ(ev->dport, 22);
}

TEST(ParseSyn, CookedAndRawLinkTypes) {
  Frame sll(14, 0);
  put16(sll, 0x0800);
  const Frame l3 = ipv4(tcp(1, 2, kSyn));
  sll.insert(sll.end(), l3.begin(), l3.end());
  EXPECT_TRUE(parse_syn(113, sll));

  Frame sll2;
  put16(sll2, 0x86dd);
  sll2.insert(sll2.end(), 18, 0);
  const Frame l3v6 = ipv6(tcp(1, 2, kSyn));
  sll2.insert(sll2.end(), l3v6.begin(), l3v6.end());
  EXPECT_TRUE(parse_syn(276, sll2));

  EXPECT_TRUE(parse_syn(101, l3));
  EXPECT_TRUE(parse_syn(12, l3v6));
  EXPECT_TRUE(parse_syn(228, l3));
  EXPECT_TRUE(parse_syn(229, l3v6));
}

TEST(ParseSyn, EveryTruncationIsRejectedWithoutReadingPastTheEnd) {
  const Frame hop_by_hop{0, 0, 1, 4, 0, 0, 0, 0};
  const std::vector<std::pair<int, Frame>> frames{
      {1, ethernet(ipv4(tcp(1, 2, kSyn)), 0x0800, 1)},
      {1, ethernet(ipv6(tcp(1, 2, kSyn), {{0, hop_by_hop}}), 0x86dd)},
  };
  for (const auto& [linktype, full] : frames) {
    ASSERT_TRUE(parse_syn(linktype, full));
    // The TCP flags are byte 13 of the TCP header; any shorter prefix must fail. Each
    // prefix is copied so that ASan sees a read past its end.
    for (std::size_t n = 0; n + 6 < full.size(); ++n) {
      const Frame prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_FALSE(parse_syn(linktype, prefix)) << n;
    }
  }
}

TEST(ParseSyn, BogusIpv4HeaderLengthIsRejected) {
  Frame f = ipv4(tcp(1, 2, kSyn));
  f[0] = 0x44;  // IHL 16 bytes
  EXPECT_FALSE(parse_syn(101, f));
  f[0] = 0x4f;  // IHL 60 bytes: beyond the frame's end minus the TCP header
  EXPECT_FALSE(parse_syn(101, Frame(f.begin(), f.begin() + 40)));
}

// ---- live, on the loopback of a private namespace ---------------------------------

struct Collector {
  std::mutex mu;
  std::vector<SynEvent> events;
  void add(const SynEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  }
  bool has(std::uint16_t sport, std::uint16_t dport, bool ack) {
    std::lock_guard lock(mu);
    for (const auto& e : events) {
      if (e.sport == sport && e.dport == dport && e.ack == ack) return true;
    }
    return false;
  }
};

// Opens a listener on `family` loopback, connects to it, and returns (client port,
// server port).
std::pair<std::uint16_t, std::uint16_t> connect_on_loopback(int family) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  const int server = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int client = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(server, 0);
  EXPECT_GE(client, 0);
  EXPECT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  EXPECT_EQ(::listen(server, 4), 0);
  EXPECT_EQ(::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  const std::uint16_t server_port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  EXPECT_EQ(::getsockname(client, reinterpret_cast<sockaddr*>(&local), &local_len), 0);
  const std::uint16_t client_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  ::close(client);
  ::close(server);
  return {client_port, server_port};
}

bool wait_for(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {  // at most 5 s
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST(SynWatch, SeesSynAndSynAckOfAConnectOnLoopback) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(test::sh("ip link set lo up"));
    Collector seen;
    SynWatch watch({"lo"}, [&](const SynEvent& e) { seen.add(e); });
    EXPECT_EQ(watch.interfaces(), std::vector<std::string>{"lo"});
    watch.start();
    const auto p4 = connect_on_loopback(AF_INET);
    EXPECT_TRUE(wait_for([&] { return seen.has(p4.first, p4.second, false); }));
    EXPECT_TRUE(wait_for([&] { return seen.has(p4.second, p4.first, true); }));
    const auto p6 = connect_on_loopback(AF_INET6);
    EXPECT_TRUE(wait_for([&] { return seen.has(p6.first, p6.second, false); }));
    EXPECT_TRUE(wait_for([&] { return seen.has(p6.second, p6.first, true); }));
    watch.stop();
    EXPECT_GE(watch.seen(), 4u);
    EXPECT_EQ(watch.unparsed(), 0u);
    std::lock_guard lock(seen.mu);
    for (const auto& e : seen.events) {
      EXPECT_EQ(e.interface_id, 0u);
      EXPECT_NE(e.ts.ns, 0);
      EXPECT_TRUE(e.src == ip("127.0.0.1") || e.src == ip("::1"));
    }
  });
}

TEST(SynWatch, StopWithoutStartAndTwiceIsFine) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(test::sh("ip link set lo up"));
    SynWatch watch({"lo"}, [](const SynEvent&) {});
    watch.stop();
    watch.start();
    watch.start();
    watch.stop();
    watch.stop();
    EXPECT_EQ(watch.seen(), 0u);
  });
}

TEST(SynWatch, UnknownInterfaceThrowsCaptureError) {
  NETSCOPE_IN_NETNS([] {
    try {
      SynWatch watch({"nosuch0"}, [](const SynEvent&) {});
      ADD_FAILURE() << "no exception";
    } catch (const CaptureError& e) {
      EXPECT_EQ(e.kind(), CaptureError::Kind::no_such_interface);
    }
  });
}

}  // namespace
}  // namespace netscope::capture
