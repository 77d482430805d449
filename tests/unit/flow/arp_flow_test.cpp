// ARP conversations in the flow layer (flow/arp.hpp): which packets make flows, the
// canonical key shared by a request and its reply, the ARP_REQUEST / ARP_REPLY states
// (gratuitous ARP included) and the `arp` timeout.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "flow/arp.hpp"
#include "flow/flow_table.hpp"
#include "flow/timeouts.hpp"

using namespace netscope;
using decode::PacketView;

namespace {

struct RecordingSink : flow::FlowSink {
  std::vector<std::pair<core::FlowKey, flow::EndReason>> ended;
  void on_flow_end(const flow::Flow& f, flow::EndReason r) override {
    ended.emplace_back(f.key, r);
  }
};

// An ARP packet as decode_arp() leaves it: no IP layer, sender/target protocol addresses.
PacketView arp(std::uint16_t op, const char* sender, const char* target, double t,
               std::uint16_t vlan = 0) {
  PacketView v;
  v.layers = PacketView::kLink | PacketView::kArp;
  v.arp_op = op;
  v.arp_sender = *core::IpAddress::parse(sender);
  v.arp_target = *core::IpAddress::parse(target);
  v.arp_len = 28;
  v.vlan = vlan;
  v.ts = core::Timestamp{static_cast<std::int64_t>(t * 1e9)};
  return v;
}

core::Timestamp at(double s) {
  return core::Timestamp{static_cast<std::int64_t>(s * 1e9)};
}

// What monitor::FlowStage does with an ARP packet's flow.
flow::Flow& count(flow::FlowTable& table, const PacketView& v, int& dir) {
  flow::Flow& f = table.upsert(v, dir);
  f.last_seen = std::max(f.last_seen, v.ts);
  f.arp_state = flow::arp_state_after(v);
  table.touched(f);
  return f;
}

}  // namespace

TEST(ArpFlow, only_ipv4_requests_and_replies_make_flows) {
  EXPECT_TRUE(flow::is_arp_flow_packet(arp(flow::kArpOpRequest, "10.0.0.1", "10.0.0.2", 0)));
  EXPECT_TRUE(flow::is_arp_flow_packet(arp(flow::kArpOpReply, "10.0.0.2", "10.0.0.1", 0)));
  // RARP (RFC 903) reverse request / reply and InARP (RFC 2390) are other exchanges.
  EXPECT_FALSE(flow::is_arp_flow_packet(arp(3, "192.0.2.1", "192.0.2.2", 0)));
  EXPECT_FALSE(flow::is_arp_flow_packet(arp(4, "192.0.2.1", "192.0.2.2", 0)));
  EXPECT_FALSE(flow::is_arp_flow_packet(arp(8, "192.0.2.1", "192.0.2.2", 0)));
  // Protocol addresses that are not IPv4 are not kept by the decoder (left unspecified).
  PacketView other = arp(flow::kArpOpRequest, "10.0.0.1", "10.0.0.2", 0);
  other.arp_sender = core::IpAddress{};
  other.arp_target = core::IpAddress{};
  EXPECT_FALSE(flow::is_arp_flow_packet(other));
  // An IP packet is never an ARP one, whatever stale ARP fields it holds.
  PacketView ip = arp(flow::kArpOpRequest, "10.0.0.1", "10.0.0.2", 0);
  ip.layers = PacketView::kLink | PacketView::kIp | PacketView::kTransport;
  EXPECT_FALSE(flow::is_arp_flow_packet(ip));
}

TEST(ArpFlow, request_and_reply_share_one_canonical_key_without_ports) {
  const PacketView request = arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 0);
  const PacketView reply = arp(flow::kArpOpReply, "10.0.0.1", "10.0.0.9", 0.001);
  const auto a = flow::FlowTable::prepare(request);
  const auto b = flow::FlowTable::prepare(reply);
  EXPECT_EQ(a.ok.key, b.ok.key);
  EXPECT_EQ(a.tag, b.tag);
  EXPECT_NE(a.ok.src_is_a, b.ok.src_is_a);
  EXPECT_EQ(a.ok.key.proto, flow::kArpProto);
  EXPECT_EQ(a.ok.key.port_a, 0);
  EXPECT_EQ(a.ok.key.port_b, 0);
  EXPECT_EQ(a.ok.key.addr_a.to_string(), "10.0.0.1");  // ordered: a <= b
  EXPECT_EQ(a.ok.key.addr_b.to_string(), "10.0.0.9");
  // Another VLAN is another conversation, as for IP flows.
  EXPECT_NE(flow::FlowTable::prepare(arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 0, 7)).ok.key,
            a.ok.key);
  // ARP never shares a key with IP traffic between the same addresses.
  PacketView icmp;
  icmp.layers = PacketView::kLink | PacketView::kIp | PacketView::kTransport;
  icmp.src = request.arp_sender;
  icmp.dst = request.arp_target;
  icmp.ip_proto = decode::ip_proto::icmp;
  EXPECT_NE(flow::FlowTable::prepare(icmp).ok.key, a.ok.key);
}

