#pragma once
// Timestamp: nanoseconds since the Unix epoch in a signed 64-bit integer. That covers
// 1677..2262, so pcapng timestamps past the 32-bit-seconds limit of 2106 still fit.
// Packet timestamps are the only clock the engine uses (STYLE.md §7).

#include <compare>
#include <cstdint>
#include <string>

namespace netscope::core {

struct Timestamp {
  std::int64_t ns = 0;

  static constexpr Timestamp from_sec_usec(std::int64_t sec, std::int64_t usec) {
    return Timestamp{sec * 1'000'000'000 + usec * 1'000};
  }
  static constexpr Timestamp from_sec_nsec(std::int64_t sec, std::int64_t nsec) {
    return Timestamp{sec * 1'000'000'000 + nsec};
  }
  constexpr double seconds() const { return static_cast<double>(ns) / 1e9; }
  constexpr std::int64_t micros() const { return ns / 1000; }

  auto operator<=>(const Timestamp&) const = default;
};

// Duration in nanoseconds between two timestamps (b - a).
constexpr std::int64_t nanos_between(Timestamp a, Timestamp b) {
  return b.ns - a.ns;
}
constexpr double millis_between(Timestamp a, Timestamp b) {
  return static_cast<double>(b.ns - a.ns) / 1e6;
}

// RFC 3339 UTC with microseconds: "2026-11-21T23:45:01.123456Z".
std::string to_rfc3339(Timestamp t);

}  // namespace netscope::core
