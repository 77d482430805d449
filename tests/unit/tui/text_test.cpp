#include "tui/text.hpp"

#include <gtest/gtest.h>
#include <wchar.h>

#include <clocale>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace netscope::tui;

namespace {

constexpr UnitStyle kBytesSi{Units::bytes, Prefix::si};
constexpr UnitStyle kBytesBin{Units::bytes, Prefix::binary};
constexpr UnitStyle kBitsSi{Units::bits, Prefix::si};
constexpr UnitStyle kBitsBin{Units::bits, Prefix::binary};

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

bool valid_utf8_without_controls(const std::string& s) {
  return sanitize(s) == s;
}

// Strings that exercise every width class and the invalid encodings.
const std::vector<std::string> kSamples{
    "",
    "a",
    "firefox-esr",
    "/usr/lib/firefox-esr/firefox-esr -contentproc -childID 12 -isForBrowser",
    "日本語テキスト",
    "mixed 日本 text ok",
    "e\xCC\x81t\xCC\x81\xC3\xA9",  // e + U+0301, t + U+0301, é
    "\xF0\x9F\x98\x80 smile \xF0\x9F\x98\x80",
    "\xFF\xFE bad \xC0\xAF overlong \xED\xA0\x80 surrogate \xE6\x97 cut",
    "tab\there\nnewline\x7F del \xC2\x85 nel",
    "\xCC\x81\xCC\x81 leading combining",
    "한국어 조합 \xE1\x84\x80\xE1\x85\xA1",  // Hangul syllables and conjoining jamo
    "\xE2\x80\x8Bzero\xE2\x80\x8Dwidth\xEF\xBB\xBF",
};

}  // namespace

// --- units ---------------------------------------------------------------------------------

TEST(TuiUnits, bytes_si_examples_and_base_unit) {
  EXPECT_EQ(format_rate(0, kBytesSi), "0 B/s");
  EXPECT_EQ(format_rate(1, kBytesSi), "1 B/s");
  EXPECT_EQ(format_rate(999, kBytesSi), "999 B/s");
  EXPECT_EQ(format_rate(1000, kBytesSi), "1.0 kB/s");
  EXPECT_EQ(format_rate(1234567, kBytesSi), "1.2 MB/s");
  EXPECT_EQ(format_rate(1.5e9, kBytesSi), "1.5 GB/s");
  EXPECT_EQ(format_rate(2.25e12, kBytesSi), "2.2 TB/s");
  EXPECT_EQ(format_total(1234567, kBytesSi), "1.2 MB");
  EXPECT_EQ(format_total(0, kBytesSi), "0 B");
}

TEST(TuiUnits, rounding_up_to_a_full_step_moves_to_the_next_unit) {
  EXPECT_EQ(format_rate(999.4, kBytesSi), "999 B/s");
  EXPECT_EQ(format_rate(999.6, kBytesSi), "1.0 kB/s");
  EXPECT_EQ(format_rate(999940, kBytesSi), "999.9 kB/s");
  EXPECT_EQ(format_rate(999960, kBytesSi), "1.0 MB/s");
  EXPECT_EQ(format_total(1023, kBytesBin), "1023 B");
  EXPECT_EQ(format_total(1024, kBytesBin), "1.0 KiB");
  EXPECT_EQ(format_total(1024 * 1024 - 20, kBytesBin), "1.0 MiB");  // 1023.98 KiB
  EXPECT_EQ(format_total(1024 * 1024 - 200, kBytesBin), "1023.8 KiB");
}

TEST(TuiUnits, binary_prefixes) {
  EXPECT_EQ(format_rate(1234567, kBytesBin), "1.2 MiB/s");
  EXPECT_EQ(format_rate(1.2 * 1024 * 1024 * 1024, kBytesBin), "1.2 GiB/s");
  EXPECT_EQ(format_rate(512, kBytesBin), "512 B/s");
  EXPECT_EQ(format_rate(1536, kBytesBin), "1.5 KiB/s");
}

