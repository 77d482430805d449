// monitor::ShardedFlows and the Engine's front end feeding it (analyze --threads): which
// shard gets which packet, ICMP errors playing both their parts, later IP fragments
// keyed in packet order, and per-shard report builders merging into the same report as
// one builder.
#include "monitor/sharded_flows.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "../decode/packet_builder.hpp"
#include "analyze/report.hpp"
#include "monitor/engine.hpp"

using namespace netscope;
using decode::PacketView;

namespace {

// What the tests read of an ended flow (flows are move-only: they own DPI state).
struct EndedFlow {
  core::FlowKey key;
  std::uint32_t icmp_errors = 0;
  std::uint64_t packets = 0;
};

struct RecordingSink : monitor::EngineSink {
  std::vector<EndedFlow> ended;
  std::vector<bool> icmp_tied;  // per ICMP error: was the quoted flow found?
  void on_flow_end(const flow::Flow& f, flow::EndReason /*reason*/) override {
    ended.push_back({f.key, f.icmp_errors, f.total_packets()});
  }
  void on_icmp_error(const PacketView& /*icmp*/, const flow::Flow* f) override {
    icmp_tied.push_back(f != nullptr);
  }
};

PacketView udp_packet(std::uint32_t src, std::uint16_t sport, std::uint32_t dst,
                      std::uint16_t dport, std::int64_t t_ns) {
  PacketView v;
  v.layers = PacketView::kLink | PacketView::kIp | PacketView::kTransport;
  v.ip_version = 4;
  v.src = core::IpAddress::from_v4(src);
  v.dst = core::IpAddress::from_v4(dst);
  v.sport = sport;
  v.dport = dport;
  v.ip_proto = decode::ip_proto::udp;
  v.ip_bytes = 100;
  v.ts = core::Timestamp{t_ns};
  return v;
}

// A port-unreachable from `dst` quoting the UDP flow src:sport -> dst:dport.
PacketView port_unreachable(std::uint32_t src, std::uint16_t sport, std::uint32_t dst,
                            std::uint16_t dport, std::int64_t t_ns) {
  PacketView v;
  v.layers = PacketView::kLink | PacketView::kIp | PacketView::kTransport;
  v.ip_version = 4;
  v.src = core::IpAddress::from_v4(dst);
  v.dst = core::IpAddress::from_v4(src);
  v.ip_proto = decode::ip_proto::icmp;
  v.icmp_type = 3;
  v.icmp_code = 3;
  v.ip_bytes = 56;
  v.icmp_quote = {true,
                  core::IpAddress::from_v4(src),
                  core::IpAddress::from_v4(dst),
                  decode::ip_proto::udp,
                  sport,
                  dport};
  v.ts = core::Timestamp{t_ns};
  return v;
}

std::size_t shard_of_view(const PacketView& v, std::size_t n) {
  return monitor::ShardedFlows::shard_of(flow::FlowTable::prepare(v).tag, n);
}

}  // namespace

TEST(ShardedFlows, shard_choice_is_the_same_for_both_directions_and_spreads_flows) {
  std::vector<std::size_t> per_shard(3);
  for (std::uint16_t port = 1000; port < 1300; ++port) {
    const PacketView a = udp_packet(0x0a000001, port, 0x0a000002, 53, 0);
    const PacketView b = udp_packet(0x0a000002, 53, 0x0a000001, port, 0);
    ASSERT_EQ(shard_of_view(a, 3), shard_of_view(b, 3));
    ++per_shard[shard_of_view(a, 3)];
  }
  for (std::size_t n : per_shard) EXPECT_GT(n, 50u);
}

// The error is tied to the quoted flow in that flow's shard and counted as an ICMP flow
// in its own shard; the quoted flow gets its icmp_errors even when the two differ.
TEST(ShardedFlows, icmp_error_is_tied_in_the_quoted_flows_shard_and_counted_in_its_own) {
  // Find a UDP flow whose shard differs from the ICMP error's own flow's shard.
  std::uint16_t port = 1000;
  while (shard_of_view(udp_packet(0x0a000001, port, 0x0a000002, 53, 0), 2) ==
         shard_of_view(port_unreachable(0x0a000001, port, 0x0a000002, 53, 0), 2)) {
    ++port;
  }
  RecordingSink sinks[2];
  monitor::EngineSink* ptrs[2] = {&sinks[0], &sinks[1]};
  const std::size_t data_shard = shard_of_view(udp_packet(0x0a000001, port, 0x0a000002, 53, 0), 2);
  {
    monitor::ShardedFlows flows({}, ptrs);
    const PacketView data = udp_packet(0x0a000001, port, 0x0a000002, 53, 1'000'000);
    flows.route(data, flow::FlowTable::prepare(data), monitor::role::count, data.ts);
    const PacketView err = port_unreachable(0x0a000001, port, 0x0a000002, 53, 2'000'000);
    flows.route(err, flow::FlowTable::prepare(err),
                monitor::role::count | monitor::role::icmp_error, err.ts);
    flows.finish(err.ts);
    EXPECT_EQ(flows.stats(data_shard).icmp_errors, 1u);
    EXPECT_EQ(flows.stats(1 - data_shard).icmp_errors, 0u);
  }
  const RecordingSink& d = sinks[data_shard];
  const RecordingSink& other = sinks[1 - data_shard];
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_EQ(d.ended[0].key.proto, decode::ip_proto::udp);
  EXPECT_EQ(d.ended[0].icmp_errors, 1u);
  ASSERT_EQ(d.icmp_tied.size(), 1u);
  EXPECT_TRUE(d.icmp_tied[0]);
  ASSERT_EQ(other.ended.size(), 1u);
  EXPECT_EQ(other.ended[0].key.proto, decode::ip_proto::icmp);
  EXPECT_EQ(other.ended[0].packets, 1u);
  EXPECT_TRUE(other.icmp_tied.empty());
}

