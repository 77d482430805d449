// TcpStream: see tcp_stream.hpp. Sequence numbers wrap at 2^32 (RFC 9293 §3.4), so
// positions are compared as signed 32-bit differences from the stream start; the parsers
// only ever read the first few KiB, well inside one wrap.

#include "dpi/tcp_stream.hpp"

namespace netscope::dpi {

void TcpStream::set_syn(std::uint32_t syn_seq) {
  if (from_syn_) return;
  const std::uint32_t start = syn_seq + 1;
  if (have_start_ && start != start_seq_) {
    // Data arrived before the SYN was seen (reordered capture): move the window.
    const auto delta = static_cast<std::int32_t>(start_seq_ - start);
    if (delta <= 0 || !buf_.rebase(static_cast<std::size_t>(delta))) return;
  }
  start_seq_ = start;
  have_start_ = true;
  from_syn_ = true;
}

bool TcpStream::offset_of(std::uint32_t seq, std::uint64_t& offset) {
  if (!have_start_) {
    start_seq_ = seq;
    have_start_ = true;
  }
  const auto delta = static_cast<std::int32_t>(seq - start_seq_);
  if (delta < 0) {
    // Before the assumed start: a reordered first segment when no SYN fixed the start.
    const auto back = static_cast<std::size_t>(-static_cast<std::int64_t>(delta));
    if (from_syn_ || !buf_.rebase(back)) return false;
    start_seq_ = seq;
    offset = 0;
    return true;
  }
  offset = static_cast<std::uint32_t>(delta);
  return true;
}

Bytes TcpStream::feed(std::uint32_t seq, Bytes payload) {
  pending_ = {};
  std::uint64_t offset = 0;
  if (payload.empty() || buf_.closed() || !offset_of(seq, offset)) return buf_.contiguous();
  const std::uint64_t read = buf_.window_start();
  if (buf_.buffered() == 0 && offset <= read && offset + payload.size() > read) {
    // In order with nothing held back: read straight from the segment.
    pending_ = payload.subspan(static_cast<std::size_t>(read - offset));
    pending_offset_ = read;
    return pending_;
  }
  buf_.insert(offset, payload);
  return buf_.contiguous();
}

void TcpStream::consume(std::size_t n) {
  if (pending_.empty()) {
    buf_.consume(n);
    return;
  }
  if (n > pending_.size()) n = pending_.size();
  buf_.advance_to(pending_offset_ + n);
  if (n < pending_.size()) buf_.insert(pending_offset_ + n, pending_.subspan(n));
  pending_ = {};
}

bool TcpStream::reads_before(std::uint32_t seq, std::size_t wire_len) const {
  if (!have_start_) return false;
  const auto delta = static_cast<std::int32_t>(seq - start_seq_);
  const std::int64_t end = std::int64_t{delta} + static_cast<std::int64_t>(wire_len);
  return end > 0 && buf_.window_start() < static_cast<std::uint64_t>(end);
}

bool TcpStream::advances(std::uint32_t seq, std::size_t len) {
  if (len == 0) return false;
  std::uint64_t offset = 0;
  if (!have_start_) {
    start_seq_ = seq;
    have_start_ = true;
  }
  const auto delta = static_cast<std::int32_t>(seq - start_seq_);
  if (delta < 0) return false;
  offset = static_cast<std::uint32_t>(delta);
  const std::uint64_t end = offset + len;
  if (end <= high_) return false;
  high_ = end;
  return true;
}

}  // namespace netscope::dpi
