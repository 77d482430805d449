#pragma once
// InputBuffer: the cursor the pcap and pcapng parsers read through. It is either a view
// of the whole stream (a memory-mapped file or caller memory: ensure() is one compare) or
// a bounded window over a StreamDecoder that grows only to the largest record asked for.
// Pointers it returns stay valid until the next ensure() call that has to refill.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "capture/stream_decoder.hpp"

namespace netscope::capture::detail {

class InputBuffer {
 public:
  InputBuffer();
  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // The whole stream is `bytes`, which must outlive this buffer.
  void attach_memory(std::span<const std::uint8_t> bytes);
  void attach_stream(std::unique_ptr<StreamDecoder> decoder, std::size_t initial_capacity);
  // Back to the state of a new buffer (nothing attached, empty).
  void detach();

  // Pointer to at least `n` contiguous bytes at the cursor, or nullptr when the stream
  // ends (or fails to decode, see error()) first; available() then says what is left.
  const std::uint8_t* ensure(std::size_t n) {
    if (static_cast<std::size_t>(end_ - pos_) >= n) [[likely]]
      return pos_;
    return refill(n);
  }
  std::size_t available() const { return static_cast<std::size_t>(end_ - pos_); }
  void consume(std::size_t n) { pos_ += n; }  // n <= available()
  std::uint64_t offset() const { return base_offset_ + static_cast<std::uint64_t>(pos_ - base_); }
  bool streaming() const { return decoder_ != nullptr; }
  // Empty unless reading or decompressing failed.
  const std::string& error() const;
  // The compressed input ended inside a gzip member or zstd frame.
  bool cut_short() const { return decoder_ != nullptr && decoder_->cut_short(); }

 private:
  const std::uint8_t* refill(std::size_t n);

  const std::uint8_t* base_ = nullptr;  // stream offset base_offset_ is at base_
  const std::uint8_t* pos_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::uint64_t base_offset_ = 0;
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t capacity_ = 0;
  bool eof_ = false;
};

}  // namespace netscope::capture::detail
