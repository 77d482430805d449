// FastRegex (tui/fast_regex) against std::regex: the same answers on the shapes it takes,
// nullopt on the others.

#include "tui/fast_regex.hpp"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

namespace netscope::tui {
namespace {

std::regex reference(const std::string& p) {
  auto flags = std::regex::ECMAScript | std::regex::icase;
#ifdef __GLIBCXX__
  flags |= std::regex_constants::__polynomial;
#endif
  return std::regex(p, flags);
}

bool ref_search(const std::regex& re, const std::string& s) {
  return std::regex_search(s.data(), s.data() + s.size(), re);
}

const std::vector<std::string>& texts() {
  static const std::vector<std::string> t = {
      "",
      "a",
      "A",
      "fire",
      "Firefox",
      "firefox-esr",
      "curl",
      "10.1.0.5",
      "443",
      "::1",
      "fe80::1",
      "AS15169",
      "as101",
      "google.com",
      "www.goog.com",
      "GOOGLE.COM.",
      "host-1.example",
      "tcp",
      "udp",
      "ESTABLISHED",
      "time_wait",
      "a b\tc",
      "x\ny",
      "\r",
      "zzzz",
      "aaaaaaaaab",
      "abab",
      "_",
      "[x]",
      "a.b",
      "fire\xc3\xa9",
      "-",
      "ba",
      "abcabc",
      "Z[a",
      "100",
  };
  return t;
}

void expect_same(const std::string& pattern) {
  const auto fast = FastRegex::compile(pattern);
  ASSERT_TRUE(fast.has_value()) << pattern;
  const std::regex re = reference(pattern);
  for (const std::string& t : texts()) {
    EXPECT_EQ(fast->search(t), ref_search(re, t)) << "/" << pattern << "/ on '" << t << "'";
  }
  EXPECT_EQ(fast->matches_empty(), ref_search(re, ""));
  if (!fast->required().empty()) {
    for (const std::string& t : texts()) {
      std::string low = t;
      for (char& c : low) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (low.find(fast->required()) == std::string::npos) {
        EXPECT_FALSE(fast->search(t)) << pattern << " needs '" << fast->required() << "'";
      }
    }
  }
}

TEST(TuiFastRegex, common_shapes_agree_with_std_regex) {
  for (const char* p : {"fire",          "^fire",    "fire$",       "^fire$",  "goog(le)?\\.com$",
                        "^10\\.1\\.",    "^443$",    "::1$",        "^AS1",    "fire|curl",
                        "^(tcp|udp)$",   "[0-9]{3}", "e.t",         "x*",      "^$",
                        "a+b",           "(ab)+",    "(?:ab){2}",   "a{2,}",   "a{1,3}b",
                        "[a-f0-9:]+",    "[^a-z]",   "\\d+\\.\\d+", "\\w+",    "\\W",
                        "\\s",           "\\S+",     "[\\d.]+",     "[-a]",    "[a-]",
                        "[Z-a]",         "colou?r",  "a*?b",        "a+?",     "(a|)b",
                        "(|a)",          "^a|b$",    "zzz|^4",      "(a|b)*c", "\\.",
                        "\\-",           "\\[x\\]",  "[.]",         "a.b",     ".",
                        "^.$",           "\\t|\\n",  "\\r",         "[^\\s]",  "(fi|fe)(re|80)",
                        "^(a(b(c)?)?)$", "é",        "^.*$",        "F[iI]RE", "[A-Z]+",
                        "x{0}",          "^x{0}$",   "(a{2}){2}",   "^-$",     "[_]"}) {
    expect_same(p);
  }
}

TEST(TuiFastRegex, other_shapes_are_left_to_std_regex) {
  for (const char* p :
       {"\\bfire",     "fire\\B", "(?=a)a",  "(?!a)b",  "a(^b)",     "(a$)",  "a$b",
        "[[:alpha:]]", "\\x41",   "\\u0041", "\\0",     "\\ca",      "[]a]",  "a]",
        "a}",          "a{,2}",   "[a-c-e]", "[\\d-z]", "(a{9}){9}", "a{65}", "[\\W]"}) {
    EXPECT_FALSE(FastRegex::compile(p).has_value()) << p;
  }
}

TEST(TuiFastRegex, a_literal_run_is_required) {
  EXPECT_EQ(FastRegex::compile("^Fire")->required(), "fire");
  EXPECT_EQ(FastRegex::compile("goog(le)?\\.coms$")->required(), ".coms");
  EXPECT_EQ(FastRegex::compile("a|b")->required(), "");
  EXPECT_EQ(FastRegex::compile("x*")->required(), "");
}

// Random patterns from the supported grammar against std::regex on random texts.
std::string random_pattern(std::mt19937& rng, int depth) {
  const char* atoms[] = {"a",     "b",   "A", ".", "\\d",   "\\w", "\\s", "[ab]", "[^a]",
                         "[a-c]", "\\.", "1", "-", "[0-9]", "\\W", "\\D", "\\S"};
  const char* quants[] = {"", "", "", "*", "+", "?", "{2}", "{1,2}", "{0,}", "*?", "{2,3}"};
  std::string p;
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) {
    if (depth < 2 && rng() % 5 == 0) {
      p += rng() % 2 ? "(" : "(?:";
      p += random_pattern(rng, depth + 1);
      if (rng() % 2) p += "|" + random_pattern(rng, depth + 1);
      p += ")";
    } else {
      p += atoms[rng() % std::size(atoms)];
    }
    p += quants[rng() % std::size(quants)];
  }
  return p;
}

TEST(TuiFastRegex, random_patterns_agree_with_std_regex) {
  std::mt19937 rng(1234);
  const std::string alphabet = "aAbB1. -_\t";
  int compiled = 0;
  for (int k = 0; k < 1500; ++k) {
    std::string p = random_pattern(rng, 0);
    if (rng() % 4 == 0) p = "^" + p;
    if (rng() % 4 == 0) p += "$";
    if (rng() % 6 == 0) p += "|" + random_pattern(rng, 1);
    const auto fast = FastRegex::compile(p);
    if (!fast) continue;  // more than 64 positions
    ++compiled;
    const std::regex re = reference(p);
    for (int t = 0; t < 30; ++t) {
      std::string s;
      const int len = static_cast<int>(rng() % 8);
      for (int i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
      ASSERT_EQ(fast->search(s), ref_search(re, s)) << "/" << p << "/ on '" << s << "'";
    }
  }
  EXPECT_GT(compiled, 1000);
}

}  // namespace
}  // namespace netscope::tui
