// Data RTT samples from ACKs, with Karn's rule (RFC 6298 §3).

#include <gtest/gtest.h>

#include "flow/tcp_seq.hpp"
#include "tcp_test_util.hpp"

namespace netscope::flow::test {
namespace {

constexpr std::uint32_t C1 = Conn::kC + 1;
constexpr std::uint32_t S1 = Conn::kS + 1;

TEST(TcpRtt, ack_covering_a_segment_exactly_gives_one_sample) {
  Conn c;
  c.handshake();  // the SYN/ACK's ACK is itself a sample (20 ms - 10 ms)
  const auto base = c.tracker.rtt().count();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(1, {.t_us = 42'500, .seq = S1, .ack = C1 + 100});
  ASSERT_EQ(c.tracker.rtt().count(), base + 1);
  EXPECT_DOUBLE_EQ(*c.tracker.rtt().max_ms(), 12.5);
}

TEST(TcpRtt, ack_stamped_before_its_data_gives_no_sample) {
  // Merged captures and clock steps can put an ACK's timestamp before the data's: that is
  // no RTT (the unsigned difference once read as ~71 minutes).
  Conn c;
  c.handshake();
  const auto base = c.tracker.rtt().count();
  c.send(0, {.t_us = 50'000, .seq = C1, .ack = S1, .len = 100});
  c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 100});
  EXPECT_EQ(c.tracker.rtt().count(), base);
  EXPECT_LT(*c.tracker.rtt().max_ms(), 1000.0);
}

TEST(TcpRtt, handshake_with_time_going_backwards_has_no_rtt) {
  Conn c;
  c.send(0, {.t_us = 100'000, .flags = kSyn, .seq = Conn::kC, .ack = 0});
  c.send(1, {.t_us = 50'000, .flags = kSynAck, .seq = Conn::kS, .ack = C1});
  c.send(0, {.t_us = 60'000, .flags = kAck, .seq = C1, .ack = S1});
  EXPECT_TRUE(c.tracker.handshake_done());
  EXPECT_FALSE(c.tracker.handshake_rtt_ms().has_value());
  EXPECT_FALSE(c.tracker.syn_to_syn_ack_ms().has_value());
  EXPECT_TRUE(c.tracker.syn_ack_to_ack_ms().has_value());
}

TEST(TcpRtt, karn_rule_no_sample_from_a_retransmitted_segment) {
  Conn c;
  c.handshake();
  const auto base = c.tracker.rtt().count();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(0, {.t_us = 330'000, .seq = C1, .ack = S1, .len = 100});  // RTO retransmission
  c.send(1, {.t_us = 335'000, .seq = S1, .ack = C1 + 100});
  EXPECT_EQ(c.tracker.rtt().count(), base) << "the ACK may answer either copy";
  // The next, unambiguous segment samples again.
  c.send(0, {.t_us = 400'000, .seq = C1 + 100, .ack = S1, .len = 100});
  c.send(1, {.t_us = 405'000, .seq = S1, .ack = C1 + 200});
  EXPECT_EQ(c.tracker.rtt().count(), base + 1);
  EXPECT_DOUBLE_EQ(*c.tracker.rtt().min_ms(), 5.0);
}

TEST(TcpRtt, dup_acks_and_acks_inside_a_segment_give_no_sample) {
  Conn c;
  c.handshake();
  const auto base = c.tracker.rtt().count();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});
  c.send(0, {.t_us = 30'100, .seq = C1 + 100, .ack = S1, .len = 100});
  c.send(1, {.t_us = 40'000, .seq = S1, .ack = C1 + 50});  // partial ACK
  c.send(1, {.t_us = 40'100, .seq = S1, .ack = C1 + 50});  // dup
  EXPECT_EQ(c.tracker.rtt().count(), base);
  c.send(1, {.t_us = 50'000, .seq = S1, .ack = C1 + 200});  // covers the second exactly
  EXPECT_EQ(c.tracker.rtt().count(), base + 1);
}

// Both directions' outstanding segments share one list (tcp_tracker.hpp): an ACK retires
// only the peer's segments, and each side's data still gets its own sample.
TEST(TcpRtt, both_directions_outstanding_at_once_each_get_their_sample) {
  Conn c;
  c.handshake();
  const auto base = c.tracker.rtt().count();
  c.send(0, {.t_us = 30'000, .seq = C1, .ack = S1, .len = 100});  // request
  c.send(
      1,
      {.t_us = 31'000, .seq = S1, .ack = C1, .len = 300});  // server data, before the request's ACK
  c.send(0, {.t_us = 32'000, .seq = C1 + 100, .ack = S1, .len = 50});  // more from the client
  // The server ACKs the request only: one sample (7 ms); the client's second segment and
  // the server's own data stay outstanding.
  c.send(1, {.t_us = 37'000, .seq = S1 + 300, .ack = C1 + 100});
  ASSERT_EQ(c.tracker.rtt().count(), base + 1);
  EXPECT_DOUBLE_EQ(*c.tracker.rtt().max_ms(), 10.0);  // the handshake's samples are 10 ms
  // The server ACKs the client's second segment (9 ms after it), then the client the
  // server's data (16 ms after it).
  c.send(1, {.t_us = 41'000, .seq = S1 + 300, .ack = C1 + 150});
  c.send(0, {.t_us = 47'000, .seq = C1 + 150, .ack = S1 + 300});
  ASSERT_EQ(c.tracker.rtt().count(), base + 3);
  EXPECT_DOUBLE_EQ(*c.tracker.rtt().min_ms(), 7.0);
  EXPECT_DOUBLE_EQ(*c.tracker.rtt().max_ms(), 16.0);
}

TEST(TcpRtt, outstanding_queue_is_bounded_and_keeps_the_newest_segments) {
  Conn c;
  c.handshake();
  const auto base = c.tracker.rtt().count();
  for (std::uint32_t i = 0; i < 40; ++i) {
    c.send(0, {.t_us = 30'000 + i, .seq = C1 + i * 10, .ack = S1, .len = 10});
  }
  for (std::uint32_t i = 0; i < 40; ++i) {
    c.send(1, {.t_us = 50'000 + i, .seq = S1, .ack = C1 + (i + 1) * 10});
  }
  const auto samples = c.tracker.rtt().count() - base;
  EXPECT_GT(samples, 0u);
  EXPECT_LT(samples, 40u);
}

}  // namespace
}  // namespace netscope::flow::test

namespace netscope::flow::test {
namespace {

// The tracker keeps times as the low 32 bits of µs (tcp_seq.hpp): gaps across the wrap
// stay right, and a time slightly before another is a negative gap, as with full times.
TEST(TcpTime, elapsed_us_across_the_wrap_and_backwards) {
  static_assert(elapsed_us(5, 0xFFFF'FFFFu) == 6);
  static_assert(elapsed_us(0, 10) == -10);
  static_assert(elapsed_us(0x2000'0000u, 0) == 0x2000'0000);
  EXPECT_EQ(micros32(std::int64_t{0x1'0000'0005} * 1000), 5u);
  // One hour of gap (3.6e9 µs, past 2^31) is still a forward gap.
  EXPECT_EQ(elapsed_us(micros32(3'600'000'000'000), 0), 3'600'000'000);
}

}  // namespace
}  // namespace netscope::flow::test
