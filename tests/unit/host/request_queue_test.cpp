// RequestQueue: bounded, never blocking, and lossless across several producers.

#include "host/request_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace netscope::host {
namespace {

TEST(RequestQueue, refuses_when_full_and_keeps_fifo_order) {
  RequestQueue<int> queue(3);  // rounded up to 4
  EXPECT_EQ(queue.capacity(), 4u);
  EXPECT_FALSE(queue.ready());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(queue.try_push(i));
  EXPECT_FALSE(queue.try_push(99));
  EXPECT_TRUE(queue.ready());
  int out = -1;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.try_pop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(queue.ready());
  EXPECT_FALSE(queue.try_pop(out));
  // Wraps around.
  for (int round = 0; round < 10; ++round) {
    EXPECT_TRUE(queue.try_push(round));
    ASSERT_TRUE(queue.try_pop(out));
    EXPECT_EQ(out, round);
  }
}

TEST(RequestQueue, every_item_of_every_producer_arrives_exactly_once) {
  constexpr int kProducers = 3;
  constexpr int kPerProducer = 20000;
  RequestQueue<int> queue(64);
  std::atomic<int> refused{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        // A full ring refuses; the producer here retries so the count can be checked.
        while (!queue.try_push(p * kPerProducer + i)) {
          refused.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<int> seen(kProducers * kPerProducer, 0);
  std::vector<int> last(kProducers, -1);
  int received = 0;
  while (received < kProducers * kPerProducer) {
    int value = 0;
    if (!queue.try_pop(value)) {
      std::this_thread::yield();
      continue;
    }
    ++seen[value];
    // Items of one producer keep their order.
    const int producer = value / kPerProducer;
    EXPECT_GT(value, last[producer]);
    last[producer] = value;
    ++received;
  }
  for (std::thread& t : producers) t.join();
  for (const int count : seen) ASSERT_EQ(count, 1);
  int extra = 0;
  EXPECT_FALSE(queue.try_pop(extra));
}

}  // namespace
}  // namespace netscope::host
