// Protocol-aware timeouts: parsing of --timeout settings, the timeout by protocol and
// application, the active/idle distinction shown for staleness, and the live mode's rule
// that a flow whose socket the kernel still reports is not aged out.
#include "flow/timeouts.hpp"

#include <gtest/gtest.h>

#include "flow/flow_table.hpp"

using namespace netscope;
using decode::PacketView;

namespace {

struct NullSink : flow::FlowSink {
  void on_flow_end(const flow::Flow& /*f*/, flow::EndReason /*r*/) override {}
};

PacketView packet(std::uint16_t sport, std::uint16_t dport, std::uint8_t proto, double t) {
  PacketView v;
  v.layers = PacketView::kLink | PacketView::kIp | PacketView::kTransport;
  v.ip_version = 4;
  v.src = *core::IpAddress::parse("10.0.0.1");
  v.dst = *core::IpAddress::parse("10.0.0.2");
  v.sport = sport;
  v.dport = dport;
  v.ip_proto = proto;
  v.ts = core::Timestamp{static_cast<std::int64_t>(t * 1e9)};
  return v;
}

core::Timestamp at(double s) {
  return core::Timestamp{static_cast<std::int64_t>(s * 1e9)};
}

constexpr std::int64_t kSec = 1'000'000'000;

}  // namespace

TEST(Timeouts, settings_parse_and_bad_ones_name_the_problem) {
  flow::FlowTimeouts t;
  std::string error;
  EXPECT_TRUE(flow::apply_timeout(t, "dns=10", &error));
  EXPECT_EQ(t.dns, 10);
  EXPECT_TRUE(flow::apply_timeout(t, "tcp_idle=0.5", &error));
  EXPECT_EQ(t.tcp_idle, 0.5);
  EXPECT_FALSE(flow::apply_timeout(t, "dnss=10", &error));
  EXPECT_NE(error.find("unknown timeout name"), std::string::npos);
  EXPECT_NE(error.find("quic_draining"), std::string::npos);  // the list of names
  EXPECT_FALSE(flow::apply_timeout(t, "dns=ten", &error));
  EXPECT_NE(error.find("number of seconds"), std::string::npos);
  EXPECT_FALSE(flow::apply_timeout(t, "dns=0", &error));
  EXPECT_FALSE(flow::apply_timeout(t, "dns=10s", &error));
  EXPECT_FALSE(flow::apply_timeout(t, "dns", &error));
  EXPECT_NE(error.find("NAME=SECONDS"), std::string::npos);
  EXPECT_EQ(t.dns, 10);                          // a rejected setting changes nothing
  EXPECT_EQ(flow::timeout_names().size(), 15u);  // arp included
}

TEST(Timeouts, by_protocol_and_application) {
  NullSink sink;
  flow::FlowTable table({}, sink);
  int dir = 0;
  flow::Flow& tcp = table.upsert(packet(40000, 5432, decode::ip_proto::tcp, 0), dir);
  EXPECT_EQ(table.timeout_ns(tcp), 300 * kSec);  // ESTABLISHED-like, idle
  tcp.dpi.proto = dpi::Protocol::tls;
  EXPECT_EQ(table.timeout_ns(tcp), 600 * kSec);
  tcp.dpi.proto = dpi::Protocol::ssh;
  EXPECT_EQ(table.timeout_ns(tcp), 1800 * kSec);
  flow::Flow& dns = table.upsert(packet(40001, 53, decode::ip_proto::udp, 0), dir);
  EXPECT_EQ(table.timeout_ns(dns), 60 * kSec);  // not recognised yet: plain UDP
  dns.dpi.proto = dpi::Protocol::dns;
  EXPECT_EQ(table.timeout_ns(dns), 30 * kSec);
  flow::Flow& quic = table.upsert(packet(40002, 4433, decode::ip_proto::udp, 0), dir);
  quic.dpi.proto = dpi::Protocol::quic;
  EXPECT_EQ(table.timeout_ns(quic), 300 * kSec);
  flow::Flow& icmp = table.upsert(packet(0, 0, decode::ip_proto::icmp, 0), dir);
  EXPECT_EQ(table.timeout_ns(icmp), 30 * kSec);
}

TEST(Timeouts, active_connections_show_the_longer_timeout_until_idle) {
  NullSink sink;
  flow::FlowTable table({}, sink);
  int dir = 0;
  flow::Flow& tcp = table.upsert(packet(40000, 5432, decode::ip_proto::tcp, 0), dir);
  // Untracked TCP (no handshake seen) is not ESTABLISHED: no active timeout.
  EXPECT_EQ(table.shown_timeout_ns(tcp, at(10)), 300 * kSec);
  flow::Flow& quic = table.upsert(packet(40002, 4433, decode::ip_proto::udp, 0), dir);
  quic.dpi.proto = dpi::Protocol::quic;
  EXPECT_EQ(table.shown_timeout_ns(quic, at(10)), 600 * kSec);
  EXPECT_EQ(table.shown_timeout_ns(quic, at(59.9)), 600 * kSec);
  EXPECT_EQ(table.shown_timeout_ns(quic, at(60)), 300 * kSec);
}

TEST(Timeouts, settings_change_when_flows_expire) {
  NullSink sink;
  flow::FlowTableConfig cfg;
  ASSERT_TRUE(flow::apply_timeout(cfg.timeouts, "udp=5", nullptr));
  flow::FlowTable table(cfg, sink);
  int dir = 0;
  flow::Flow& f = table.upsert(packet(40000, 9999, decode::ip_proto::udp, 0), dir);
  EXPECT_FALSE(table.is_expired(f, at(5)));
  EXPECT_TRUE(table.is_expired(f, at(5.1)));
}

TEST(Timeouts, a_flow_the_kernel_still_reports_is_never_aged_out) {
  NullSink sink;
  flow::FlowTableConfig cfg;
  bool alive = true;
  int asked = 0;
  cfg.kernel_alive = [&](const flow::Flow& f) {
    ++asked;
    return alive && f.key.proto == decode::ip_proto::tcp;
  };
  flow::FlowTable table(cfg, sink);
  int dir = 0;
  flow::Flow& tcp = table.upsert(packet(40000, 5432, decode::ip_proto::tcp, 0), dir);
  flow::Flow& udp = table.upsert(packet(40001, 9999, decode::ip_proto::udp, 0), dir);
  EXPECT_FALSE(table.is_expired(tcp, at(299)));
  EXPECT_EQ(asked, 0);  // not asked while within the timeout
  EXPECT_FALSE(table.is_expired(tcp, at(3600)));
  EXPECT_TRUE(table.is_expired(udp, at(3600)));
  alive = false;  // the socket went away
  EXPECT_TRUE(table.is_expired(tcp, at(3600)));
  EXPECT_GT(asked, 0);
}
