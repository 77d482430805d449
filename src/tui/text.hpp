#pragma once
// Text helpers for the TUI: rates and totals in the user's units (--units bytes|bits, SI or
// binary prefixes), and terminal-column arithmetic on UTF-8 (display width, cutting in the
// middle or at the end with "…").
//
// Widths follow glibc's wcwidth() (Unicode 14): East Asian Wide and Fullwidth characters
// take 2 columns, combining marks and other zero-width characters 0, everything else 1.
// Text from the network and /proc is hostile: an invalid UTF-8 byte counts 1 column, and
// fit() / truncate_middle() / sanitize() replace invalid bytes and control characters by
// U+FFFD so that their result is always valid UTF-8 that a terminal draws as measured.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace netscope::tui {

enum class Units { bytes, bits };
enum class Prefix { si, binary };
struct UnitStyle {
  Units units = Units::bytes;
  Prefix prefix = Prefix::si;
};

// 1234567 B/s -> "1.2 MB/s" (bytes, SI), "9.9 Mbit/s" (bits, SI), "1.2 MiB/s" (binary).
// One decimal above the base unit, none on it ("512 B/s"); a value that would round to
// 1000 (1024) of a unit is shown in the next one. Negative and NaN show as 0.
std::string format_rate(double bytes_per_s, UnitStyle s);
// The same for a count: "1.2 MB", "9.9 Mbit", "1.2 MiB", "512 B".
std::string format_total(std::uint64_t bytes, UnitStyle s);

// Terminal columns of a UTF-8 string (wcwidth-like; CJK wide = 2, combining = 0, a control
// character or an invalid UTF-8 byte counts 1 and never crashes).
std::size_t display_width(std::string_view utf8);
// "abcd…wxyz": keeps the start and the end, display_width(result) <= width. Text that fits
// comes back unchanged (but sanitized).
std::string truncate_middle(std::string_view utf8, std::size_t width);
// Cut at the end with "…" if needed, then pad with spaces to exactly `width` columns.
std::string fit(std::string_view utf8, std::size_t width);
// Invalid UTF-8 bytes and control characters (C0, DEL, C1) replaced by U+FFFD, so that the
// terminal shows exactly display_width(utf8) columns.
std::string sanitize(std::string_view utf8);

}  // namespace netscope::tui