TEST(TuiUnits, bits_are_eight_per_byte) {
  EXPECT_EQ(format_rate(1.2e6, kBitsSi), "9.6 Mbit/s");
  EXPECT_EQ(format_rate(100, kBitsSi), "800 bit/s");
  EXPECT_EQ(format_rate(125, kBitsSi), "1.0 kbit/s");
  EXPECT_EQ(format_rate(125e6, kBitsSi), "1.0 Gbit/s");
  EXPECT_EQ(format_rate(131072, kBitsBin), "1.0 Mibit/s");  // 1048576 bit/s
  EXPECT_EQ(format_rate(128, kBitsBin), "1.0 Kibit/s");
  EXPECT_EQ(format_total(1200000, kBitsSi), "9.6 Mbit");
  EXPECT_EQ(format_total(1, kBitsSi), "8 bit");
}

TEST(TuiUnits, extremes_negative_and_nan) {
  EXPECT_EQ(format_rate(-5, kBytesSi), "0 B/s");
  EXPECT_EQ(format_rate(std::nan(""), kBitsSi), "0 bit/s");
  EXPECT_EQ(format_total(std::numeric_limits<std::uint64_t>::max(), kBytesSi), "18.4 EB");
  EXPECT_EQ(format_total(std::numeric_limits<std::uint64_t>::max(), kBitsSi), "147.6 Ebit");
  EXPECT_EQ(format_total(std::numeric_limits<std::uint64_t>::max(), kBytesBin), "16.0 EiB");
  EXPECT_EQ(format_rate(1e30, kBytesSi), "1000000000000.0 EB/s");  // no unit past exa
}

// --- display width -------------------------------------------------------------------------

TEST(TuiText, display_width_of_each_class) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("firefox"), 7u);
  EXPECT_EQ(display_width("日本語"), 6u);
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);         // e + combining acute
  EXPECT_EQ(display_width("\xF0\x9F\x98\x80"), 2u);  // U+1F600 emoji
  EXPECT_EQ(display_width("\xEF\xBC\xA1"), 2u);      // U+FF21 fullwidth A
  EXPECT_EQ(display_width("\xE2\x80\x8B"), 0u);      // U+200B zero width space
  EXPECT_EQ(display_width("\xC2\xAD"), 1u);          // soft hyphen, as glibc
  EXPECT_EQ(display_width("\xE2\x80\xA6"), 1u);      // the ellipsis we insert
  EXPECT_EQ(display_width("\xE1\x85\xA1"), 0u);      // Hangul medial vowel
}

TEST(TuiText, invalid_utf8_and_controls_count_one_per_byte) {
  EXPECT_EQ(display_width("\xFF"), 1u);
  EXPECT_EQ(display_width("\xFF\xFE"), 2u);
  EXPECT_EQ(display_width("\xE6\x97"), 2u);          // truncated 3-byte sequence
  EXPECT_EQ(display_width("\xC0\xAF"), 2u);          // overlong '/'
  EXPECT_EQ(display_width("\xED\xA0\x80"), 3u);      // UTF-16 surrogate
  EXPECT_EQ(display_width("\xF4\x90\x80\x80"), 4u);  // above U+10FFFF
  EXPECT_EQ(display_width("\xE6\x97"
                          "a"),
            3u);  // the good byte after survives
  EXPECT_EQ(display_width("\t\n\x01\x7F"), 4u);
  EXPECT_EQ(display_width("\xC2\x85"), 1u);  // C1 control NEL
}

// glibc's wcwidth() is the oracle: every code point it calls printable must have the same
// width here (both follow Unicode 14 on Debian 12).
TEST(TuiText, display_width_agrees_with_glibc_wcwidth_on_every_code_point) {
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  std::size_t checked = 0;
  std::size_t wrong = 0;
  for (char32_t cp = 0x20; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    if (cp >= 0x7F && cp < 0xA0) continue;
    const int w = wcwidth(static_cast<wchar_t>(cp));
    if (w < 0) continue;  // unassigned or unprintable: glibc has no width to compare
    ++checked;
    if (display_width(utf8(cp)) != static_cast<std::size_t>(w)) {
      if (++wrong < 10)
        ADD_FAILURE() << "U+" << std::hex << static_cast<std::uint32_t>(cp) << " glibc " << w;
    }
  }
  std::setlocale(LC_CTYPE, "C");
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(checked, 100000u);
}

// --- sanitize, truncation, fit -------------------------------------------------------------

