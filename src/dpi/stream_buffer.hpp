#pragma once
// Bounded reassembly (ARCHITECTURE.md: dpi must not exceed per-flow byte caps).
//
// StreamBuffer holds a window of one byte stream (a TCP direction, or the CRYPTO stream of
// a QUIC packet number space) that may arrive out of order and overlapping. Bytes are
// addressed by their offset from the start of the stream. The window starts at the
// oldest unread byte and is at most `cap` bytes long; bytes past it are dropped and
// counted as truncated. Holes are tracked as a short list of filled ranges; a segment
// that would need more ranges than that is dropped and counted too.
//
// ReassemblyBudget bounds the bytes all buffers of one Inspector may hold (the "in
// total" cap). A buffer reserves from it before growing and gives the bytes back when it
// shrinks or dies, so the budget must outlive its buffers: sessions keep it alive
// through a shared_ptr.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dpi/reader.hpp"

namespace netscope::dpi {

struct ReassemblyBudget {
  std::size_t limit = 0;
  std::size_t used = 0;
  std::uint64_t refused = 0;  // reservations refused because the total cap was reached

  bool reserve(std::size_t n) {
    if (n > limit - used) {
      ++refused;
      return false;
    }
    used += n;
    return true;
  }
  void release(std::size_t n) { used -= n < used ? n : used; }
};

class StreamBuffer {
 public:
  // At most this many disjoint filled ranges (holes + 1) are tracked.
  static constexpr std::size_t kMaxRanges = 8;

  StreamBuffer(std::size_t cap, std::shared_ptr<ReassemblyBudget> budget)
      : cap_(cap), budget_(std::move(budget)) {}
  ~StreamBuffer();
  StreamBuffer(StreamBuffer&& other) noexcept;
  StreamBuffer& operator=(StreamBuffer&& other) noexcept;
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;

  // Copies `data`, which starts at stream offset `offset`, into the window. Bytes before
  // the window (already consumed) are ignored; bytes after it are counted as truncated.
  // Returns false when some new byte could not be kept.
  bool insert(std::uint64_t offset, Bytes data);

  // The unread bytes from the window start up to the first hole.
  Bytes contiguous() const;
  // Marks `n` contiguous bytes as read and slides the window past them.
  void consume(std::size_t n) { advance_to(start_ + std::min(n, contiguous().size())); }
  // Slides the window start to stream offset `offset`, discarding everything before it
  // (read without being buffered, or skipped over, holes included).
  void advance_to(std::uint64_t offset);
  // Moves the window start back by `n` bytes (data and holes shift up), for a stream
  // whose start turns out to be earlier than first assumed. Only while nothing has been
  // consumed; returns false otherwise or when kept bytes would not fit.
  bool rebase(std::size_t n);

  std::uint64_t window_start() const { return start_; }  // stream offset of the oldest unread byte
  std::uint64_t end() const;  // one past the highest buffered offset (start_ when empty)
  bool has_gap() const { return ranges_n_ > 1 || (ranges_n_ == 1 && ranges_[0].begin != 0); }
  std::size_t buffered() const { return data_.size(); }
  std::size_t cap() const { return cap_; }
  std::uint64_t truncated_bytes() const { return truncated_; }
  // Releases the memory (the stream is no longer of interest); later inserts are dropped.
  void close();
  bool closed() const { return closed_; }

 private:
  struct Range {
    std::uint32_t begin;  // relative to start_
    std::uint32_t end;
  };
  bool grow_to(std::size_t size);
  bool add_range(std::uint32_t begin, std::uint32_t end);

  std::size_t cap_;
  std::shared_ptr<ReassemblyBudget> budget_;
  std::vector<std::uint8_t> data_;  // window bytes; size() is what the budget holds
  std::array<Range, kMaxRanges> ranges_{};
  std::uint8_t ranges_n_ = 0;
  bool closed_ = false;
  std::uint64_t start_ = 0;
  std::uint64_t truncated_ = 0;
};

}  // namespace netscope::dpi
