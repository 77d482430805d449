// Severity scoring: conservative weights, plain-language reasons, level boundaries.
#include "analyze/score.hpp"

#include <gtest/gtest.h>

#include "analyze/report.hpp"

using namespace netscope;
using analyze::Conversation;
using analyze::Level;

namespace {

Conversation clean_tcp_transfer() {
  Conversation c;
  c.proto = decode::ip_proto::tcp;
  c.client = {*core::IpAddress::parse("10.0.0.1"), 40000};
  c.server = {*core::IpAddress::parse("10.0.0.2"), 80};
  c.dir[0].packets = 500;
  c.dir[0].data_packets = 1;
  c.dir[1].packets = 1000;
  c.dir[1].data_packets = 1000;
  c.dir[1].bytes = 1'500'000;
  c.rtt.handshake_ms = 12.0;
  return c;
}

}  // namespace

TEST(Score, clean_transfer_scores_zero_with_no_reasons) {
  Conversation c = clean_tcp_transfer();
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 0);
  EXPECT_EQ(c.level(), Level::none);
  EXPECT_TRUE(c.reasons.empty());
}

TEST(Score, retransmission_points_scale_with_percentage_and_are_capped) {
  Conversation c = clean_tcp_transfer();
  c.dir[1].tcp.retransmissions = 20;  // 2% of 1000 data segments -> 10 points
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 10);
  ASSERT_EQ(c.reasons.size(), 1u);
  EXPECT_NE(c.reasons[0].find("2.0% of server→client segments retransmitted (20 of 1000)"),
            std::string::npos)
      << c.reasons[0];
  c.dir[1].tcp.retransmissions = 1;  // 0.1% still earns the minimum point
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 1);
  EXPECT_EQ(c.level(), Level::low);
  c.dir[1].tcp.retransmissions = 900;  // 90% -> capped at 60
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 60);
  EXPECT_EQ(c.level(), Level::medium);
}

TEST(Score, refused_and_unanswered_connections_are_high) {
  Conversation refused = clean_tcp_transfer();
  refused.setup = analyze::SetupProblem::refused;
  analyze::score_conversation(refused);
  EXPECT_EQ(refused.score, 100);
  EXPECT_EQ(refused.level(), Level::high);

  Conversation silent = clean_tcp_transfer();
  silent.setup = analyze::SetupProblem::syn_unanswered;
  silent.dir[0].packets = 3;
  silent.dir[0].tcp.retransmissions = 2;  // re-sent SYNs are part of the set-up problem
  analyze::score_conversation(silent);
  EXPECT_EQ(silent.score, 100);
  EXPECT_EQ(silent.reasons.front(), "SYN never answered (3 SYNs sent)");
}

TEST(Score, zero_window_names_the_stalled_receiver_and_reasons_are_sorted_by_weight) {
  Conversation c = clean_tcp_transfer();
  c.dir[0].tcp.zero_windows = 4;    // 10 + 8 = 18 points, client is the receiver
  c.dir[0].tcp.dup_ack_events = 1;  // 5 points
  c.dir[1].tcp.out_of_order = 10;   // 1% -> 2 points
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 25);
  ASSERT_EQ(c.reasons.size(), 3u);
  EXPECT_EQ(c.reasons[0].rfind("client advertised a zero window 4 times", 0), 0u) << c.reasons[0];
  EXPECT_NE(c.reasons[1].find("duplicate ACKs"), std::string::npos);
  EXPECT_NE(c.reasons[2].find("out of order"), std::string::npos);
}

TEST(Score, slow_handshake_and_icmp_unreachable) {
  Conversation c = clean_tcp_transfer();
  c.rtt.handshake_ms = 878.0;
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 20);
  c.rtt.handshake_ms = 250.0;
  analyze::score_conversation(c);
  EXPECT_EQ(c.score, 10);

  Conversation udp;
  udp.proto = decode::ip_proto::udp;
  udp.icmp_errors = 1;
  udp.icmp_version = 4;
  udp.icmp_type = 3;
  udp.icmp_code = 3;
  analyze::score_conversation(udp);
  EXPECT_EQ(udp.score, 50);
  EXPECT_NE(udp.reasons[0].find("port unreachable"), std::string::npos);
}

TEST(Level, boundaries_follow_the_conventions) {
  EXPECT_EQ(analyze::level_of(0), Level::none);
  EXPECT_EQ(analyze::level_of(1), Level::low);
  EXPECT_EQ(analyze::level_of(49), Level::low);
  EXPECT_EQ(analyze::level_of(50), Level::medium);
  EXPECT_EQ(analyze::level_of(99), Level::medium);
  EXPECT_EQ(analyze::level_of(100), Level::high);
}

TEST(ReportBuilder, keeps_only_the_top_n_by_severity_and_by_bytes) {
  std::size_t streamed = 0;
  analyze::ReportBuilder report(3, [&streamed](const Conversation&) { ++streamed; });
  flow::Flow f;
  f.key = core::make_flow_key(*core::IpAddress::parse("10.0.0.1"), 1000,
                              *core::IpAddress::parse("10.0.0.2"), 53, decode::ip_proto::udp)
              .key;
  for (int i = 0; i < 10; ++i) {
    f.dir[0].packets = 1;
    f.dir[0].bytes = static_cast<std::uint64_t>(100 * (i + 1));
    f.icmp_errors = (i == 4) ? 1 : 0;
    f.icmp_type = 3;
    f.icmp_code = 3;
    f.icmp_version = 4;
    report.on_flow_end(f, flow::EndReason::idle_timeout);
  }
  EXPECT_EQ(streamed, 10u);
  const auto by_bytes = report.top_by_bytes();
  ASSERT_EQ(by_bytes.size(), 3u);
  EXPECT_EQ(by_bytes[0].total_bytes(), 1000u);
  EXPECT_EQ(by_bytes[2].total_bytes(), 800u);
  const auto by_sev = report.top_by_severity();
  ASSERT_EQ(by_sev.size(), 3u);
  EXPECT_EQ(by_sev[0].score, 50);
  EXPECT_EQ(by_sev[0].total_bytes(), 500u);
  EXPECT_EQ(report.totals().conversations, 10u);
  EXPECT_EQ(report.totals().by_level[static_cast<int>(Level::medium)], 1u);
}
