#pragma once
// FastRegex: the common shapes of the TUI filter's regexes (README "TUI filter language")
// matched without std::regex. std::regex_search costs about a microsecond per field even
// for /^fire/, so a bare regex over 100,000 connections (24 text fields, the numbers and
// both addresses and ports of each) took ~0.2 s a frame. This engine compiles the pattern
// into a Glushkov automaton of at most 64 positions, one bit each, and runs it over the
// text with table lookups (a byte of state per lookup): linear in the text, a few
// nanoseconds a byte, no allocation.
//
// It accepts a subset of ECMAScript, always case-insensitive (ASCII folding, as
// std::regex::icase with the classic locale): literal characters, `.`, escapes of
// punctuation, \d \D \w \W \s \S \t \n \v \f \r, bracket expressions of characters,
// ranges and \d \w \s (negated with `^`), groups `(...)` and `(?:...)`, alternation, the
// quantifiers * + ? {n} {n,} {n,m} (greedy or lazy: a search only asks whether there is a
// match), `^` at the start and `$` at the end of a top-level alternative. Anything else
// (look-arounds, \b, \x.., POSIX classes, anchors inside groups, more than 64 positions)
// makes compile() return nullopt and the caller keeps std::regex. A pattern given here
// must already have compiled with std::regex (ECMAScript | icase): this engine decides
// only how to match a valid pattern, never whether it is valid.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netscope::tui {

class FastRegex {
 public:
  static std::optional<FastRegex> compile(std::string_view pattern);

  // Whether the pattern matches somewhere in `text` (std::regex_search).
  bool search(std::string_view text) const;
  bool matches_empty() const { return matches_empty_; }
  // A literal (lowercase) that every match contains, to rule out texts with memmem before
  // running the automaton; empty when there is none of 2 bytes or more.
  const std::string& required() const { return required_; }
  std::size_t positions() const { return positions_; }

 private:
  FastRegex() = default;
  std::uint64_t follow(std::uint64_t s) const {
    std::uint64_t out = 0;
    for (std::size_t k = 0; s != 0; ++k, s >>= 8) out |= follow_[k][s & 0xFF];
    return out;
  }

  std::size_t positions_ = 0;
  std::array<std::uint64_t, 256> chars_{};              // positions whose set holds the byte
  std::vector<std::array<std::uint64_t, 256>> follow_;  // per byte of state
  std::uint64_t init_any_ = 0;      // first positions of alternatives without `^`
  std::uint64_t init_bol_ = 0;      // ... with `^`
  std::uint64_t accept_any_ = 0;    // last positions of alternatives without `$`
  std::uint64_t accept_eol_ = 0;    // ... with `$`
  std::array<bool, 256> starts_{};  // chars_[c] & init_any_ != 0
  bool matches_empty_ = false;
  bool always_ = false;  // a nullable alternative not anchored at both ends
  std::string required_;
};

}  // namespace netscope::tui
