// ARP on the engine's packet path: Ethernet frames carrying an ARP request and its reply
// are decoded, keyed and counted as one conversation (flow/arp.hpp) whose bytes are the
// 28-byte ARP messages (not the padded frames), whose state the tick shows as ARP_REQUEST
// then ARP_REPLY, and which no process owns.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../decode/packet_builder.hpp"
#include "flow/arp.hpp"
#include "monitor/engine.hpp"
#include "monitor/flow_sample.hpp"
#include "monitor/tick_builder.hpp"
#include "scripted_resolver.hpp"

namespace netscope::monitor {
namespace {

using decode::test::be16;
using decode::test::be32;
using decode::test::Bytes;
using decode::test::cat;

struct Sink : EngineSink {
  std::vector<FlowSample> ended;
  void on_flow_end(const flow::Flow& f, flow::EndReason reason) override {
    ended.push_back(sample_ended_flow(f, reason));
  }
};

const Bytes kMacA{0x02, 0, 0, 0, 0, 0x0a};
const Bytes kMacB{0x02, 0, 0, 0, 0, 0x0b};
const Bytes kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Ethernet + RFC 826 ARP for IPv4, padded to the 60-byte Ethernet minimum as on the wire.
Bytes arp_frame(std::uint16_t op, const Bytes& dst_mac, const Bytes& sha, std::uint32_t spa,
                const Bytes& tha, std::uint32_t tpa) {
  Bytes f = cat({dst_mac,
                 sha,
                 be16(0x0806),
                 be16(1),
                 be16(0x0800),
                 {6, 4},
                 be16(op),
                 sha,
                 be32(spa),
                 tha,
                 be32(tpa)});
  f.resize(60, 0);
  return f;
}

capture::RawPacket raw(const Bytes& frame, double t) {
  capture::RawPacket p;
  p.ts = core::Timestamp{static_cast<std::int64_t>(t * 1e9)};
  p.data = std::span<const std::uint8_t>(frame.data(), frame.size());
  p.orig_len = static_cast<std::uint32_t>(frame.size());
  p.linktype = 1;  // LINKTYPE_ETHERNET
  return p;
}

constexpr std::uint32_t kA = 0x0a000001;  // 10.0.0.1, asks
constexpr std::uint32_t kB = 0x0a000002;  // 10.0.0.2, answers

TEST(EngineArp, request_and_reply_are_one_conversation_of_arp_message_bytes) {
  Sink sink;
  Engine engine({}, sink);
  const Bytes request = arp_frame(1, kBroadcast, kMacA, kA, Bytes(6, 0), kB);
  const Bytes reply = arp_frame(2, kMacA, kMacB, kB, kMacA, kA);
  engine.process(raw(request, 1.0));

  std::vector<FlowSample> samples;
  engine.sample_flows(samples);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].key.proto, flow::kArpProto);
  EXPECT_EQ(tracked_state(samples[0], core::Timestamp{1'000'000'000}), "ARP_REQUEST");
  EXPECT_EQ(proto_name(samples[0].key.proto), "arp");

  engine.process(raw(reply, 1.0002));
  samples.clear();
  engine.sample_flows(samples);
  ASSERT_EQ(samples.size(), 1u);
  const FlowSample& s = samples[0];
  EXPECT_EQ(tracked_state(s, core::Timestamp{1'000'200'000}), "ARP_REPLY");
  // Idle past three quarters of its timeout it still shows the exchange, as echo flows do.
  EXPECT_EQ(tracked_state(s, core::Timestamp{25'000'000'000}), "ARP_REPLY");
  EXPECT_EQ(s.client_addr().to_string(), "10.0.0.1");
  EXPECT_EQ(s.dir[flow::kClientToServer].packets, 1u);
  EXPECT_EQ(s.dir[flow::kServerToClient].packets, 1u);
  EXPECT_EQ(s.dir[flow::kClientToServer].bytes, 28u);
  EXPECT_EQ(s.dir[flow::kServerToClient].bytes, 28u);
  EXPECT_EQ(s.dir[0].payload_bytes + s.dir[1].payload_bytes, 0u);
  EXPECT_EQ(s.timeout_ns, 30'000'000'000);
  EXPECT_EQ(engine.stats().arp_packets, 2u);
  EXPECT_EQ(engine.stats().ip_packets, 0u);
  EXPECT_EQ(engine.stats().ip_bytes, 0u);  // ARP bytes are the flow's, not IP bytes

  engine.finish();
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].end_reason, flow::EndReason::end_of_input);
  EXPECT_EQ(tracked_state(sink.ended[0], core::Timestamp{2'000'000'000}), "ARP_REPLY");
}

TEST(EngineArp, rarp_and_unanswered_requests) {
  Sink sink;
  Engine engine({}, sink);
  // RARP (ethertype 0x8035, operation 3) is counted as ARP but makes no conversation.
  Bytes rarp = arp_frame(3, kBroadcast, kMacA, kA, kMacA, kB);
  rarp[12] = 0x80;
  rarp[13] = 0x35;
  const Bytes unanswered = arp_frame(1, kBroadcast, kMacA, kA, Bytes(6, 0), 0x0a000063);
  engine.process(raw(rarp, 1.0));
  engine.process(raw(unanswered, 2.0));
  engine.finish();
  EXPECT_EQ(engine.stats().arp_packets, 2u);
  ASSERT_EQ(sink.ended.size(), 1u);
  EXPECT_EQ(sink.ended[0].key.proto, flow::kArpProto);
  EXPECT_EQ(tracked_state(sink.ended[0], core::Timestamp{3'000'000'000}), "ARP_REQUEST");
}

// Live: the peer asks for our address and we answer. The connection is ours on the local
// side, belongs to no socket (the kernel answers ARP itself) and so to <UNKNOWN>.
TEST(EngineArp, the_tick_shows_our_address_as_local_and_no_process) {
  Sink sink;
  Engine engine({}, sink);
  const Bytes request = arp_frame(1, kBroadcast, kMacB, kB, Bytes(6, 0), kA);
  const Bytes reply = arp_frame(2, kMacB, kMacA, kA, kMacB, kB);
  engine.process(raw(request, 1.0));
  engine.process(raw(reply, 1.0001));
  TickInput in;
  in.time = core::Timestamp{2'000'000'000};
  in.started = core::Timestamp{0};
  in.interfaces = {InterfaceStatus{"veth0", 0, true, ""}};
  engine.sample_flows(in.flows);

  test::ScriptedResolver resolver;
  TickBuilderConfig cfg;
  cfg.is_local = [](const core::IpAddress& a) { return a == core::IpAddress::from_v4(kA); };
  cfg.resolver = &resolver;
  TickBuilder builder(cfg);
  const Snapshot snap = builder.tick(std::move(in));
  ASSERT_EQ(snap.connections.size(), 1u);
  const ConnectionRecord& c = snap.connections[0];
  EXPECT_EQ(c.proto_name, "arp");
  EXPECT_EQ(c.state, "ARP_REPLY");
  EXPECT_EQ(c.local_addr.to_string(), "10.0.0.1");
  EXPECT_EQ(c.remote_addr.to_string(), "10.0.0.2");
  EXPECT_EQ(c.attribution, "unknown:kernel");
  EXPECT_FALSE(c.pid);
  EXPECT_EQ(c.bytes_up, 28u);  // our reply
  EXPECT_EQ(c.bytes_down, 28u);
  EXPECT_EQ(c.packets_up, 1u);
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_EQ(snap.processes[0].name, "<UNKNOWN>");
}

}  // namespace
}  // namespace netscope::monitor
