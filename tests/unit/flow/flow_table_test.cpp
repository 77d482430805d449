// FlowTable: lookup in both directions, client choice, expiry, eviction and port reuse.
#include "flow/flow_table.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace netscope;
using decode::PacketView;

namespace {

struct RecordingSink : flow::FlowSink {
  std::vector<std::pair<core::FlowKey, flow::EndReason>> ended;
  void on_flow_end(const flow::Flow& f, flow::EndReason r) override {
    ended.emplace_back(f.key, r);
  }
};

PacketView packet(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
                  std::uint8_t proto, double t, std::uint8_t flags = 0) {
  PacketView v;
  v.layers = PacketView::kLink | PacketView::kIp | PacketView::kTransport;
  v.ip_version = 4;
  v.src = *core::IpAddress::parse(src);
  v.dst = *core::IpAddress::parse(dst);
  v.sport = sport;
  v.dport = dport;
  v.ip_proto = proto;
  v.tcp_flags = flags;
  v.ts = core::Timestamp{static_cast<std::int64_t>(t * 1e9)};
  return v;
}

constexpr std::uint8_t kTcp = decode::ip_proto::tcp;
constexpr std::uint8_t kUdp = decode::ip_proto::udp;

}  // namespace

TEST(FlowTable, both_directions_map_to_one_flow_with_client_from_syn) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  flow::Flow& f = table.upsert(packet("10.0.0.9", 80, "10.0.0.1", 50000, kTcp, 0,
                                      decode::tcp_flag::syn | decode::tcp_flag::ack),
                               dir);
  // A SYN+ACK comes from the server: its receiver is the client.
  EXPECT_EQ(dir, flow::kServerToClient);
  EXPECT_EQ(f.client_by, flow::ClientBy::syn);
  EXPECT_EQ(f.client().to_string(), "10.0.0.1:50000");
  flow::Flow& g = table.upsert(packet("10.0.0.1", 50000, "10.0.0.9", 80, kTcp, 0.1), dir);
  EXPECT_EQ(&f, &g);
  EXPECT_EQ(dir, flow::kClientToServer);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, port_heuristic_picks_the_privileged_or_non_ephemeral_side_as_server) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  flow::Flow& dns = table.upsert(packet("10.0.0.53", 53, "10.0.0.1", 40000, kUdp, 0), dir);
  EXPECT_EQ(dns.server().port, 53);
  EXPECT_EQ(dns.client_by, flow::ClientBy::port);
  EXPECT_EQ(dir, flow::kServerToClient);
  flow::Flow& pg = table.upsert(packet("10.0.0.5", 5432, "10.0.0.1", 51000, kTcp, 0), dir);
  EXPECT_EQ(pg.server().port, 5432);
  flow::Flow& odd = table.upsert(packet("10.0.0.7", 2000, "10.0.0.8", 3000, kUdp, 0), dir);
  EXPECT_EQ(odd.client_by, flow::ClientBy::first_packet);
  EXPECT_EQ(odd.client().port, 2000);
}

TEST(FlowTable, idle_flows_expire_by_protocol_timeout_on_packet_time) {
  RecordingSink sink;
  flow::FlowTableConfig cfg;
  cfg.max_flows = 64;
  flow::FlowTable table(cfg, sink);
  int dir = 0;
  table.upsert(packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 0), dir);
  table.upsert(packet("10.0.0.1", 40001, "10.0.0.2", 443, kTcp, 0), dir);  // established guess
  table.expire(core::Timestamp{59'000'000'000}, table.slots());
  EXPECT_TRUE(sink.ended.empty());
  table.expire(core::Timestamp{61'000'000'000}, table.slots());
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].first.proto, kUdp);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::idle_timeout);
  table.expire(core::Timestamp{301'000'000'000}, table.slots());
  EXPECT_EQ(sink.ended.size(), 2u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(FlowTable, full_table_evicts_the_stalest_flow_and_counts_it) {
  RecordingSink sink;
  flow::FlowTableConfig cfg;
  cfg.max_flows = 16;
  flow::FlowTable table(cfg, sink);
  int dir = 0;
  for (int i = 0; i < 16; ++i) {
    flow::Flow& f = table.upsert(
        packet("10.0.0.1", static_cast<std::uint16_t>(40000 + i), "10.0.0.2", 80, kTcp, i), dir);
    f.last_seen = core::Timestamp{static_cast<std::int64_t>(i) * 1'000'000'000};
  }
  EXPECT_EQ(table.size(), 16u);
  table.upsert(packet("10.0.0.1", 50000, "10.0.0.2", 80, kTcp, 20), dir);
  EXPECT_EQ(table.size(), 16u);
  EXPECT_EQ(table.evicted(), 1u);
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::evicted);
}

TEST(FlowTable, many_inserts_and_removals_keep_every_flow_findable) {
  // Exercises backward-shift deletion: after random removals every survivor is found.
  RecordingSink sink;
  flow::FlowTableConfig cfg;
  cfg.max_flows = 4096;
  flow::FlowTable table(cfg, sink);
  int dir = 0;
  for (int i = 0; i < 4000; ++i) {
    table.upsert(packet("10.1.0.1", static_cast<std::uint16_t>(1024 + i), "10.2.0.2", 80, kUdp,
                        (i % 2 == 0) ? 0 : 100),
                 dir);
  }
  // Odd flows were last seen at t=100, even ones at t=0: expire the even ones.
  table.expire(core::Timestamp{90'000'000'000}, table.slots());
  EXPECT_EQ(table.size(), 2000u);
  for (int i = 1; i < 4000; i += 2) {
    const core::IpAddress a = *core::IpAddress::parse("10.1.0.1");
    const core::IpAddress b = *core::IpAddress::parse("10.2.0.2");
    ASSERT_NE(table.find(a, static_cast<std::uint16_t>(1024 + i), b, 80, kUdp, 0, 0, dir), nullptr)
        << i;
  }
  table.drain();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(sink.ended.size(), 4000u);
}

// A packet for a flow already past its idle timeout ends that flow (as the sweep would
// have) and starts a new one, whether or not expire() ran: conversation boundaries must
// not depend on the sweep's timing (or on how flows are split into shards).
TEST(FlowTable, packet_after_the_idle_timeout_ends_the_flow_even_before_the_sweep) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);  // UDP idle timeout: 60 s
  int dir = -1;
  table.upsert(packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 0), dir);
  table.upsert(packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 59), dir);
  EXPECT_TRUE(sink.ended.empty());
  flow::Flow& f = table.upsert(packet("10.0.0.2", 53, "10.0.0.1", 40000, kUdp, 119.5), dir);
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::idle_timeout);
  EXPECT_EQ(table.created(), 2u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(f.first_seen.ns, 119'500'000'000);
}

TEST(FlowTable, lookup_uses_the_packet_clock_not_the_packet_time) {
  // With time going backwards the clock (newest packet time so far) is ahead of the
  // packet: the flow is expired on the clock, as the sweep would judge it.
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  const PacketView first = packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 0);
  table.upsert(first, flow::FlowTable::prepare(first), core::Timestamp{0}, dir);
  const PacketView late = packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 30);
  table.upsert(late, flow::FlowTable::prepare(late), core::Timestamp{100'000'000'000}, dir);
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::idle_timeout);
}

TEST(FlowTable, expired_closed_connection_met_on_lookup_ends_as_closed) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  // As FlowStage does: the tracker sees each segment, then touched() refreshes the
  // slot's deadline (the RST shortens the timeout to the closed linger).
  const PacketView syn = packet("10.0.0.1", 40000, "10.0.0.2", 80, kTcp, 0, decode::tcp_flag::syn);
  flow::Flow& f = table.upsert(syn, dir);
  f.tcp.on_segment(0, syn);
  table.touched(f);
  PacketView rst = packet("10.0.0.2", 80, "10.0.0.1", 40000, kTcp, 0.1,
                          decode::tcp_flag::rst | decode::tcp_flag::ack);
  table.upsert(rst, dir).tcp.on_segment(dir, rst);
  table.touched(f);
  // An ACK 10 s later (past the 5 s linger of a closed connection).
  table.upsert(packet("10.0.0.1", 40000, "10.0.0.2", 80, kTcp, 10.1, decode::tcp_flag::ack), dir);
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::closed);
}

