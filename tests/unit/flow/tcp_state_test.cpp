// Connection state as the observer infers it (named as the client's socket would be,
// RFC 9293 §3.3.2), RST handling, refused connections and handshake timing.

#include <gtest/gtest.h>

#include "tcp_test_util.hpp"

namespace netscope::flow::test {
namespace {

TEST(TcpState, handshake_moves_syn_sent_syn_recv_established) {
  Conn c;
  EXPECT_EQ(c.tracker.state(), TcpState::none);
  c.send(0, {.t_us = 0, .flags = kSyn, .seq = Conn::kC});
  EXPECT_EQ(c.tracker.state(), TcpState::syn_sent);
  EXPECT_TRUE(c.tracker.syn_seen());
  c.send(1, {.t_us = 10'000, .flags = kSynAck, .seq = Conn::kS, .ack = Conn::kC + 1});
  EXPECT_EQ(c.tracker.state(), TcpState::syn_recv);
  EXPECT_TRUE(c.tracker.syn_ack_seen());
  EXPECT_FALSE(c.tracker.handshake_done());
  c.send(0, {.t_us = 25'000, .flags = kAck, .seq = Conn::kC + 1, .ack = Conn::kS + 1});
  EXPECT_EQ(c.tracker.state(), TcpState::established);
  EXPECT_TRUE(c.tracker.handshake_done());
  EXPECT_EQ(tcp_state_name(c.tracker.state()), "ESTABLISHED");
}

TEST(TcpState, handshake_rtt_is_syn_to_handshake_ack_with_both_halves) {
  Conn c;
  c.send(0, {.t_us = 0, .flags = kSyn, .seq = Conn::kC});
  c.send(1, {.t_us = 30'000, .flags = kSynAck, .seq = Conn::kS, .ack = Conn::kC + 1});
  c.send(0, {.t_us = 30'500, .flags = kAck, .seq = Conn::kC + 1, .ack = Conn::kS + 1});
  ASSERT_TRUE(c.tracker.handshake_rtt_ms());
  EXPECT_DOUBLE_EQ(*c.tracker.handshake_rtt_ms(), 30.5);
  EXPECT_DOUBLE_EQ(*c.tracker.syn_to_syn_ack_ms(), 30.0);
  EXPECT_DOUBLE_EQ(*c.tracker.syn_ack_to_ack_ms(), 0.5);
}

TEST(TcpState, handshake_rtt_starts_at_last_syn_when_syn_was_retransmitted) {
  Conn c;
  c.send(0, {.t_us = 0, .flags = kSyn, .seq = Conn::kC});
  const auto flags = c.send(0, {.t_us = 1'000'000, .flags = kSyn, .seq = Conn::kC});
  EXPECT_TRUE(flags & ta::retransmission) << "tshark flags a re-sent SYN as a retransmission";
  c.send(1, {.t_us = 1'020'000, .flags = kSynAck, .seq = Conn::kS, .ack = Conn::kC + 1});
  c.send(0, {.t_us = 1'040'000, .flags = kAck, .seq = Conn::kC + 1, .ack = Conn::kS + 1});
  EXPECT_DOUBLE_EQ(*c.tracker.handshake_rtt_ms(), 40.0);
  EXPECT_EQ(c.tracker.health(0).retransmissions, 1u);
}

TEST(TcpState, incomplete_handshake_has_no_rtt) {
  Conn c;
  c.send(0, {.t_us = 0, .flags = kSyn, .seq = Conn::kC});
  EXPECT_FALSE(c.tracker.handshake_rtt_ms());
  EXPECT_FALSE(c.tracker.syn_to_syn_ack_ms());
}

TEST(TcpState, client_close_goes_fin_wait1_fin_wait2_time_wait) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .flags = kFinAck, .seq = Conn::kC + 1, .ack = Conn::kS + 1});
  EXPECT_EQ(c.tracker.state(), TcpState::fin_wait1);
  c.send(1, {.t_us = 40'000, .flags = kAck, .seq = Conn::kS + 1, .ack = Conn::kC + 2});
  EXPECT_EQ(c.tracker.state(), TcpState::fin_wait2);
  c.send(1, {.t_us = 50'000, .flags = kFinAck, .seq = Conn::kS + 1, .ack = Conn::kC + 2});
  EXPECT_EQ(c.tracker.state(), TcpState::time_wait);
  c.send(0, {.t_us = 60'000, .flags = kAck, .seq = Conn::kC + 2, .ack = Conn::kS + 2});
  EXPECT_EQ(c.tracker.state(), TcpState::time_wait);
}

TEST(TcpState, server_close_goes_close_wait_last_ack_closed) {
  Conn c;
  c.handshake();
  c.send(1, {.t_us = 30'000, .flags = kFinAck, .seq = Conn::kS + 1, .ack = Conn::kC + 1});
  EXPECT_EQ(c.tracker.state(), TcpState::close_wait);
  c.send(0, {.t_us = 40'000, .flags = kFinAck, .seq = Conn::kC + 1, .ack = Conn::kS + 2});
  EXPECT_EQ(c.tracker.state(), TcpState::last_ack);
  c.send(1, {.t_us = 50'000, .flags = kAck, .seq = Conn::kS + 2, .ack = Conn::kC + 2});
  EXPECT_EQ(c.tracker.state(), TcpState::closed);
}

TEST(TcpState, simultaneous_close_passes_through_closing) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .flags = kFinAck, .seq = Conn::kC + 1, .ack = Conn::kS + 1});
  c.send(1, {.t_us = 30'100, .flags = kFinAck, .seq = Conn::kS + 1, .ack = Conn::kC + 1});
  EXPECT_EQ(c.tracker.state(), TcpState::closing);
  c.send(1, {.t_us = 40'000, .flags = kAck, .seq = Conn::kS + 2, .ack = Conn::kC + 2});
  EXPECT_EQ(c.tracker.state(), TcpState::time_wait);
}

TEST(TcpState, rst_closes_and_names_the_resetting_side) {
  Conn c;
  c.handshake();
  const auto flags =
      c.send(1, {.t_us = 30'000, .flags = kRstAck, .seq = Conn::kS + 1, .ack = Conn::kC + 1});
  EXPECT_TRUE(flags & ta::rst);
  EXPECT_EQ(c.tracker.state(), TcpState::closed);
  EXPECT_EQ(c.tracker.reset_by(), 1);
  EXPECT_EQ(c.tracker.health(1).rsts, 1u);
  EXPECT_EQ(c.tracker.health(0).rsts, 0u);
  EXPECT_FALSE(c.tracker.refused());
}

TEST(TcpState, syn_answered_by_rst_is_refused) {
  Conn c;
  c.send(0, {.t_us = 0, .flags = kSyn, .seq = Conn::kC});
  c.send(1, {.t_us = 1'000, .flags = kRstAck, .seq = 0, .ack = Conn::kC + 1, .window = 0});
  EXPECT_TRUE(c.tracker.refused());
  EXPECT_EQ(c.tracker.reset_by(), 1);
  EXPECT_EQ(c.tracker.state(), TcpState::closed);
  EXPECT_EQ(c.tracker.health(1).zero_windows, 0u) << "a RST's zero window is not a zero window";
  // The client retries (chrissanders/nowebaccess2.pcapng): the same SYN again is a
  // retransmission and the connection is back in SYN_SENT.
  const auto flags = c.send(0, {.t_us = 500'000, .flags = kSyn, .seq = Conn::kC});
  EXPECT_TRUE(flags & ta::retransmission);
  EXPECT_EQ(c.tracker.state(), TcpState::syn_sent);
}

TEST(TcpState, mid_stream_pickup_is_established_and_raises_no_flags) {
  Conn c;
  std::uint32_t all = 0;
  // Capture starts in the middle of a bulk transfer: data one way, ACKs the other.
  for (std::uint32_t i = 0; i < 20; ++i) {
    all |= c.send(
        0, {.t_us = i * 1000, .flags = kAck, .seq = 77'000 + i * 100, .ack = 9'000, .len = 100});
    all |= c.send(
        1, {.t_us = i * 1000 + 500, .flags = kAck, .seq = 9'000, .ack = 77'000 + (i + 1) * 100});
  }
  EXPECT_EQ(c.tracker.state(), TcpState::established);
  EXPECT_EQ(all, 0u);
  EXPECT_FALSE(c.tracker.syn_seen());
  EXPECT_EQ(c.tracker.window_scale(0), -1) << "scale unknown without SYNs";
}

TEST(TcpState, new_syn_with_other_isn_starts_a_new_connection) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .flags = kRstAck, .seq = Conn::kC + 1, .ack = Conn::kS + 1});
  const auto flags = c.send(0, {.t_us = 40'000, .flags = kSyn, .seq = 123'456});
  EXPECT_EQ(flags, 0u) << "port reuse is not a retransmission";
  EXPECT_EQ(c.tracker.state(), TcpState::syn_sent);
  EXPECT_EQ(c.tracker.reset_by(), -1);
}

TEST(TcpState, tracker_stays_small_enough_to_live_inline_in_every_flow) {
  EXPECT_LE(sizeof(TcpTracker), 1024u);
}

}  // namespace
}  // namespace netscope::flow::test
