#include "core/units.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace netscope::core {

std::string format_bytes(double bytes) {
  static constexpr std::array<const char*, 6> kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  while (std::fabs(bytes) >= 1024.0 && unit + 1 < kUnits.size()) {
    bytes /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string format_rate(double bytes_per_second) {
  return format_bytes(bytes_per_second) + "/s";
}

std::string format_bitrate(double bits_per_second) {
  static constexpr std::array<const char*, 5> kUnits{"bit/s", "kbit/s", "Mbit/s", "Gbit/s",
                                                     "Tbit/s"};
  std::size_t unit = 0;
  while (std::fabs(bits_per_second) >= 1000.0 && unit + 1 < kUnits.size()) {
    bits_per_second /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bits_per_second, kUnits[unit]);
}

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 1.0) return fmt::format("{:.0f} ms", seconds * 1000.0);
  if (seconds < 60.0) return fmt::format("{:.1f} s", seconds);
  const auto total = static_cast<std::uint64_t>(seconds);
  if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

std::string format_count(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace netscope::core
