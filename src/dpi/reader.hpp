#pragma once
// ByteReader: a bounds-checked cursor over untrusted protocol bytes, shared by every DPI
// parser (STYLE.md §2, §4). Each read checks the remaining length first and returns false
// instead of reading past the span; a failed read leaves the cursor where it was.
// Length-prefixed vectors (TLS `opaque x<0..2^16-1>`, QUIC varints) come out as sub-spans,
// never as copies.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.hpp"

namespace netscope::dpi {

using Bytes = std::span<const std::uint8_t>;

class ByteReader {
 public:
  explicit ByteReader(Bytes bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }
  std::size_t offset() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  Bytes rest() const { return bytes_.subspan(pos_); }

  bool u8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = bytes_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = core::load_be16(bytes_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool u24(std::uint32_t& v) {
    if (remaining() < 3) return false;
    const std::uint8_t* p = bytes_.data() + pos_;
    v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    pos_ += 3;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = core::load_be32(bytes_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  bool take(std::size_t n, Bytes& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  // Vectors with a 1-, 2- or 3-byte length prefix (RFC 8446 §3.4).
  bool vec8(Bytes& out) {
    const std::size_t save = pos_;
    std::uint8_t n = 0;
    if (u8(n) && take(n, out)) return true;
    pos_ = save;
    return false;
  }
  bool vec16(Bytes& out) {
    const std::size_t save = pos_;
    std::uint16_t n = 0;
    if (u16(n) && take(n, out)) return true;
    pos_ = save;
    return false;
  }
  bool vec24(Bytes& out) {
    const std::size_t save = pos_;
    std::uint32_t n = 0;
    if (u24(n) && take(n, out)) return true;
    pos_ = save;
    return false;
  }
  // QUIC variable-length integer (RFC 9000 §16): the two high bits give its length.
  bool varint(std::uint64_t& v) {
    if (remaining() < 1) return false;
    const std::size_t len = std::size_t{1} << (bytes_[pos_] >> 6);
    if (remaining() < len) return false;
    v = bytes_[pos_] & 0x3fu;
    for (std::size_t i = 1; i < len; ++i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += len;
    return true;
  }

 private:
  Bytes bytes_;
  std::size_t pos_ = 0;
};

inline std::string_view as_text(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// ASCII helpers for the text protocols (HTTP, SSH, SSDP): locale-free on purpose.
constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;  // the usual case (a DNS answer repeats its question), at memcmp speed
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}
constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
// Visible ASCII and space: what header values and banners may hold for us to keep them.
constexpr bool printable(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
  }
  return true;
}

}  // namespace netscope::dpi
