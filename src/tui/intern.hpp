#pragma once
// Interning for the TUI's per-snapshot index (model.cpp, filter.cpp): the distinct values
// of one column of 100,000 connections and each row's id among them, with an
// open-addressing table of ids (no node per value) and hashes that read eight bytes at a
// time, since this runs over every connection of every snapshot.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/ip_address.hpp"

namespace netscope::tui::intern {

inline std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 29;
  return h;
}

struct TextHash {
  std::uint64_t operator()(std::string_view s) const {
    std::uint64_t h = s.size() * 0x9E3779B97F4A7C15ull;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      h = mix(h ^ w);
    }
    if (i < s.size()) {
      // Byte by byte: a memcpy of a variable length is a library call.
      std::uint64_t w = 0;
      for (std::size_t k = i; k < s.size(); ++k) {
        w |= std::uint64_t{static_cast<unsigned char>(s[k])} << (8 * (k - i));
      }
      h = mix(h ^ w ^ 0xff);
    }
    return h;
  }
};

// Equality without a memcmp call: the texts are short, and equal once the hashes are.
inline bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.data() == b.data()) return true;
  std::size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  for (; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
template <typename V>
bool same(const V& a, const V& b) {
  return a == b;
}

struct IpHash {
  std::uint64_t operator()(const core::IpAddress& a) const {
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    std::memcpy(&lo, a.bytes().data(), 8);
    std::memcpy(&hi, a.bytes().data() + 8, 8);
    return mix(lo * 0x9E3779B97F4A7C15ull ^ hi);
  }
};

struct U64Hash {
  std::uint64_t operator()(std::uint64_t v) const { return mix(v * 0x9E3779B97F4A7C15ull); }
};

// add(v) returns v's id: the number of distinct values added before it was first seen.
template <typename V, typename Hash>
class Interner {
 public:
  Interner() : slots_(64, kEmpty) {}
  std::uint32_t add(const V& v) {
    const std::uint64_t h = Hash{}(v);
    std::size_t i = h & mask_;
    for (;;) {
      const std::uint32_t id = slots_[i];
      if (id == kEmpty) break;
      if (hashes_[id] == h && same(values_[id], v)) return id;
      i = (i + 1) & mask_;
    }
    const auto id = static_cast<std::uint32_t>(values_.size());
    values_.push_back(v);
    hashes_.push_back(h);
    slots_[i] = id;
    if (values_.size() * 2 > slots_.size()) grow();
    return id;
  }
  std::vector<V>& values() { return values_; }
  const std::vector<V>& values() const { return values_; }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFF;
  void grow() {
    slots_.assign(slots_.size() * 2, kEmpty);
    mask_ = slots_.size() - 1;
    for (std::uint32_t k = 0; k < values_.size(); ++k) {
      std::size_t at = hashes_[k] & mask_;
      while (slots_[at] != kEmpty) at = (at + 1) & mask_;
      slots_[at] = k;
    }
  }
  std::vector<V> values_;
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 63;
};

}  // namespace netscope::tui::intern
