#include "capture/pcapng_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::capture {
namespace {
constexpr std::size_t pad4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}
}  // namespace

PcapngWriter::PcapngWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  }
  // pcapng §4.1 Section Header Block: byte-order magic, version 1.0, length unknown (-1).
  put32(0x0A0D0D0A);
  put32(28);
  put32(0x1A2B3C4D);
  put16(1);
  put16(0);
  const std::int64_t unknown_length = -1;
  put(&unknown_length, 8);
  put32(28);
}

PcapngWriter::~PcapngWriter() {
  close();
}

void PcapngWriter::put(const void* bytes, std::size_t n) {
  if (file_ != nullptr && std::fwrite(bytes, 1, n, file_) != n) ok_ = false;
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
  // pcapng §4.3 Enhanced Packet Block, no options.
  const std::size_t padded = pad4(data.size());
  const auto total = static_cast<std::uint32_t>(32 + padded);
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
  put32(total);
  return ok_;
}

bool PcapngWriter::close() {
  if (file_ != nullptr) {
    if (std::fclose(file_) != 0) ok_ = false;
    file_ = nullptr;
  }
  return ok_;
}

}  // namespace netscope::capture
