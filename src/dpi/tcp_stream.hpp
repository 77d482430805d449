#pragma once
// TcpStream: one direction of a TCP connection as the DPI parsers read it, from its first
// byte, in order, with retransmitted bytes removed and out-of-order segments held back
// until the hole before them is filled (by TCP sequence number, RFC 9293 §3.4).
//
// The stream starts at ISN + 1 when the SYN was seen. Without a SYN the first segment is
// taken as the start; a later segment just before it (captured out of order) moves the
// start back as long as nothing has been read yet.
//
// feed() returns the unread in-order bytes. When nothing is buffered and the segment is
// the next one expected (the common case), the view points into the segment itself and
// nothing is copied; consume() then keeps only the bytes the parser did not use. So a
// ClientHello, HTTP request or SSH banner that fits in one segment is parsed in place.

#include <cstdint>
#include <memory>

#include "dpi/stream_buffer.hpp"

namespace netscope::dpi {

class TcpStream {
 public:
  TcpStream(std::size_t cap, std::shared_ptr<ReassemblyBudget> budget)
      : buf_(cap, std::move(budget)) {}

  // The SYN's sequence number: the stream starts right after it.
  void set_syn(std::uint32_t syn_seq);
  bool started() const { return have_start_; }

  // Adds a segment and returns the unread contiguous bytes; valid until the next call.
  Bytes feed(std::uint32_t seq, Bytes payload);
  // `n` bytes of the view last returned by feed() were used.
  void consume(std::size_t n);
  // Skips the stream forward to `offset` (relative to its start), e.g. over the body of
  // a message whose bytes do not matter.
  void skip_to(std::uint64_t offset) { buf_.advance_to(offset); }
  std::uint64_t read_offset() const { return buf_.window_start(); }

  // True when the segment carries bytes beyond the highest seen so far (not a pure
  // retransmission). Updates the high-water mark. For counting packets and bytes after
  // the parsers have stopped reading (SSH after NEWKEYS).
  bool advances(std::uint32_t seq, std::size_t len);

  // True when the next unread byte lies before `seq + wire_len`, the end on the wire of a
  // segment: the reader still needs bytes of that segment.
  bool reads_before(std::uint32_t seq, std::size_t wire_len) const;

  // A hole is holding bytes back.
  bool blocked() const { return buf_.has_gap(); }
  std::uint64_t truncated_bytes() const { return buf_.truncated_bytes(); }
  // Bytes truncated since the last call (for the Inspector's counters).
  std::uint64_t take_truncated() {
    const std::uint64_t n = buf_.truncated_bytes() - reported_truncated_;
    reported_truncated_ = buf_.truncated_bytes();
    return n;
  }
  // Stop buffering this direction (its parser is done or gave up).
  void close() { buf_.close(); }
  bool closed() const { return buf_.closed(); }

 private:
  // Stream offset of `seq`, moving the start back when allowed; false when the segment
  // lies before the start.
  bool offset_of(std::uint32_t seq, std::uint64_t& offset);

  StreamBuffer buf_;
  std::uint32_t start_seq_ = 0;  // sequence number of stream offset 0
  bool have_start_ = false;
  bool from_syn_ = false;
  std::uint64_t high_ = 0;  // one past the highest offset seen (advances())
  std::uint64_t reported_truncated_ = 0;
  // Fast path: the last feed() returned this view of the caller's segment.
  Bytes pending_;
  std::uint64_t pending_offset_ = 0;
};

}  // namespace netscope::dpi