TEST(TuiText, sanitize_replaces_bad_bytes_and_controls_keeping_width) {
  EXPECT_EQ(sanitize("ok 日本"), "ok 日本");
  EXPECT_EQ(sanitize("a\tb"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  for (const std::string& s : kSamples) {
    EXPECT_EQ(display_width(sanitize(s)), display_width(s)) << s;
    EXPECT_TRUE(valid_utf8_without_controls(sanitize(s)));
  }
}

TEST(TuiText, truncate_middle_ascii) {
  const std::string s = "abcdefghij";
  EXPECT_EQ(truncate_middle(s, 10), s);
  EXPECT_EQ(truncate_middle(s, 20), s);
  EXPECT_EQ(truncate_middle(s, 9), "abcd…ghij");
  EXPECT_EQ(truncate_middle(s, 5), "ab…ij");
  EXPECT_EQ(truncate_middle(s, 4), "ab…j");
  EXPECT_EQ(truncate_middle(s, 2), "a…");
  EXPECT_EQ(truncate_middle(s, 1), "…");
  EXPECT_EQ(truncate_middle(s, 0), "");
}

TEST(TuiText, truncate_middle_wide_and_combining) {
  // 7 wide characters, 14 columns.
  EXPECT_EQ(truncate_middle("日本語テキスト", 14), "日本語テキスト");
  EXPECT_EQ(truncate_middle("日本語テキスト", 6), "日…ト");  // 5 columns: no half glyphs
  EXPECT_EQ(truncate_middle("日本語テキスト", 7), "日…スト");
  EXPECT_EQ(truncate_middle("日本語テキスト", 9), "日本…スト");
  // A combining mark stays with its base and never starts the tail.
  EXPECT_EQ(truncate_middle("ae\xCC\x81"
                            "bcde\xCC\x81"
                            "f",
                            5),
            "ae\xCC\x81…e\xCC\x81"
            "f");
  EXPECT_EQ(truncate_middle("abcdefg\xCC\x81h", 4), "ab…h");
}

TEST(TuiText, truncate_middle_never_exceeds_width_and_stays_valid) {
  for (const std::string& s : kSamples) {
    for (std::size_t w = 0; w <= display_width(s) + 2; ++w) {
      const std::string t = truncate_middle(s, w);
      EXPECT_LE(display_width(t), w) << s << " @" << w;
      EXPECT_TRUE(valid_utf8_without_controls(t)) << s << " @" << w;
      if (display_width(s) > w && w >= 1) {
        EXPECT_NE(t.find("…"), std::string::npos) << s << " @" << w;
        EXPECT_GE(display_width(t) + 1, w) << s << " @" << w;  // loses at most one column
      }
    }
  }
}

TEST(TuiText, fit_pads_or_cuts_to_exactly_width) {
  EXPECT_EQ(fit("abc", 5), "abc  ");
  EXPECT_EQ(fit("abc", 3), "abc");
  EXPECT_EQ(fit("abcdef", 4), "abc…");
  EXPECT_EQ(fit("abcdef", 1), "…");
  EXPECT_EQ(fit("abcdef", 0), "");
  EXPECT_EQ(fit("日本語", 4), "日… ");  // the wide 本 does not fit in the last column
  EXPECT_EQ(fit("日本語", 5), "日本…");
  EXPECT_EQ(fit("日本語", 6), "日本語");
  EXPECT_EQ(fit("a\tb", 4),
            "a\xEF\xBF\xBD"
            "b ");
  for (const std::string& s : kSamples) {
    for (std::size_t w = 0; w <= display_width(s) + 3; ++w) {
      const std::string t = fit(s, w);
      EXPECT_EQ(display_width(t), w) << s << " @" << w;
      EXPECT_TRUE(valid_utf8_without_controls(t)) << s << " @" << w;
    }
  }
}

TEST(TuiText, arbitrary_bytes_never_crash_and_keep_the_width_contract) {
  std::uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const int len = round % 40;
    for (int i = 0; i < len; ++i) {
      x = x * 1103515245u + 12345u;
      s.push_back(static_cast<char>((x >> 16) & 0xFF));
    }
    const std::size_t w = (x >> 8) % 30;
    EXPECT_EQ(display_width(fit(s, w)), w);
    EXPECT_LE(display_width(truncate_middle(s, w)), w);
    EXPECT_EQ(display_width(sanitize(s)), display_width(s));
  }
}