// A closed connection stays as a tombstone for the closed linger: a late RST or a
// retransmitted FIN within it belongs to the same flow, no phantom row is made.
TEST(FlowTable, late_fin_and_rst_within_the_closed_linger_make_no_new_flow) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  const auto seg = [&](bool from_client, double t, std::uint8_t flags) -> flow::Flow& {
    const PacketView p = from_client ? packet("10.0.0.1", 40000, "10.0.0.2", 80, kTcp, t, flags)
                                     : packet("10.0.0.2", 80, "10.0.0.1", 40000, kTcp, t, flags);
    flow::Flow& f = table.upsert(p, dir);
    f.tcp.on_segment(dir, p);
    table.touched(f);
    return f;
  };
  using namespace decode::tcp_flag;
  flow::Flow& f = seg(true, 0, syn);
  seg(false, 0.01, syn | ack);
  seg(true, 0.02, ack);
  seg(true, 1, fin | ack);
  seg(false, 1.01, fin | ack);
  seg(true, 1.02, ack);
  EXPECT_EQ(table.size(), 1u);
  // Within the linger: the peer's FIN again (its ACK was lost), then a RST.
  EXPECT_EQ(&seg(false, 2, fin | ack), &f);
  EXPECT_EQ(&seg(true, 3, rst), &f);
  EXPECT_EQ(table.created(), 1u);
  EXPECT_TRUE(sink.ended.empty());
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, icmp_quote_lookup_ignores_and_ends_a_flow_past_its_timeout) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  table.upsert(packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 0), dir);
  const auto a = *core::IpAddress::parse("10.0.0.1");
  const auto b = *core::IpAddress::parse("10.0.0.2");
  EXPECT_NE(table.find(a, 40000, b, 53, kUdp, 0, 0, dir, core::Timestamp{59'000'000'000}), nullptr);
  EXPECT_EQ(table.find(a, 40000, b, 53, kUdp, 0, 0, dir, core::Timestamp{61'000'000'000}), nullptr);
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].second, flow::EndReason::idle_timeout);
  EXPECT_EQ(table.size(), 0u);
}

TEST(FlowTable, drain_at_end_of_input_ends_timed_out_flows_as_idle_and_the_rest_as_open) {
  RecordingSink sink;
  flow::FlowTable table({}, sink);
  int dir = -1;
  table.upsert(packet("10.0.0.1", 40000, "10.0.0.2", 53, kUdp, 0), dir);   // idle 100 s
  table.upsert(packet("10.0.0.1", 40001, "10.0.0.2", 53, kUdp, 90), dir);  // idle 10 s
  table.drain_at(core::Timestamp{100'000'000'000});
  ASSERT_EQ(sink.ended.size(), 2u);
  int idle = 0;
  int open = 0;
  for (const auto& [key, reason] : sink.ended) {
    const bool first = key.port_a == 40000 || key.port_b == 40000;
    EXPECT_EQ(reason, first ? flow::EndReason::idle_timeout : flow::EndReason::end_of_input);
    (first ? idle : open) += 1;
  }
  EXPECT_EQ(idle, 1);
  EXPECT_EQ(open, 1);
}
