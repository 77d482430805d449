// Deep inspection on the engine's packet path (FlowStage): fields of ended flows, DNS
// transactions handed to the sink, unanswered queries reported when their flow ends,
// samples that describe only the flows whose fields changed, and --no-dpi.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../decode/packet_builder.hpp"
#include "capture/file_reader.hpp"
#include "monitor/engine.hpp"
#include "monitor/flow_sample.hpp"

namespace netscope::monitor {
namespace {

struct DpiSink : EngineSink {
  std::vector<FlowSample> ended;
  std::vector<dpi::DnsEvent> dns;
  void on_flow_end(const flow::Flow& f, flow::EndReason reason) override {
    ended.push_back(sample_ended_flow(f, reason));
  }
  void on_dns_event(const flow::Flow& f, dpi::DnsEvent&& e) override {
    EXPECT_EQ(f.key.proto, e.tcp ? decode::ip_proto::tcp : decode::ip_proto::udp);
    dns.push_back(std::move(e));
  }
};

const std::string kHttpCapture = std::string(NETSCOPE_PCAPS) + "/packetmancer/captures_http.cap";

// Feeds a whole capture file to `engine` (without finishing it).
void feed(const std::string& path, Engine& engine) {
  capture::FileReader reader;
  reader.open(path);
  capture::RawPacket pkt;
  while (reader.next(pkt)) engine.process(pkt);
}

std::size_t described(const std::vector<FlowSample>& samples) {
  std::size_t n = 0;
  for (const FlowSample& s : samples) n += s.dpi != nullptr;
  return n;
}

// The DNS query of Wireshark's http.cap sample (its frame 14) and its answer, as tshark
// shows them: pagead2.googlesyndication.com A, answered through two CNAMEs.
TEST(EngineDpi, http_and_dns_of_a_capture_reach_the_sink) {
  DpiSink sink;
  Engine engine({}, sink);
  feed(kHttpCapture, engine);
  engine.finish();

  ASSERT_EQ(sink.dns.size(), 1u);
  const dpi::DnsEvent& e = sink.dns[0];
  EXPECT_EQ(e.query, "pagead2.googlesyndication.com");
  EXPECT_EQ(e.qtype, "A");
  EXPECT_EQ(e.rcode, "NOERROR");
  EXPECT_EQ(e.server.to_string(), "145.253.2.203");
  std::vector<std::string> answers;
  for (const dpi::DnsAnswer& a : e.answers) answers.push_back(a.text());
  EXPECT_EQ(answers, (std::vector<std::string>{"pagead2.google.com", "pagead.google.akadns.net",
                                               "216.239.59.104", "216.239.59.99"}));
  ASSERT_TRUE(e.latency_ms);

  bool saw_page = false;
  for (const FlowSample& s : sink.ended) {
    if (!s.dpi || s.dpi->http_host != "www.ethereal.com") continue;
    saw_page = true;
    EXPECT_EQ(s.dpi->app, "HTTP");
    EXPECT_EQ(s.dpi->http_method, "GET");
    EXPECT_EQ(s.dpi->http_path, "/download.html");
    EXPECT_EQ(s.dpi->http_status, 200);
  }
  EXPECT_TRUE(saw_page);
  EXPECT_GE(engine.stats().dpi.sessions, 3u);  // two HTTP connections and the DNS flow
}

TEST(EngineDpi, samples_describe_only_flows_whose_fields_changed) {
  DpiSink sink;
  Engine engine({}, sink);
  feed(kHttpCapture, engine);
  std::vector<FlowSample> first;
  engine.sample_flows(first);
  ASSERT_FALSE(first.empty());
  EXPECT_GE(described(first), 2u);
  std::vector<FlowSample> second;
  engine.sample_flows(second);
  EXPECT_EQ(second.size(), first.size());
  EXPECT_EQ(described(second), 0u);  // nothing new since the first sample
  // The plain sampler (a reader holding the table const) describes every known flow.
  std::size_t known = 0;
  engine.flows().for_each(
      [&](const flow::Flow& f) { known += sample_flow(f, engine.flows()).dpi != nullptr; });
  EXPECT_EQ(known, described(first));
}

TEST(EngineDpi, a_query_without_answer_is_reported_when_its_flow_ends) {
  using namespace decode::test;
  const Bytes query = cat({be16(0x1234),
                           be16(0x0100),
                           be16(1),
                           be16(0),
                           be16(0),
                           be16(0),
                           {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0},
                           be16(1),
                           be16(1)});
  const auto size = static_cast<std::uint16_t>(query.size());
  const Bytes frame =
      cat({eth(0x0800), ipv4({.proto = 17, .payload_len = static_cast<std::uint16_t>(8 + size)}),
           udp(40000, 53, size), query});
  DpiSink sink;
  Engine engine({}, sink);
  capture::RawPacket pkt;
  pkt.data = std::span<const std::uint8_t>(frame.data(), frame.size());
  pkt.orig_len = static_cast<std::uint32_t>(frame.size());
  pkt.linktype = 1;
  pkt.ts = core::Timestamp{1'000'000'000};
  engine.process(pkt);
  EXPECT_TRUE(sink.dns.empty());  // still waiting for the answer
  engine.finish();
  ASSERT_EQ(sink.dns.size(), 1u);
  EXPECT_EQ(sink.dns[0].query, "example.com");
  EXPECT_FALSE(sink.dns[0].rcode);
  EXPECT_FALSE(sink.dns[0].latency_ms);
  ASSERT_EQ(sink.ended.size(), 1u);
  ASSERT_NE(sink.ended[0].dpi, nullptr);
  EXPECT_EQ(sink.ended[0].dpi->app, "DNS");
  EXPECT_EQ(sink.ended[0].dpi->state, "DNS_QUERY");
  EXPECT_EQ(engine.stats().dpi.dns_unanswered, 1u);
}

TEST(EngineDpi, no_dpi_inspects_nothing) {
  DpiSink sink;
  EngineConfig config;
  config.dpi = false;
  Engine engine(config, sink);
  feed(kHttpCapture, engine);
  std::vector<FlowSample> samples;
  engine.sample_flows(samples);
  EXPECT_EQ(described(samples), 0u);
  engine.finish();
  EXPECT_TRUE(sink.dns.empty());
  EXPECT_EQ(described(sink.ended), 0u);
  EXPECT_EQ(engine.stats().dpi.sessions, 0u);
  EXPECT_EQ(engine.dpi_counters().sessions, 0u);
}

TEST(DnsEventQueue, keeps_up_to_its_capacity_and_counts_the_rest) {
  DnsEventQueue q(2);
  flow::Flow f;
  f.first_seen = core::Timestamp{5};
  for (int i = 0; i < 3; ++i) {
    dpi::DnsEvent e;
    e.query = "q" + std::to_string(i);
    q.push(f, std::move(e));
  }
  EXPECT_EQ(q.dropped(), 1u);
  std::vector<FlowDnsEvent> out;
  q.take(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].event.query, "q1");
  EXPECT_EQ(out[1].flow_first_seen.ns, 5);
  EXPECT_EQ(q.size(), 0u);
  dpi::DnsEvent e;
  e.query = "q3";
  q.push(f, std::move(e));
  q.take(out);  // appended
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].event.query, "q3");
  EXPECT_EQ(q.dropped(), 1u);
}

}  // namespace
}  // namespace netscope::monitor
