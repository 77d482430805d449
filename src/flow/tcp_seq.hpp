#pragma once
// Sequence-number comparison modulo 2^32 (RFC 9293 §3.4, RFC 1982 serial arithmetic):
// a is "after" b when the forward distance from b to a is less than 2^31. This keeps
// every comparison right across the wrap from 0xffffffff to 0.

#include <cstdint>

namespace netscope::flow {

constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}
constexpr bool seq_le(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) <= 0;
}
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) {
  return seq_lt(b, a);
}
constexpr bool seq_ge(std::uint32_t a, std::uint32_t b) {
  return seq_le(b, a);
}

}  // namespace netscope::flow
