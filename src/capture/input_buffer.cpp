#include "capture/input_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace netscope::capture::detail {
namespace {
const std::string kNoError;
}  // namespace

InputBuffer::InputBuffer() = default;
InputBuffer::~InputBuffer() = default;

void InputBuffer::attach_memory(std::span<const std::uint8_t> bytes) {
  decoder_.reset();
  base_ = pos_ = bytes.data();
  end_ = bytes.data() + bytes.size();
  base_offset_ = 0;
  eof_ = true;
}

void InputBuffer::attach_stream(std::unique_ptr<StreamDecoder> decoder,
                                std::size_t initial_capacity) {
  decoder_ = std::move(decoder);
  capacity_ = std::max<std::size_t>(initial_capacity, 16);
  buf_ = std::make_unique<std::uint8_t[]>(capacity_);
  base_ = pos_ = end_ = buf_.get();
  base_offset_ = 0;
  eof_ = false;
}

void InputBuffer::detach() {
  decoder_.reset();
  buf_.reset();
  capacity_ = 0;
  base_ = pos_ = end_ = nullptr;
  base_offset_ = 0;
  eof_ = true;
}

const std::string& InputBuffer::error() const {
  return decoder_ ? decoder_->error() : kNoError;
}

const std::uint8_t* InputBuffer::refill(std::size_t n) {
  if (eof_) return nullptr;
  // Slide the unread tail to the front. The caller has already finished with the bytes
  // before the cursor: RawPacket data is only valid until the next next().
  const std::size_t tail = available();
  base_offset_ = offset();
  if (tail != 0 && pos_ != buf_.get()) std::memmove(buf_.get(), pos_, tail);
  base_ = pos_ = buf_.get();
  end_ = buf_.get() + tail;
  while (available() < n) {
    if (available() == capacity_) {
      // Grow only when full and only up to n, which parsers bound by the largest legal
      // record: a bogus length on a short stream costs what the stream holds, not n.
      const std::size_t cap = std::min(n, std::max(capacity_ * 2, std::size_t{64 * 1024}));
      auto bigger = std::make_unique<std::uint8_t[]>(cap);
      std::memcpy(bigger.get(), pos_, available());
      end_ = bigger.get() + available();
      base_ = pos_ = bigger.get();
      buf_ = std::move(bigger);
      capacity_ = cap;
    }
    std::size_t got = decoder_->read(buf_.get() + available(), capacity_ - available());
    if (got == 0) {
      eof_ = true;
      return nullptr;
    }
    end_ += got;
  }
  return pos_;
}

}  // namespace netscope::capture::detail
