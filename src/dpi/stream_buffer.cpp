// StreamBuffer: see stream_buffer.hpp. The window is a vector that grows to the highest
// byte written (never past the cap), so a stream whose messages fit in one segment costs
// one small allocation, and a flow that is never buffered costs none.

#include "dpi/stream_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace netscope::dpi {

StreamBuffer::~StreamBuffer() {
  if (budget_) budget_->release(data_.size());
}

StreamBuffer::StreamBuffer(StreamBuffer&& other) noexcept
    : cap_(other.cap_),
      budget_(std::move(other.budget_)),
      data_(std::move(other.data_)),
      ranges_(other.ranges_),
      ranges_n_(other.ranges_n_),
      closed_(other.closed_),
      start_(other.start_),
      truncated_(other.truncated_) {
  other.data_.clear();
  other.ranges_n_ = 0;
}

StreamBuffer& StreamBuffer::operator=(StreamBuffer&& other) noexcept {
  if (this != &other) {
    if (budget_) budget_->release(data_.size());
    cap_ = other.cap_;
    budget_ = std::move(other.budget_);
    data_ = std::move(other.data_);
    ranges_ = other.ranges_;
    ranges_n_ = other.ranges_n_;
    closed_ = other.closed_;
    start_ = other.start_;
    truncated_ = other.truncated_;
    other.data_.clear();
    other.ranges_n_ = 0;
  }
  return *this;
}

bool StreamBuffer::grow_to(std::size_t size) {
  if (size <= data_.size()) return true;
  if (!budget_ || !budget_->reserve(size - data_.size())) return false;
  data_.resize(size);
  return true;
}

// Inserts [begin, end) into the sorted, disjoint range list, merging neighbours.
bool StreamBuffer::add_range(std::uint32_t begin, std::uint32_t end) {
  std::array<Range, kMaxRanges + 1> merged{};
  std::size_t n = 0;
  bool placed = false;
  Range cur{begin, end};
  for (std::size_t i = 0; i < ranges_n_; ++i) {
    const Range r = ranges_[i];
    if (r.end < cur.begin) {
      merged[n++] = r;
    } else if (cur.end < r.begin) {
      if (!placed) {
        merged[n++] = cur;
        placed = true;
      }
      merged[n++] = r;
    } else {  // overlapping or touching: absorb
      cur.begin = std::min(cur.begin, r.begin);
      cur.end = std::max(cur.end, r.end);
    }
  }
  if (!placed) merged[n++] = cur;
  if (n > kMaxRanges) return false;
  std::copy_n(merged.begin(), n, ranges_.begin());
  ranges_n_ = static_cast<std::uint8_t>(n);
  return true;
}

bool StreamBuffer::insert(std::uint64_t offset, Bytes data) {
  if (closed_ || data.empty()) return !closed_;
  // Drop what lies before the window (already read: a retransmission).
  if (offset < start_) {
    const std::uint64_t old = start_ - offset;
    if (old >= data.size()) return true;
    data = data.subspan(static_cast<std::size_t>(old));
    offset = start_;
  }
  const std::uint64_t rel = offset - start_;
  if (rel >= cap_) {
    truncated_ += data.size();
    return false;
  }
  bool whole = true;
  const std::size_t room = cap_ - static_cast<std::size_t>(rel);
  if (data.size() > room) {
    truncated_ += data.size() - room;
    data = data.first(room);
    whole = false;
  }
  const auto begin = static_cast<std::uint32_t>(rel);
  const auto end = static_cast<std::uint32_t>(rel + data.size());
  if (!grow_to(end)) {
    truncated_ += data.size();
    return false;
  }
  // Check the range list first so a refused segment leaves the bytes untouched.
  const auto saved = ranges_;
  const std::uint8_t saved_n = ranges_n_;
  if (!add_range(begin, end)) {
    ranges_ = saved;
    ranges_n_ = saved_n;
    truncated_ += data.size();
    return false;
  }
  std::memcpy(data_.data() + begin, data.data(), data.size());
  return whole;
}

Bytes StreamBuffer::contiguous() const {
  if (ranges_n_ == 0 || ranges_[0].begin != 0) return {};
  return Bytes(data_.data(), ranges_[0].end);
}

std::uint64_t StreamBuffer::end() const {
  return ranges_n_ == 0 ? start_ : start_ + ranges_[ranges_n_ - 1].end;
}

void StreamBuffer::advance_to(std::uint64_t offset) {
  if (offset <= start_) return;
  const std::uint64_t n64 = offset - start_;
  start_ = offset;
  if (n64 >= data_.size()) {
    if (budget_) budget_->release(data_.size());
    data_.clear();
    ranges_n_ = 0;
    return;
  }
  const auto n = static_cast<std::size_t>(n64);
  const std::size_t keep = data_.size() - n;
  std::memmove(data_.data(), data_.data() + n, keep);
  data_.resize(keep);
  if (budget_) budget_->release(n);
  std::size_t out = 0;
  for (std::size_t i = 0; i < ranges_n_; ++i) {
    Range r = ranges_[i];
    if (r.end <= n) continue;
    r.begin = r.begin > n ? static_cast<std::uint32_t>(r.begin - n) : 0;
    r.end = static_cast<std::uint32_t>(r.end - n);
    ranges_[out++] = r;
  }
  ranges_n_ = static_cast<std::uint8_t>(out);
}

bool StreamBuffer::rebase(std::size_t n) {
  if (closed_ || start_ != 0 || n == 0) return n == 0;
  const std::size_t used = ranges_n_ == 0 ? 0 : ranges_[ranges_n_ - 1].end;
  if (used + n > cap_) return false;
  const std::size_t old = data_.size();
  if (!grow_to(old + n)) return false;
  std::memmove(data_.data() + n, data_.data(), old);
  std::memset(data_.data(), 0, n);
  for (std::size_t i = 0; i < ranges_n_; ++i) {
    ranges_[i].begin += static_cast<std::uint32_t>(n);
    ranges_[i].end += static_cast<std::uint32_t>(n);
  }
  return true;
}

void StreamBuffer::close() {
  if (budget_) budget_->release(data_.size());
  data_.clear();
  data_.shrink_to_fit();
  ranges_n_ = 0;
  closed_ = true;
}

}  // namespace netscope::dpi
