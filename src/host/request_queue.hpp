#pragma once
// RequestQueue: a bounded multi-producer, single-consumer ring of trivially copyable
// requests (D. Vyukov's bounded queue: one sequence number per slot). The packet thread
// and a SYN-watch thread push; the attribution thread pops. Pushing never blocks and
// never allocates: a full ring refuses the request and the caller counts it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace netscope::host {

template <typename T>
class RequestQueue {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  // `capacity` is rounded up to a power of two, at least 2. Allocates once, here.
  explicit RequestQueue(std::size_t capacity) {
    std::size_t cap = 2;
    while (cap < capacity) cap *= 2;
    mask_ = cap - 1;
    slots_ = std::make_unique<Slot[]>(cap);
    for (std::size_t i = 0; i < cap; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  RequestQueue(const RequestQueue&) = delete;
  RequestQueue& operator=(const RequestQueue&) = delete;

  std::size_t capacity() const { return mask_ + 1; }

  // Any thread. False when the ring is full.
  bool try_push(const T& value) noexcept {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      const std::size_t seq = slot.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          slot.value = value;
          slot.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the consumer has not freed this slot yet: full
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // The consumer thread only: whether try_pop() would succeed, without taking anything.
  bool ready() const noexcept {
    return slots_[tail_ & mask_].seq.load(std::memory_order_acquire) == tail_ + 1;
  }

  // The consumer thread only. False when nothing is ready.
  bool try_pop(T& out) noexcept {
    Slot& slot = slots_[tail_ & mask_];
    if (slot.seq.load(std::memory_order_acquire) != tail_ + 1) return false;
    out = slot.value;
    slot.seq.store(tail_ + mask_ + 1, std::memory_order_release);
    ++tail_;
    return true;
  }

 private:
  struct Slot {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_ = 0;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::size_t tail_ = 0;
};

}  // namespace netscope::host
