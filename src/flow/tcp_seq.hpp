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

// Packet times as the tracker keeps them: the low 32 bits of the time in µs (wrapping
// every 2^32 µs, about 71.6 minutes).
constexpr std::uint32_t micros32(std::int64_t ns) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ns / 1000));
}
// Microseconds from `then` to `now`, both micros32(). Forward gaps up to ~67 minutes are
// exact; a `now` up to 2^28 µs (~4.5 min) before `then` (merged captures, a clock step)
// is a negative gap, as it would be with full timestamps. Only gaps of recent events are
// compared (to 20 ms or the initial RTT), so the wrap matters only for a gap within such
// a threshold of a multiple of ~71.6 minutes.
constexpr std::int64_t elapsed_us(std::uint32_t now, std::uint32_t then) {
  const std::uint32_t d = now - then;
  constexpr std::uint32_t kBackwards = 0xF000'0000u;
  return d >= kBackwards ? -static_cast<std::int64_t>(0x1'0000'0000ull - d)
                         : static_cast<std::int64_t>(d);
}

}  // namespace netscope::flow