TEST(ArpFlow, request_then_reply_is_one_flow_in_arp_reply_with_the_requester_as_client) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  flow::Flow& f = count(table, arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 0), dir);
  EXPECT_EQ(dir, flow::kClientToServer);
  EXPECT_EQ(f.arp_state, flow::kArpRequest);
  EXPECT_EQ(flow::arp_state_name(f.arp_state), "ARP_REQUEST");
  EXPECT_EQ(f.client().addr.to_string(), "10.0.0.9");
  EXPECT_EQ(f.server().addr.to_string(), "10.0.0.1");
  EXPECT_EQ(f.client_by, flow::ClientBy::first_packet);
  flow::Flow& g = count(table, arp(flow::kArpOpReply, "10.0.0.1", "10.0.0.9", 0.001), dir);
  EXPECT_EQ(&f, &g);
  EXPECT_EQ(dir, flow::kServerToClient);
  EXPECT_EQ(f.arp_state, flow::kArpReply);
  EXPECT_EQ(flow::arp_state_name(f.arp_state), "ARP_REPLY");
  EXPECT_EQ(table.size(), 1u);
}

TEST(ArpFlow, a_later_request_asks_again_until_its_reply) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = 0;
  count(table, arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 0), dir);
  count(table, arp(flow::kArpOpReply, "10.0.0.1", "10.0.0.9", 0.001), dir);
  // The neighbour entry goes stale; the kernel re-checks it with a unicast request
  // (here from the other side), which the reply answers.
  flow::Flow& f = count(table, arp(flow::kArpOpRequest, "10.0.0.1", "10.0.0.9", 5), dir);
  EXPECT_EQ(f.arp_state, flow::kArpRequest);
  count(table, arp(flow::kArpOpReply, "10.0.0.9", "10.0.0.1", 5.001), dir);
  EXPECT_EQ(f.arp_state, flow::kArpReply);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ArpFlow, gratuitous_arp_is_an_announcement_in_arp_reply_and_a_probe_a_request) {
  // RFC 5227 §3: an announcement is a request with sender = target address.
  const PacketView announce = arp(flow::kArpOpRequest, "10.0.0.7", "10.0.0.7", 0);
  EXPECT_TRUE(flow::is_gratuitous_arp(announce));
  EXPECT_EQ(flow::arp_state_after(announce), flow::kArpReply);
  EXPECT_EQ(flow::arp_state_after(arp(flow::kArpOpReply, "10.0.0.7", "10.0.0.7", 0)),
            flow::kArpReply);
  // RFC 5227 §2.1.1: a probe (sender 0.0.0.0) asks whether anyone holds the address.
  const PacketView probe = arp(flow::kArpOpRequest, "0.0.0.0", "10.0.0.7", 0);
  EXPECT_FALSE(flow::is_gratuitous_arp(probe));
  EXPECT_EQ(flow::arp_state_after(probe), flow::kArpRequest);

  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = 0;
  flow::Flow& f = count(table, announce, dir);
  EXPECT_EQ(f.key.addr_a, f.key.addr_b);  // one address: a flow with itself
  EXPECT_EQ(f.arp_state, flow::kArpReply);
  EXPECT_EQ(&count(table, probe, dir), &count(table, probe, dir));
  EXPECT_EQ(table.size(), 2u);
}

TEST(ArpFlow, arp_flows_age_out_on_the_arp_timeout) {
  flow::FlowTimeouts timeouts;
  EXPECT_EQ(timeouts.arp, 30);
  std::string error;
  ASSERT_TRUE(flow::apply_timeout(timeouts, "arp=12", &error)) << error;
  EXPECT_EQ(timeouts.arp, 12);
  timeouts.other = 1000;  // not the one ARP uses
  RecordingSink sink;
  flow::FlowTableConfig cfg;
  cfg.max_flows = 64;
  cfg.timeouts = timeouts;
  flow::FlowTable table(cfg, sink);
  int dir = 0;
  flow::Flow& f = count(table, arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 0), dir);
  EXPECT_EQ(table.timeout_ns(f), 12'000'000'000);
  EXPECT_EQ(table.shown_timeout_ns(f, at(1)), 12'000'000'000);
  table.expire(at(11.5), table.slots());
  EXPECT_TRUE(sink.ended.empty());
  table.expire(at(12.5), table.slots());
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::idle_timeout);
  EXPECT_EQ(sink.ended[0].first.proto, flow::kArpProto);
  // A request met after the timeout starts a new conversation even before a sweep.
  count(table, arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 13), dir);
  count(table, arp(flow::kArpOpRequest, "10.0.0.9", "10.0.0.1", 30), dir);
  EXPECT_EQ(sink.ended.size(), 2u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ArpFlow, the_arp_timeout_is_listed_with_the_others) {
  bool found = false;
  for (const flow::TimeoutName& n : flow::timeout_names()) found |= n.name == "arp";
  EXPECT_TRUE(found);
  flow::FlowTimeouts t;
  std::string error;
  EXPECT_FALSE(flow::apply_timeout(t, "arp=0", &error));
  EXPECT_NE(error.find("arp=0"), std::string::npos);
}
