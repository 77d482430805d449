// Per-segment classification, against the definitions in the Wireshark User's Guide
// ("TCP Analysis") and the tshark 4.0 behaviour the agreement test checks on captures.

#include <gtest/gtest.h>

#include "tcp_test_util.hpp"

namespace netscope::flow::test {
namespace {

constexpr std::uint32_t C1 = Conn::kC + 1;  // client's first data byte
constexpr std::uint32_t S1 = Conn::kS + 1;  // server's first data byte

TEST(TcpAnalysis, in_order_data_and_acks_raise_no_flags) {
  Conn c;
  c.handshake();
  std::uint32_t all = 0;
  for (std::uint32_t i = 0; i < 10; ++i) {
    all |= c.send(0, {.t_us = 30'000 + i * 1000, .seq = C1 + i * 100, .ack = S1, .len = 100});
    all |= c.send(1, {.t_us = 30'500 + i * 1000, .seq = S1, .ack = C1 + (i + 1) * 100});
  }
  EXPECT_EQ(all, 0u);
}

TEST(TcpAnalysis, retransmission_after_rto_is_not_fast_retransmission) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(0, {.t_us = 31'000, .seq = C1 + 100, .ack = S1, .len = 100});
  c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 100});
  const auto flags = c.send(0, {.t_us = 300'000, .seq = C1 + 100, .ack = S1, .len = 100});
  EXPECT_EQ(flags, ta::retransmission);
  EXPECT_EQ(c.tracker.health(0).retransmissions, 1u);
  EXPECT_EQ(c.tracker.health(0).fast_retransmissions, 0u);
}

TEST(TcpAnalysis, retransmission_right_after_three_dup_acks_is_fast) {
  Conn c;
  c.handshake();
  for (std::uint32_t i = 0; i < 5; ++i) {
    c.send(0, {.t_us = 30'000 + i * 100, .seq = C1 + i * 100, .ack = S1, .len = 100});
  }
  c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 100});
  std::uint32_t dups[3];
  for (int i = 0; i < 3; ++i)
    dups[i] = c.send(1, {.t_us = 40'100 + i * 100, .seq = S1, .ack = C1 + 100});
  EXPECT_EQ(dups[0], ta::dup_ack);
  EXPECT_EQ(dups[1], ta::dup_ack);
  EXPECT_EQ(dups[2], ta::dup_ack | ta::dup_ack_event);
  const auto flags = c.send(0, {.t_us = 41'000, .seq = C1 + 100, .ack = S1, .len = 100});
  EXPECT_EQ(flags, ta::retransmission | ta::fast_retransmission);
  // Conventions: retransmissions counts fast ones too; fast is a subset.
  EXPECT_EQ(c.tracker.health(0).retransmissions, 1u);
  EXPECT_EQ(c.tracker.health(0).fast_retransmissions, 1u);
  EXPECT_EQ(c.tracker.health(1).dup_acks, 3u);
  EXPECT_EQ(c.tracker.health(1).dup_ack_events, 1u);
}

TEST(TcpAnalysis, retransmission_20ms_after_the_last_dup_ack_is_not_fast) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(0, {.t_us = 30'100, .seq = C1 + 100, .ack = S1, .len = 100});
  c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 100});
  for (int i = 0; i < 3; ++i) c.send(1, {.t_us = 40'100 + i * 100, .seq = S1, .ack = C1 + 100});
  const auto flags = c.send(0, {.t_us = 70'000, .seq = C1 + 100, .ack = S1, .len = 100});
  EXPECT_EQ(flags, ta::retransmission);
}

TEST(TcpAnalysis, resending_data_the_peer_already_acked_is_spurious) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 100});
  const auto flags = c.send(0, {.t_us = 300'000, .seq = C1, .ack = S1, .len = 100});
  EXPECT_EQ(flags, ta::retransmission | ta::spurious_retransmission);
  EXPECT_EQ(c.tracker.health(0).retransmissions, 1u);
  EXPECT_EQ(c.tracker.health(0).spurious_retransmissions, 1u);
}

// Mid-stream pickup: no iRTT, so the out-of-order threshold is tshark's default 3 ms.
TEST(TcpAnalysis, gap_filler_within_3ms_is_out_of_order_not_retransmission) {
  Conn c;
  c.send(0, {.t_us = 0, .seq = 10'000, .ack = 1, .len = 100});
  EXPECT_EQ(c.send(0, {.t_us = 1'000, .seq = 10'200, .ack = 1, .len = 100}), ta::lost_segment);
  EXPECT_EQ(c.send(0, {.t_us = 3'000, .seq = 10'100, .ack = 1, .len = 100}), ta::out_of_order);
  EXPECT_EQ(c.tracker.health(0).out_of_order, 1u);
  EXPECT_EQ(c.tracker.health(0).retransmissions, 0u);
  EXPECT_EQ(c.tracker.health(0).lost_segments, 1u);
}

TEST(TcpAnalysis, gap_filler_after_3ms_is_retransmission) {
  Conn c;
  c.send(0, {.t_us = 0, .seq = 10'000, .ack = 1, .len = 100});
  c.send(0, {.t_us = 1'000, .seq = 10'200, .ack = 1, .len = 100});
  EXPECT_EQ(c.send(0, {.t_us = 4'100, .seq = 10'100, .ack = 1, .len = 100}), ta::retransmission);
}

TEST(TcpAnalysis, out_of_order_threshold_is_the_initial_rtt_when_known) {
  Conn c;
  c.handshake(-1, -1, 10'000);  // iRTT = 20 ms
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(0, {.t_us = 31'000, .seq = C1 + 200, .ack = S1, .len = 100});
  EXPECT_EQ(c.send(0, {.t_us = 45'000, .seq = C1 + 100, .ack = S1, .len = 100}), ta::out_of_order);
  c.send(0, {.t_us = 46'000, .seq = C1 + 400, .ack = S1, .len = 100});
  EXPECT_EQ(c.send(0, {.t_us = 67'000, .seq = C1 + 300, .ack = S1, .len = 100}),
            ta::retransmission);
}

TEST(TcpAnalysis, sequence_numbers_wrap_around_2_pow_32_without_false_flags) {
  Conn c;
  const std::uint32_t isn = 0xFFFF'FF00u;
  c.handshake(-1, -1, 10'000, isn);
  std::uint32_t all = 0;
  std::uint32_t seq = isn + 1;
  for (int i = 0; i < 6; ++i) {  // 6 x 100 bytes crosses 2^32 at the third segment
    all |= c.send(0, {.t_us = 30'000 + i * 1000, .seq = seq, .ack = S1, .len = 100});
    all |= c.send(1, {.t_us = 30'500 + i * 1000, .seq = S1, .ack = seq + 100});
    seq += 100;
  }
  EXPECT_EQ(all, 0u);
  EXPECT_LT(seq, isn) << "the test must have wrapped";
  // Resending the segment that straddles the wrap is still a (spurious) retransmission.
  const auto flags = c.send(0, {.t_us = 500'000, .seq = isn + 201, .ack = S1, .len = 100});
  EXPECT_TRUE(flags & ta::retransmission);
  // And a gap right after the wrap is still a gap.
  EXPECT_EQ(c.send(0, {.t_us = 501'000, .seq = seq + 50, .ack = S1, .len = 100}), ta::lost_segment);
}

TEST(TcpAnalysis, window_scale_applies_only_when_both_syns_carry_it) {
  Conn both;
  both.handshake(7, 2);
  both.send(1, {.t_us = 30'000, .seq = S1, .ack = C1, .window = 100});
  EXPECT_EQ(both.tracker.window_scale(1), 2);
  EXPECT_EQ(both.tracker.window_bytes(1), 400u);

  Conn one;
  one.handshake(7, -1);
  one.send(1, {.t_us = 30'000, .seq = S1, .ack = C1, .window = 100});
  EXPECT_EQ(one.tracker.window_scale(1), -2);
  EXPECT_EQ(one.tracker.window_bytes(1), 100u);
}

TEST(TcpAnalysis, segment_filling_the_scaled_window_is_window_full) {
  Conn c;
  c.handshake(7, 2);
  c.send(1, {.t_us = 30'000, .seq = S1, .ack = C1, .window = 50});  // 200 bytes
  EXPECT_EQ(c.send(0, {.t_us = 31'000, .seq = C1, .ack = S1, .len = 100}), 0u);
  EXPECT_EQ(c.send(0, {.t_us = 32'000, .seq = C1 + 100, .ack = S1, .len = 100}), ta::window_full);
  EXPECT_EQ(c.tracker.health(0).window_full, 1u);
}

TEST(TcpAnalysis, zero_window_is_counted_and_a_window_update_follows) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  EXPECT_EQ(c.send(1, {.t_us = 31'000, .seq = S1, .ack = C1 + 100, .window = 0}), ta::zero_window);
  EXPECT_EQ(c.send(1, {.t_us = 32'000, .seq = S1, .ack = C1 + 100, .window = 0}), ta::zero_window)
      << "a repeated zero window is not a dup ACK (the window must be non-zero)";
  EXPECT_EQ(c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 100, .window = 800}),
            ta::window_update);
  EXPECT_EQ(c.tracker.health(1).zero_windows, 2u);
  EXPECT_EQ(c.tracker.health(1).dup_acks, 0u);
}

TEST(TcpAnalysis, zero_window_probes_are_neither_retransmissions_nor_keep_alives) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(1, {.t_us = 31'000, .seq = S1, .ack = C1 + 100, .window = 0});
  // The same byte probed again and again (RFC 9293 §3.8.6.1) stays a probe.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(c.send(0, {.t_us = 300'000 * i, .seq = C1 + 100, .ack = S1, .len = 1}),
              ta::zero_window_probe);
    EXPECT_EQ(c.send(1, {.t_us = 300'000 * i + 100, .seq = S1, .ack = C1 + 100, .window = 0}),
              ta::zero_window);
  }
  EXPECT_EQ(c.tracker.health(0).retransmissions, 0u);
  EXPECT_EQ(c.tracker.health(0).keep_alives, 0u);
  // A zero-byte probe one below the next expected byte is a keep-alive to tshark
  // (chrissanders/tcp_zerowindowdead.pcapng frames 3, 5, 7).
  EXPECT_EQ(c.send(0, {.t_us = 2'000'000, .seq = C1 + 99, .ack = S1}), ta::keep_alive);
  // Once the window opens, the probed byte is sent for real: not a retransmission.
  c.send(1, {.t_us = 2'100'000, .seq = S1, .ack = C1 + 100, .window = 1000});
  EXPECT_EQ(c.send(0, {.t_us = 2'200'000, .seq = C1 + 100, .ack = S1, .len = 100}), 0u);
}

TEST(TcpAnalysis, keep_alive_is_not_counted_as_retransmission_and_its_ack_is_not_dup_ack) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(1, {.t_us = 31'000, .seq = S1, .ack = C1 + 100});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.send(0, {.t_us = 60'000'000 * (i + 1), .seq = C1 + 99, .ack = S1}), ta::keep_alive);
    EXPECT_EQ(c.send(1, {.t_us = 60'000'000 * (i + 1) + 100, .seq = S1, .ack = C1 + 100}), 0u);
  }
  // Linux sends one garbage byte in its keep-alive probes (RFC 9293 §3.8.4).
  EXPECT_EQ(c.send(0, {.t_us = 300'000'000, .seq = C1 + 99, .ack = S1, .len = 1}), ta::keep_alive);
  EXPECT_EQ(c.tracker.health(0).keep_alives, 4u);
  EXPECT_EQ(c.tracker.health(0).retransmissions, 0u);
  EXPECT_EQ(c.tracker.health(1).dup_acks, 0u);
}

TEST(TcpAnalysis, dup_ack_events_count_runs_of_three_or_more_once_each) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 1000});
  std::uint32_t ack = C1;
  std::int64_t t = 40'000;
  for (const int run : {5, 3, 2}) {
    ack += 100;
    c.send(1, {.t_us = t++, .seq = S1, .ack = ack});  // new ACK, starts a run
    for (int i = 0; i < run; ++i) c.send(1, {.t_us = t++, .seq = S1, .ack = ack});
  }
  EXPECT_EQ(c.tracker.health(1).dup_acks, 10u);
  EXPECT_EQ(c.tracker.health(1).dup_ack_events, 2u);
}

TEST(TcpAnalysis, gap_is_previous_segment_lost_and_ack_beyond_data_is_ack_unseen) {
  Conn c;
  c.handshake();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  EXPECT_EQ(c.send(0, {.t_us = 31'000, .seq = C1 + 300, .ack = S1, .len = 100}), ta::lost_segment);
  EXPECT_EQ(c.send(1, {.t_us = 32'000, .seq = S1, .ack = C1 + 400}), ta::ack_unseen);
  EXPECT_EQ(c.send(1, {.t_us = 33'000, .seq = S1, .ack = C1 + 400}), ta::dup_ack)
      << "the same unseen ACK is reported once";
}

TEST(TcpAnalysis, rst_with_any_sequence_number_is_not_a_gap) {
  Conn c;
  c.handshake();
  EXPECT_EQ(c.send(0, {.t_us = 30'000, .flags = kRst, .seq = C1 + 5000, .window = 0}), ta::rst);
}

}  // namespace
}  // namespace netscope::flow::test
