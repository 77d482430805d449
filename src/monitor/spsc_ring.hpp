#pragma once
// SpscRing: a bounded single-producer, single-consumer ring that hands packets from the
// reading thread to one flow shard (analyze --threads). No locks: each side owns one
// index and reads the other's with acquire loads. The producer publishes its writes in
// small batches, so the two cores do not trade a cache line per packet.
//
// Either side blocks (C++20 atomic wait, a futex on Linux) instead of spinning for long
// when it has nothing to do: with more threads than cores a spinning thread would take
// the core the other side needs. Hysteresis keeps the wake-ups rare: a sleeping
// consumer is woken once a quarter of the ring is waiting (or on flush()), a producer
// waiting for room once half the ring is free. Offline input loses nothing: a full ring
// makes the producer wait.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace netscope::monitor {

template <typename T>
class SpscRing {
 public:
  // `capacity` is rounded up to a power of two, at least 8.
  explicit SpscRing(std::size_t capacity) {
    std::size_t cap = 8;
    while (cap < capacity) cap *= 2;
    capacity_ = static_cast<std::uint32_t>(cap);
    slots_ = std::make_unique<T[]>(cap);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const { return capacity_; }

  // Producer: the next slot to fill, waiting while the ring is full. Fill it, then commit().
  T& claim() {
    if (write_ - cached_read_ == capacity_) wait_for_room();
    return slots_[write_ & (capacity_ - 1)];
  }
  void commit() {
    ++write_;
    if (write_ - published_ >= kPublishEvery) publish(false);
  }
  // Producer: makes every committed slot visible and wakes the consumer.
  void flush() { publish(true); }

  // Consumer: waits until at least one slot is readable; returns how many (<= max).
  std::size_t wait_readable(std::size_t max) {
    std::uint32_t avail = cached_write_ - read_;
    if (avail == 0) {
      cached_write_ = written_.load(std::memory_order_acquire);
      avail = cached_write_ - read_;
      for (int spin = 0; avail == 0 && spin < kSpins; ++spin) {
        pause();
        cached_write_ = written_.load(std::memory_order_acquire);
        avail = cached_write_ - read_;
      }
      while (avail == 0) {
        sleep_read_.store(read_, std::memory_order_relaxed);
        consumer_sleeping_.store(1, std::memory_order_seq_cst);
        const std::uint32_t w = written_.load(std::memory_order_seq_cst);
        if (w == read_) written_.wait(w, std::memory_order_acquire);
        consumer_sleeping_.store(0, std::memory_order_relaxed);
        cached_write_ = written_.load(std::memory_order_acquire);
        avail = cached_write_ - read_;
      }
    }
    return avail < max ? avail : max;
  }
  // Consumer: the i-th readable slot (i < the count wait_readable() returned).
  T& peek(std::size_t i) { return slots_[(read_ + i) & (capacity_ - 1)]; }
  // Consumer: gives `n` slots back to the producer.
  void release(std::size_t n) {
    read_ += static_cast<std::uint32_t>(n);
    read_index_.store(read_, std::memory_order_seq_cst);
    if (producer_sleeping_.load(std::memory_order_seq_cst) != 0 &&
        capacity_ - (write_snapshot() - read_) >= capacity_ / 2) {
      producer_sleeping_.store(0, std::memory_order_relaxed);
      read_index_.notify_one();
    }
  }

 private:
  static constexpr std::uint32_t kPublishEvery = 32;
  static constexpr int kSpins = 256;
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  // What the consumer knows of the producer's position (for the wake-up hysteresis).
  std::uint32_t write_snapshot() const {
    return written_.load(std::memory_order_relaxed);
  }

  void publish(bool wake_always) {
    published_ = write_;
    written_.store(write_, std::memory_order_seq_cst);
    if (consumer_sleeping_.load(std::memory_order_seq_cst) != 0 &&
        (wake_always || write_ - sleep_read_.load(std::memory_order_relaxed) >= capacity_ / 4)) {
      written_.notify_one();
    }
  }

  void wait_for_room() {
    cached_read_ = read_index_.load(std::memory_order_acquire);
    if (write_ - cached_read_ < capacity_) return;
    // The consumer may be asleep waiting for slots we have not published yet.
    flush();
    for (int spin = 0; spin < kSpins; ++spin) {
      pause();
      cached_read_ = read_index_.load(std::memory_order_acquire);
      if (write_ - cached_read_ < capacity_) return;
    }
    while (true) {
      producer_sleeping_.store(1, std::memory_order_seq_cst);
      const std::uint32_t r = read_index_.load(std::memory_order_seq_cst);
      cached_read_ = r;
      if (capacity_ - (write_ - r) >= capacity_ / 2) break;
      read_index_.wait(r, std::memory_order_acquire);
    }
    producer_sleeping_.store(0, std::memory_order_relaxed);
    cached_read_ = read_index_.load(std::memory_order_acquire);
  }

  std::unique_ptr<T[]> slots_;
  std::uint32_t capacity_ = 0;

  // Producer side.
  alignas(64) std::uint32_t write_ = 0;
  std::uint32_t published_ = 0;
  std::uint32_t cached_read_ = 0;
  alignas(64) std::atomic<std::uint32_t> written_{0};
  alignas(64) std::atomic<std::uint32_t> producer_sleeping_{0};

  // Consumer side.
  alignas(64) std::uint32_t read_ = 0;
  std::uint32_t cached_write_ = 0;
  alignas(64) std::atomic<std::uint32_t> read_index_{0};
  alignas(64) std::atomic<std::uint32_t> consumer_sleeping_{0};
  std::atomic<std::uint32_t> sleep_read_{0};  // read_ when the consumer went to sleep
};

}  // namespace netscope::monitor
