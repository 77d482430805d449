#pragma once
// RecorderRing: the bounded single-producer, single-consumer byte ring between the
// packet path and the recorder's writer thread. Records are variable-sized (a header and
// the frame's bytes), laid out contiguously; one that does not fit before the end of the
// buffer starts at its beginning after a wrap marker. The producer never waits: when the
// record does not fit in the free space, try_push() returns false and the caller counts
// the loss. The consumer polls (the writer sleeps a few milliseconds when it is empty),
// so the packet path makes no system call to wake it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "core/flow_key.hpp"

namespace netscope::monitor {

enum class RecordKind : std::uint8_t {
  wrap,    // the rest of the buffer is unused; continue at offset 0
  packet,  // a frame of flow `key`, for recording `recording` (0: not decided yet)
  decide,  // flow `key` now belongs to `recording` (or to none, 0): flush or drop its wait
  start,   // recording `recording` begins (its details are in the recorder's table)
  stop,    // recording `recording` ends
  tick,    // a refresh passed (ages the pre-attribution buffers)
};

struct RecordHeader {
  std::uint32_t size = 0;  // header + data, rounded up to 8
  RecordKind kind = RecordKind::packet;
  std::uint8_t reserved[3] = {};
  std::uint32_t recording = 0;
  std::uint32_t cap_len = 0;
  std::uint32_t orig_len = 0;
  std::uint32_t interface_id = 0;
  std::int32_t linktype = 0;
  std::uint32_t reserved2 = 0;
  std::int64_t ts_ns = 0;
  core::FlowKey key;
};

class RecorderRing {
 public:
  // `bytes` is rounded up to a multiple of 8, at least 64 KiB.
  explicit RecorderRing(std::size_t bytes) {
    size_ = std::max<std::size_t>((bytes + 7) & ~std::size_t{7}, std::size_t{64} << 10);
    buf_ = std::make_unique<std::uint8_t[]>(size_);
  }

  // Producer: copies the header and `data` in; false when they do not fit.
  bool try_push(RecordHeader h, std::span<const std::uint8_t> data) {
    const std::size_t need = round8(sizeof(RecordHeader) + data.size());
    if (need > size_ / 2) return false;
    const std::uint64_t read = read_.load(std::memory_order_acquire);
    std::size_t at = static_cast<std::size_t>(write_pos_ % size_);
    std::uint64_t advance = need;
    if (at + need > size_) advance += size_ - at;  // skip to the start
    if (write_pos_ + advance - read > size_) return false;
    if (at + need > size_) {
      RecordHeader wrap;
      wrap.kind = RecordKind::wrap;
      wrap.size = static_cast<std::uint32_t>(size_ - at);
      if (size_ - at >= sizeof(RecordHeader)) std::memcpy(buf_.get() + at, &wrap, sizeof wrap);
      at = 0;
    }
    h.size = static_cast<std::uint32_t>(need);
    h.cap_len = static_cast<std::uint32_t>(data.size());
    std::memcpy(buf_.get() + at, &h, sizeof h);
    if (!data.empty()) std::memcpy(buf_.get() + at + sizeof h, data.data(), data.size());
    write_pos_ += advance;
    write_.store(write_pos_, std::memory_order_release);
    return true;
  }

  // Consumer: calls fn(header, data) for every record published so far, then frees them.
  // Returns how many records it saw.
  template <typename Fn>
  std::size_t drain(Fn&& fn) {
    const std::uint64_t end = write_.load(std::memory_order_acquire);
    std::uint64_t pos = read_.load(std::memory_order_relaxed);
    std::size_t n = 0;
    while (pos < end) {
      const std::size_t at = static_cast<std::size_t>(pos % size_);
      if (size_ - at < sizeof(RecordHeader)) {  // too short for a marker: implicit wrap
        pos += size_ - at;
        continue;
      }
      RecordHeader h;
      std::memcpy(&h, buf_.get() + at, sizeof h);
      if (h.kind == RecordKind::wrap) {
        pos += size_ - at;
        continue;
      }
      fn(h, std::span<const std::uint8_t>(buf_.get() + at + sizeof h, h.cap_len));
      pos += h.size;
      ++n;
    }
    read_.store(pos, std::memory_order_release);
    return n;
  }

 private:
  static std::size_t round8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

  std::size_t size_ = 0;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::uint64_t write_pos_ = 0;  // producer's own copy
  alignas(64) std::atomic<std::uint64_t> write_{0};
  alignas(64) std::atomic<std::uint64_t> read_{0};
};

}  // namespace netscope::monitor