namespace {
struct RecordingRouter : monitor::PacketRouter {
  std::vector<PacketView> routed;
  std::vector<std::uint32_t> tags;
  void route(const PacketView& v, const flow::FlowTable::PreparedKey& key, std::uint8_t /*roles*/,
             core::Timestamp /*now*/) override {
    routed.push_back(v);
    tags.push_back(key.tag);
  }
  void finish(core::Timestamp /*end*/) override {}
};
}  // namespace

// A later fragment carries no ports: the front end gives it its first fragment's ports
// (in packet order) before it picks the shard, so both land on the flow's shard.
TEST(ShardedFlows, later_fragment_gets_the_first_fragments_ports_and_shard) {
  using namespace decode::test;
  const Bytes first =
      cat({eth(0x0800), ipv4({.proto = 17, .payload_len = 8 + 16, .frag = 0x2000, .id = 77}),
           udp(40000, 53, 100), filler(16)});
  const Bytes later = cat(
      {eth(0x0800), ipv4({.proto = 17, .payload_len = 40, .frag = 0x0003, .id = 77}), filler(40)});
  RecordingRouter router;
  monitor::Engine engine({}, router);
  for (const Bytes* frame : {&first, &later}) {
    capture::RawPacket pkt;
    pkt.data = std::span<const std::uint8_t>(frame->data(), frame->size());
    pkt.orig_len = static_cast<std::uint32_t>(frame->size());
    pkt.linktype = 1;
    engine.process(pkt);
  }
  ASSERT_EQ(router.routed.size(), 2u);
  EXPECT_EQ(router.routed[1].sport, 40000);
  EXPECT_EQ(router.routed[1].dport, 53);
  EXPECT_EQ(router.tags[0], router.tags[1]);
}

// Per-shard builders merged give the same lists and totals as one builder, whatever
// order the conversations ended in.
TEST(ReportBuilder, merged_shards_equal_one_builder_and_ties_do_not_depend_on_end_order) {
  std::vector<flow::Flow> flows;
  for (int i = 0; i < 40; ++i) {
    flow::Flow f;
    f.key = core::make_flow_key(core::IpAddress::from_v4(0x0a000001),
                                static_cast<std::uint16_t>(1000 + i),
                                core::IpAddress::from_v4(0x0a000002), 53, decode::ip_proto::udp)
                .key;
    f.first_seen = core::Timestamp{(i % 7) * 1'000'000};
    f.last_seen = f.first_seen;
    f.dir[0].packets = 1;
    f.dir[0].bytes = static_cast<std::uint64_t>(100 * (i % 3));  // many ties
    flows.push_back(std::move(f));
  }
  analyze::ReportBuilder one(5, nullptr);
  for (const flow::Flow& f : flows) one.on_flow_end(f, flow::EndReason::idle_timeout);
  analyze::ReportBuilder a(5, nullptr);
  analyze::ReportBuilder b(5, nullptr);
  for (std::size_t i = flows.size(); i-- > 0;) {
    (i % 2 == 0 ? a : b).on_flow_end(flows[i], flow::EndReason::idle_timeout);
  }
  b.merge(a);
  const auto describe_all = [](const std::vector<analyze::Conversation>& list) {
    std::vector<std::string> out;
    for (const auto& c : list)
      out.push_back(analyze::describe(c) + " " + std::to_string(c.first_seen.ns));
    return out;
  };
  EXPECT_EQ(describe_all(one.top_by_bytes()), describe_all(b.top_by_bytes()));
  EXPECT_EQ(describe_all(one.top_by_severity()), describe_all(b.top_by_severity()));
  EXPECT_EQ(one.totals().conversations, b.totals().conversations);
  EXPECT_EQ(one.totals().by_proto.at("udp").bytes, b.totals().by_proto.at("udp").bytes);
}
