#pragma once
// Byte sources for the streaming path of FileReader: RawInput hands out the raw bytes of
// a file descriptor or a memory block, and a StreamDecoder turns them into the capture
// stream (a plain copy, gzip or zstd). Only the streaming path uses these; plain regular
// files are memory-mapped instead. One virtual call per chunk (~256 KiB), never per packet.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace netscope::capture::detail {

enum class Compression { none, gzip, zstd };

// Detects gzip (RFC 1952 §2.3.1: 1f 8b) and zstd (RFC 8878 §3.1.1: 28 b5 2f fd) by magic.
Compression sniff_compression(std::span<const std::uint8_t> head);

class RawInput {
 public:
  // Reads from `fd` (closed on destruction when `owns_fd`).
  RawInput(int fd, bool owns_fd);
  // Reads from caller-owned memory, which must outlive this object.
  explicit RawInput(std::span<const std::uint8_t> memory);
  ~RawInput();
  RawInput(const RawInput&) = delete;
  RawInput& operator=(const RawInput&) = delete;

  // Unconsumed bytes, reading more when none are pending. Empty at the end of input or
  // on a read error (then error() is set).
  std::span<const std::uint8_t> fetch();
  // Unconsumed bytes, reading until at least `n` are pending or the input ends.
  std::span<const std::uint8_t> peek(std::size_t n);
  void consume(std::size_t n) { pos_ += n; }
  // Copies pending bytes, or reads straight into `dst` when none are pending.
  std::size_t read_into(std::uint8_t* dst, std::size_t n);
  const std::string& error() const { return error_; }

 private:
  std::size_t read_some(std::uint8_t* dst, std::size_t n);

  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  std::span<const std::uint8_t> memory_;
  std::vector<std::uint8_t> buf_;
  const std::uint8_t* data_ = nullptr;  // pending bytes are data_[pos_, len_)
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  std::string error_;
};

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Writes up to `n` bytes of the decoded stream to `dst`. Returns 0 at the end of the
  // stream, or on failure with error() set.
  virtual std::size_t read(std::uint8_t* dst, std::size_t n) = 0;
  const std::string& error() const { return error_; }
  // True when the input ended inside a gzip member or zstd frame: the decoded stream is
  // incomplete even if it happens to end on a record boundary.
  bool cut_short() const { return cut_short_; }

 protected:
  std::string error_;
  bool cut_short_ = false;
};

std::unique_ptr<StreamDecoder> make_decoder(Compression c, std::unique_ptr<RawInput> input);

}  // namespace netscope::capture::detail
