#pragma once
// Human formatting of byte counts, rates and durations for text reports.

#include <cstdint>
#include <string>

namespace netscope::core {

// 1536 -> "1.5 KiB"; IEC units, one decimal above bytes.
std::string format_bytes(double bytes);
// Bytes per second -> "12.3 MiB/s".
std::string format_rate(double bytes_per_second);
// Bits per second -> "98.4 Mbit/s" (SI units, as network people quote links).
std::string format_bitrate(double bits_per_second);
// Seconds -> "850 ms", "12.4 s", "3 min 20 s", "2 h 05 min".
std::string format_duration(double seconds);
// 1234567 -> "1,234,567".
std::string format_count(std::uint64_t n);

}  // namespace netscope::core
