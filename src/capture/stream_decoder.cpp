#include "capture/stream_decoder.hpp"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::capture::detail {
namespace {

constexpr std::size_t kRawChunk = 256 * 1024;

class PlainDecoder final : public StreamDecoder {
 public:
  explicit PlainDecoder(std::unique_ptr<RawInput> in) : in_(std::move(in)) {}
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    std::size_t got = in_->read_into(dst, n);
    if (got == 0 && error_.empty()) error_ = in_->error();
    return got;
  }

 private:
  std::unique_ptr<RawInput> in_;
};

// RFC 1952: a gzip file is one or more members back to back (`cat a.gz b.gz`). zlib
// stops at the end of each member, so reset and continue while another member follows.
class GzipDecoder final : public StreamDecoder {
 public:
  explicit GzipDecoder(std::unique_ptr<RawInput> in) : in_(std::move(in)) {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  }
  ~GzipDecoder() override { inflateEnd(&zs_); }

  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    if (done_) return 0;
    zs_.next_out = dst;
    zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    while (zs_.avail_out == std::min<std::size_t>(n, 1u << 30)) {
      if (at_member_start_) {
        // Trailing bytes that are not another member (zero padding from tape or
        // transfer tools) end the stream, as gzip(1) does with a warning.
        auto head = in_->peek(2);
        if (head.size() < 2 || head[0] != 0x1f || head[1] != 0x8b) return finish(dst);
        at_member_start_ = false;
      }
      auto avail = in_->fetch();
      if (avail.empty()) {
        cut_short_ = true;  // the input ends inside a member
        return finish(dst);
      }
      zs_.next_in = const_cast<Bytef*>(avail.data());
      zs_.avail_in = static_cast<uInt>(std::min<std::size_t>(avail.size(), 1u << 30));
      const uInt before = zs_.avail_in;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_->consume(before - zs_.avail_in);
      if (rc == Z_STREAM_END) {
        inflateReset(&zs_);
        at_member_start_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        // Hand out what was decoded before the damage; the error shows on the next call.
        error_ = std::string("gzip data is corrupt: ") + (zs_.msg ? zs_.msg : zError(rc));
        done_ = true;
        return static_cast<std::size_t>(zs_.next_out - dst);
      }
    }
    return static_cast<std::size_t>(zs_.next_out - dst);
  }

 private:
  std::size_t finish(std::uint8_t* dst) {
    done_ = true;
    if (!in_->error().empty()) error_ = in_->error();
    return static_cast<std::size_t>(zs_.next_out - dst);
  }

  std::unique_ptr<RawInput> in_;
  z_stream zs_{};
  bool at_member_start_ = true;
  bool done_ = false;
};

// RFC 8878: zstd handles concatenated and skippable frames itself.
class ZstdDecoder final : public StreamDecoder {
 public:
  explicit ZstdDecoder(std::unique_ptr<RawInput> in)
      : in_(std::move(in)), ds_(ZSTD_createDStream()) {
    if (ds_ == nullptr) throw std::runtime_error("ZSTD_createDStream failed");
    // Bound the window so a hostile frame cannot make us allocate gigabytes (zstd's
    // default limit is 128 MiB; 2^27 is the same and keeps -long=27 files working).
    ZSTD_DCtx_setParameter(ds_, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }

  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos == 0 && !done_) {
      auto avail = in_->fetch();
      if (avail.empty()) {
        done_ = true;
        cut_short_ = in_frame_;
        if (!in_->error().empty()) error_ = in_->error();
        break;
      }
      ZSTD_inBuffer in{avail.data(), avail.size(), 0};
      std::size_t rc = ZSTD_decompressStream(ds_, &out, &in);
      in_->consume(in.pos);
      if (ZSTD_isError(rc)) {
        // As for gzip: deliver the bytes decoded before the damage first.
        error_ = std::string("zstd data is corrupt: ") + ZSTD_getErrorName(rc);
        done_ = true;
        return out.pos;
      }
      in_frame_ = rc != 0;  // 0: a frame just ended (RFC 8878 §3.1.1)
    }
    return out.pos;
  }

 private:
  std::unique_ptr<RawInput> in_;
  ZSTD_DStream* ds_;
  bool done_ = false;
  bool in_frame_ = false;
};

}  // namespace

Compression sniff_compression(std::span<const std::uint8_t> head) {
  if (head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Compression::gzip;
  if (head.size() >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f &&
      head[3] == 0xfd) {
    return Compression::zstd;
  }
  return Compression::none;
}

RawInput::RawInput(int fd, bool owns_fd) : fd_(fd), owns_fd_(owns_fd), buf_(kRawChunk) {
  data_ = buf_.data();
}

RawInput::RawInput(std::span<const std::uint8_t> memory)
    : eof_(true), memory_(memory), data_(memory.data()), len_(memory.size()) {}

RawInput::~RawInput() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

std::size_t RawInput::read_some(std::uint8_t* dst, std::size_t n) {
  while (!eof_) {
    ssize_t got = ::read(fd_, dst, n);
    if (got > 0) return static_cast<std::size_t>(got);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) error_ = std::string("read failed: ") + std::strerror(errno);
    eof_ = true;
  }
  return 0;
}

std::span<const std::uint8_t> RawInput::fetch() {
  if (pos_ == len_ && !eof_) {
    pos_ = 0;
    len_ = read_some(buf_.data(), buf_.size());
  }
  return {data_ + pos_, len_ - pos_};
}

std::span<const std::uint8_t> RawInput::peek(std::size_t n) {
  if (len_ - pos_ < n && !eof_) {
    // Only small peeks (magic numbers) come here, so n is far below the buffer size.
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
    while (len_ < n && !eof_) len_ += read_some(buf_.data() + len_, buf_.size() - len_);
  }
  return {data_ + pos_, len_ - pos_};
}

std::size_t RawInput::read_into(std::uint8_t* dst, std::size_t n) {
  if (pos_ < len_) {
    std::size_t k = std::min(n, len_ - pos_);
    std::memcpy(dst, data_ + pos_, k);
    pos_ += k;
    return k;
  }
  return memory_.empty() ? read_some(dst, n) : 0;
}

std::unique_ptr<StreamDecoder> make_decoder(Compression c, std::unique_ptr<RawInput> input) {
  switch (c) {
    case Compression::gzip:
      return std::make_unique<GzipDecoder>(std::move(input));
    case Compression::zstd:
      return std::make_unique<ZstdDecoder>(std::move(input));
    case Compression::none:
      break;
  }
  return std::make_unique<PlainDecoder>(std::move(input));
}

}  // namespace netscope::capture::detail
