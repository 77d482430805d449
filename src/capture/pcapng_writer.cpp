#include "capture/pcapng_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::capture {
namespace {
constexpr std::size_t pad4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}
// pcapng §3.5: an option's value is at most 65535 bytes; longer text is cut.
std::size_t option_len(std::string_view v) {
  return std::min<std::size_t>(v.size(), 0xffff);
}
// Bytes an option takes in a block (code, length, value padded to 32 bits).
std::size_t option_size(std::string_view v) {
  return v.empty() ? 0 : 4 + pad4(option_len(v));
}
}  // namespace

PcapngWriter::PcapngWriter(const std::string& path, const PcapngWriterOptions& options)
    : path_(path) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.exclusive ? O_EXCL : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, static_cast<mode_t>(options.mode));
  if (fd < 0) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  // open() applies the umask to the mode; the caller asked for exactly this one.
  if (::fchmod(fd, static_cast<mode_t>(options.mode)) != 0 ||
      (file_ = ::fdopen(fd, "wb")) == nullptr) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(path + ": cannot create: " + std::strerror(e));
  }
  write_section_header(options);
}

void PcapngWriter::put_option(std::uint16_t code, std::string_view value) {
  if (value.empty()) return;
  const std::size_t n = option_len(value);
  put16(code);
  put16(static_cast<std::uint16_t>(n));
  put(value.data(), n);
  pad(pad4(n) - n);
}

void PcapngWriter::write_section_header(const PcapngWriterOptions& o) {
  // pcapng §4.1 Section Header Block with options 1 (comment), 2 (shb_hardware), 3
  // (shb_os), 4 (shb_userappl) and opt_endofopt when there is any.
  const std::size_t opts = option_size(o.comment) + option_size(o.hardware) + option_size(o.os) +
                           option_size(o.application);
  const auto total = static_cast<std::uint32_t>(28 + (opts ? opts + 4 : 0));
  put32(0x0A0D0D0A);
  put32(total);
  put32(0x1A2B3C4D);
  put16(1);
  put16(0);
  const std::int64_t unknown_length = -1;
  put(&unknown_length, 8);
  if (opts != 0) {
    put_option(1, o.comment);
    put_option(2, o.hardware);
    put_option(3, o.os);
    put_option(4, o.application);
    put32(0);  // opt_endofopt
  }
  put32(total);
}

PcapngWriter::PcapngWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  }
  // pcapng §4.1 Section Header Block: byte-order magic, version 1.0, length unknown (-1).
  write_section_header({});
}

PcapngWriter::~PcapngWriter() {
  close();
}

void PcapngWriter::put(const void* bytes, std::size_t n) {
  if (file_ == nullptr || !ok_) return;  // after a failure the file is abandoned
  if (std::fwrite(bytes, 1, n, file_) != n) {
    ok_ = false;
    errno_ = errno;
    return;
  }
  bytes_ += n;
}

void PcapngWriter::pad(std::size_t n) {
  static constexpr std::uint8_t kZeros[4] = {};
  put(kZeros, n);
}

std::uint32_t PcapngWriter::add_interface(int linktype, std::uint32_t snaplen,
                                          const std::string& name) {
  // pcapng §4.2: if_tsresol = 9 (nanoseconds), optional if_name, opt_endofopt.
  const std::size_t name_len = std::min<std::size_t>(name.size(), 0xffff);
  const std::size_t options = 8 + (name_len ? 4 + pad4(name_len) : 0) + 4;
  const auto total = static_cast<std::uint32_t>(20 + options);
  put32(1);
  put32(total);
  put16(static_cast<std::uint16_t>(linktype));
  put16(0);
  put32(snaplen);
  if (name_len != 0) {
    put16(2);
    put16(static_cast<std::uint16_t>(name_len));
    put(name.data(), name_len);
    pad(pad4(name_len) - name_len);
  }
  put16(9);
  put16(1);
  const std::uint8_t nanoseconds = 9;
  put(&nanoseconds, 1);
  pad(3);
  put32(0);  // opt_endofopt
  put32(total);
  return interfaces_++;
}

bool PcapngWriter::write(std::uint32_t interface_id, core::Timestamp ts,
                         std::span<const std::uint8_t> data, std::uint32_t orig_len) {
  return write(interface_id, ts, data, orig_len, {});
}

bool PcapngWriter::write(std::uint32_t interface_id, core::Timestamp ts,
                         std::span<const std::uint8_t> data, std::uint32_t orig_len,
                         std::string_view comment) {
  // pcapng §4.3 Enhanced Packet Block; an opt_comment (and opt_endofopt) when given.
  const std::size_t padded = pad4(data.size());
  const std::size_t opts = comment.empty() ? 0 : option_size(comment) + 4;
  const auto total = static_cast<std::uint32_t>(32 + padded + opts);
  const auto units = static_cast<std::uint64_t>(ts.ns);
  put32(6);
  put32(total);
  put32(interface_id);
  put32(static_cast<std::uint32_t>(units >> 32));
  put32(static_cast<std::uint32_t>(units));
  put32(static_cast<std::uint32_t>(data.size()));
  put32(orig_len);
  if (!data.empty()) put(data.data(), data.size());
  pad(padded - data.size());
  if (!comment.empty()) {
    put_option(1, comment);
    put32(0);  // opt_endofopt
  }
  put32(total);
  return ok_;
}

bool PcapngWriter::flush() {
  if (file_ != nullptr && ok_ && std::fflush(file_) != 0) {
    ok_ = false;
    errno_ = errno;
  }
  return ok_;
}

bool PcapngWriter::close() {
  if (file_ != nullptr) {
    if (std::fclose(file_) != 0 && ok_) {
      ok_ = false;
      errno_ = errno;
    }
    file_ = nullptr;
  }
  return ok_;
}

}  // namespace netscope::capture
