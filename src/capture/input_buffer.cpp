#include "capture/input_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace netscope::capture::detail {
namespace {
constexpr std::size_t kInitialCapacity = 1024 * 1024;
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

void InputBuffer::attach_stream(std::unique_ptr<StreamDecoder> decoder) {
  decoder_ = std::move(decoder);
  capacity_ = kInitialCapacity;
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
  if (n > capacity_) {
    // Parsers bound n by the largest legal record, so this growth is bounded too.
    std::size_t cap = std::max(n, capacity_ * 2);
    auto bigger = std::make_unique<std::uint8_t[]>(cap);
    std::memcpy(bigger.get(), pos_, tail);
    buf_ = std::move(bigger);
    capacity_ = cap;
  } else if (tail != 0 && pos_ != buf_.get()) {
    std::memmove(buf_.get(), pos_, tail);
  }
  base_ = pos_ = buf_.get();
  end_ = buf_.get() + tail;
  while (available() < n) {
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
