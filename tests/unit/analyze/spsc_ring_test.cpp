// monitor::SpscRing, the hand-over between the reading thread and a flow shard
// (analyze --threads). Lives with the analyze tests, the mode that uses it.
#include "monitor/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

using netscope::monitor::SpscRing;

TEST(SpscRing, capacity_is_rounded_up_to_a_power_of_two) {
  EXPECT_EQ(SpscRing<int>(1).capacity(), 8u);
  EXPECT_EQ(SpscRing<int>(100).capacity(), 128u);
  EXPECT_EQ(SpscRing<int>(1024).capacity(), 1024u);
}

TEST(SpscRing, single_thread_fill_and_drain_keeps_order_across_the_wrap) {
  SpscRing<int> ring(8);
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 8; ++i) {  // fill it completely: claim() must not block
      ring.claim() = next_in++;
      ring.commit();
    }
    ring.flush();
    std::size_t n = ring.wait_readable(100);
    ASSERT_EQ(n, 8u);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(ring.peek(i), next_out++);
    ring.release(n);
  }
}

TEST(SpscRing, committed_slots_become_visible_on_flush) {
  SpscRing<int> ring(64);
  ring.claim() = 7;
  ring.commit();
  ring.flush();
  ASSERT_EQ(ring.wait_readable(16), 1u);
  EXPECT_EQ(ring.peek(0), 7);
  ring.release(1);
}

// A small ring between two threads: every value arrives once, in order, and neither
// side deadlocks when the other sleeps (full ring, empty ring, the final flush).
TEST(SpscRing, two_threads_pass_every_value_in_order_through_a_small_ring) {
  constexpr std::uint64_t kCount = 300'000;
  SpscRing<std::uint64_t> ring(16);
  std::uint64_t sum = 0;
  bool in_order = true;
  std::thread consumer([&] {
    std::uint64_t expect = 0;
    while (expect < kCount) {
      const std::size_t n = ring.wait_readable(5);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t v = ring.peek(i);
        in_order = in_order && v == expect;
        sum += v;
        ++expect;
      }
      ring.release(n);
    }
  });
  for (std::uint64_t i = 0; i < kCount; ++i) {
    ring.claim() = i;
    ring.commit();
    if (i % 1000 == 999) std::this_thread::yield();  // let the consumer go to sleep
  }
  ring.flush();
  consumer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(sum, kCount * (kCount - 1) / 2);
}
