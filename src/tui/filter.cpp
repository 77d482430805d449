#include "tui/filter.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <mutex>
#include <regex>
#include <unordered_map>
#include <vector>

#include "tui/fast_regex.hpp"
#include "tui/intern.hpp"

namespace netscope::tui {
namespace {

using monitor::ConnectionRecord;
using monitor::ProcessRecord;
using monitor::RemoteRecord;

enum class Key : std::uint8_t {
  any,  // a bare word
  port,
  sport,
  dport,
  src,
  dst,
  process,
  pid,
  user,
  host,
  app,
  proto,
  state,
  country,
  asn,
  container,
  alert,
};

struct Keyword {
  std::string_view name;
  Key key;
};
constexpr std::array<Keyword, 17> kKeywords{{
    {"port", Key::port},
    {"sport", Key::sport},
    {"dport", Key::dport},
    {"src", Key::src},
    {"dst", Key::dst},
    {"process", Key::process},
    {"pid", Key::pid},
    {"user", Key::user},
    {"sni", Key::host},
    {"host", Key::host},
    {"app", Key::app},
    {"proto", Key::proto},
    {"state", Key::state},
    {"country", Key::country},
    {"asn", Key::asn},
    {"container", Key::container},
    {"alert", Key::alert},
}};
constexpr std::string_view kKeywordList =
    "port sport dport src dst process pid user sni host app proto state country asn "
    "container alert";

// How a term's value is matched.
enum class Kind : std::uint8_t {
  text,     // case-insensitive substring of `needle` (lowercased at parse time)
  exact,    // case-insensitive equality (country codes)
  regex,    // std::regex search
  number,   // lo <= n <= hi
  network,  // address within net/bits (an exact address is a /128)
  present,  // `alert:` / `alert:yes`: the field is not empty
};

constexpr char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// ASCII case-insensitive search for a needle that is already lowercase. No allocation.
bool imatch_at(std::string_view hay, std::size_t i, std::string_view needle) {
  for (std::size_t k = 0; k < needle.size(); ++k) {
    if (lower(hay[i + k]) != needle[k]) return false;
  }
  return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
  const std::size_t n = needle.size();
  if (n == 0) return true;
  if (hay.size() < n) return false;
  const auto first = static_cast<unsigned char>(needle[0]);
  const std::size_t last = hay.size() - n;  // the last start position
  std::size_t i = 0;
  // Eight start positions per step (SWAR): a byte is a candidate when (byte | fold) equals
  // the needle's first byte, fold = 0x20 for a letter so that both cases hit. The zero-byte
  // test may flag a byte next to a true hit, so every candidate word is verified exactly.
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const std::uint64_t fold = first >= 'a' && first <= 'z' ? 0x20 * kOnes : 0;
  const std::uint64_t pattern = first * kOnes;
  for (; i + 8 <= last + 1; i += 8) {  // bytes i..i+7 lie within hay: i + 7 <= last
    std::uint64_t word = 0;
    std::memcpy(&word, hay.data() + i, 8);
    const std::uint64_t x = (word | fold) ^ pattern;
    if (((x - kOnes) & ~x & kHighs) == 0) continue;
    for (std::size_t k = i; k < i + 8; ++k) {
      if (imatch_at(hay, k, needle)) return true;
    }
  }
  for (; i <= last; ++i) {
    if ((static_cast<unsigned char>(hay[i]) | (fold & 0xFF)) == first &&
        imatch_at(hay, i, needle)) {
      return true;
    }
  }
  return false;
}

bool iequals(std::string_view a, std::string_view lowered) {
  if (a.size() != lowered.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lowered[i]) return false;
  }
  return true;
}

// Stack text of numbers and addresses, for regexes and bare words over those fields.
struct SmallText {
  std::array<char, 64> buf{};
  std::size_t len = 0;
  std::string_view view() const { return {buf.data(), len}; }
};

SmallText number_text(std::uint64_t n, std::string_view prefix = {}) {
  SmallText t;
  if (!prefix.empty()) std::memcpy(t.buf.data(), prefix.data(), prefix.size());
  const auto r = std::to_chars(t.buf.data() + prefix.size(), t.buf.data() + t.buf.size(), n);
  t.len = static_cast<std::size_t>(r.ptr - t.buf.data());
  return t;
}

// Writes the address at p (at most 46 bytes) and returns the end. IPv4 by hand: it is the
// common case and inet_ntop's printf path costs more than the rest of a match.
char* write_address(char* p, const core::IpAddress& a) {
  if (a.is_v4()) {
    const auto& b = a.bytes();
    for (std::size_t i = 12; i < 16; ++i) {
      if (i != 12) *p++ = '.';
      p = std::to_chars(p, p + 3, b[i]).ptr;
    }
    return p;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, a.bytes().data(), text, sizeof text) == nullptr) return p;
  const std::size_t n = std::strlen(text);
  std::memcpy(p, text, n);
  return p + n;
}

SmallText address_text(const core::IpAddress& a) {
  SmallText t;
  t.len = static_cast<std::size_t>(write_address(t.buf.data(), a) - t.buf.data());
  return t;
}

// "10.0.0.1:443" / "[::1]:443", as the TUI shows an endpoint.
SmallText endpoint_text(const core::IpAddress& a, std::uint16_t port) {
  SmallText t;
  const bool v4 = a.is_v4();
  char* p = t.buf.data();
  if (!v4) *p++ = '[';
  p = write_address(p, a);
  if (!v4) *p++ = ']';
  *p++ = ':';
  p = std::to_chars(p, t.buf.data() + t.buf.size(), port).ptr;
  t.len = static_cast<std::size_t>(p - t.buf.data());
  return t;
}

// A compiled regex with a memo of its answers. std::regex_search costs microseconds per
// field, but the fields the TUI filters repeat (process names, SNI, states, ports) and so
// do the rows from one frame to the next: the memo turns a regex filter over 100,000
// connections from a second into milliseconds. Bounded; the mutex keeps a Filter shared
// between threads safe.
//
// The common shapes compile into a FastRegex as well (tui/fast_regex.hpp), which then
// answers every search without the memo: a few nanoseconds a byte.
class RegexMatcher {
 public:
  RegexMatcher(const std::string& pattern, std::regex::flag_type flags)
      : re_(pattern, flags), fast_(FastRegex::compile(pattern)), matches_empty_(run({})) {}

  const FastRegex* fast() const { return fast_ ? &*fast_ : nullptr; }

  bool search(std::string_view field) const {
    if (field.empty()) return matches_empty_;  // most DPI fields of most rows
    if (fast_) return fast_->search(field);
    if (field.size() > kMaxMemoKey) return run(field);
    const std::lock_guard lock(mutex_);
    if (const auto it = memo_.find(field); it != memo_.end()) return it->second;
    const bool found = run(field);
    if (memo_.size() >= kMaxMemo) memo_.clear();
    memo_.emplace(std::string(field), found);
    return found;
  }

 private:
  static constexpr std::size_t kMaxMemo = 1 << 17;  // at most ~15 MB
  static constexpr std::size_t kMaxMemoKey = 256;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  bool run(std::string_view field) const {
    try {
      return std::regex_search(field.data(), field.data() + field.size(), re_);
    } catch (const std::exception&) {  // error_complexity / error_stack: no match
      return false;
    }
  }

  std::regex re_;
  std::optional<FastRegex> fast_;
  bool matches_empty_ = false;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, bool, Hash, std::equal_to<>> memo_;
};

struct Term {
  Key key = Key::any;
  Kind kind = Kind::text;
  bool negate = false;
  // A bare word that could occur in the text of a number (pid, port, ASN) or an address;
  // other bare words skip formatting those.
  bool numeric_text = false;
  bool on_address_text = false;
  std::string needle;  // lowercased
  std::shared_ptr<const RegexMatcher> re;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  core::IpAddress net;
  unsigned bits = 128;

  // Inline for the common case (a substring; most fields are shorter than the needle or
  // empty, and cost a compare); the rest out of line.
  bool text(std::string_view field) const {
    if (kind == Kind::text) return field.size() >= needle.size() && icontains(field, needle);
    return text_other(field);
  }
  [[gnu::noinline]] bool text_other(std::string_view field) const {
    switch (kind) {
      case Kind::regex:
        return re->search(field);
      case Kind::exact:
        return iequals(field, needle);
      case Kind::present:
        return !field.empty();
      default:
        return icontains(field, needle);
    }
  }
  bool number(std::uint64_t n) const {
    if (kind == Kind::number) return n >= lo && n <= hi;
    if (kind == Kind::regex) return text(number_text(n).view());
    return false;
  }
  bool address(const core::IpAddress& a) const {
    if (kind == Kind::network) {
      const auto& x = a.bytes();
      const auto& y = net.bytes();
      const unsigned whole = bits / 8;
      if (std::memcmp(x.data(), y.data(), whole) != 0) return false;
      const unsigned rest = bits % 8;
      if (rest == 0) return true;
      const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
      return (x[whole] & mask) == (y[whole] & mask);
    }
    if (kind == Kind::number || kind == Kind::present) return false;
    return text(address_text(a).view());
  }

  bool bare(const ConnectionRecord& c) const;
  bool bare(const ProcessRecord& p) const;
  bool bare(const RemoteRecord& r) const;
  bool positive(const ConnectionRecord& c) const;
};

// The text fields of a connection a bare word searches, in declaration order (one pass
// forward through the record's cache lines). ConnectionText packs the same list.
std::array<const std::string*, 24> bare_fields(const ConnectionRecord& c) {
  return {&c.proto_name,        &c.remote_host,    &c.interface,       &c.state,
          &c.kernel_state,      &c.process,        &c.attribution,     &c.close_reason,
          &c.service,           &c.dpi->app,       &c.dpi->sni,        &c.dpi->alpn,
          &c.dpi->tls_version,  &c.dpi->ja3,       &c.dpi->ja4,        &c.dpi->http_host,
          &c.dpi->http_method,  &c.dpi->http_path, &c.dpi->ssh_client, &c.dpi->ssh_server,
          &c.dpi->quic_version, &c.country,        &c.asn_org,         &c.alert};
}

bool Term::bare(const ConnectionRecord& c) const {
  for (const std::string* f : bare_fields(c)) {
    if (text(*f)) return true;
  }
  if (numeric_text) {
    if (c.pid && *c.pid >= 0 && text(number_text(static_cast<std::uint64_t>(*c.pid)).view())) {
      return true;
    }
    if (c.asn && text(number_text(*c.asn, "AS").view())) return true;
    if (c.dpi->http_status && *c.dpi->http_status >= 0 &&
        text(number_text(static_cast<std::uint64_t>(*c.dpi->http_status)).view())) {
      return true;
    }
  }
  if (on_address_text) {
    if (kind == Kind::regex) {
      // Addresses and ports apart, so that an anchored regex (/^10\.1\./, /::1$/, /^443$/)
      // sees them alone, and the memo hits on ports and on addresses from frame to frame.
      if (text(address_text(c.local_addr).view())) return true;
      if (text(address_text(c.remote_addr).view())) return true;
      if (number(c.local_port) || number(c.remote_port)) return true;
    } else {
      // The endpoints as shown ("10.0.0.1:443", "[::1]:53") hold addresses and ports.
      if (text(endpoint_text(c.local_addr, c.local_port).view())) return true;
      if (text(endpoint_text(c.remote_addr, c.remote_port).view())) return true;
    }
  }
  return false;
}

bool Term::bare(const ProcessRecord& p) const {
  for (const std::string* f : {&p.name, &p.cmdline, &p.exe, &p.user, &p.container,
                               &p.container_runtime, &p.pod_uid, &p.unit, &p.unknown_reason}) {
    if (text(*f)) return true;
  }
  if (numeric_text && p.pid && *p.pid >= 0 &&
      text(number_text(static_cast<std::uint64_t>(*p.pid)).view())) {
    return true;
  }
  for (const monitor::DnsEventRecord& d : p.dns_history) {
    if (text(d.query) || text(d.alert)) return true;
  }
  return false;
}

bool Term::bare(const RemoteRecord& r) const {
  if (text(r.host) || text(r.country) || text(r.asn_org)) return true;
  if (numeric_text && r.asn && text(number_text(*r.asn, "AS").view())) return true;
  if (on_address_text && text(address_text(r.addr).view())) return true;
  return false;
}

// The term without its `!`, on one connection.
bool Term::positive(const ConnectionRecord& c) const {
  switch (key) {
    case Key::any:
      return bare(c);
    case Key::port:
      return number(c.local_port) || number(c.remote_port);
    case Key::sport:
      return number(c.local_port);
    case Key::dport:
      return number(c.remote_port);
    case Key::src:
      return address(c.local_addr);
    case Key::dst:
      return address(c.remote_addr) || (kind != Kind::network && text(c.remote_host));
    case Key::process:
      return text(c.process);
    case Key::pid:
      return c.pid && *c.pid >= 0 && number(static_cast<std::uint64_t>(*c.pid));
    case Key::user:
    case Key::container:
      return false;  // connections carry neither (README)
    case Key::host:
      return text(c.dpi->sni) || text(c.dpi->http_host) || text(c.remote_host);
    case Key::app:
      return text(c.dpi->app) || text(c.dpi->ndpi_app);
    case Key::proto:
      return kind == Kind::number ? number(c.proto) : text(c.proto_name);
    case Key::state:
      return text(c.state) || text(c.kernel_state);
    case Key::country:
      return text(c.country);
    case Key::asn:  // a regex sees the number and the organisation
      if (kind == Kind::number) return c.asn && number(*c.asn);
      return (kind == Kind::regex && c.asn && number(*c.asn)) || text(c.asn_org);
    case Key::alert:
      return text(c.alert);
  }
  return false;
}

bool any_connection(const Term& t, std::span<const ConnectionRecord* const> conns) {
  return std::any_of(conns.begin(), conns.end(),
                     [&](const ConnectionRecord* c) { return c != nullptr && t.positive(*c); });
}

// `any()`: whether one of the row's connections has the term positive.
template <typename AnyConnection>
bool positive(const Term& t, const ProcessRecord& p, AnyConnection any) {
  switch (t.key) {
    case Key::any:
      return t.bare(p) || any();
    case Key::process:
      return t.text(p.name);
    case Key::pid:
      return p.pid && *p.pid >= 0 && t.number(static_cast<std::uint64_t>(*p.pid));
    case Key::user:
      return t.text(p.user);
    case Key::container:  // the id, the runtime or the pod
      return t.text(p.container) || t.text(p.container_runtime) || t.text(p.pod_uid);
    case Key::alert:
      return std::any_of(p.dns_history.begin(), p.dns_history.end(),
                         [&](const monitor::DnsEventRecord& d) { return t.text(d.alert); }) ||
             any();
    default:
      return any();
  }
}

template <typename AnyConnection>
bool positive(const Term& t, const RemoteRecord& r, AnyConnection any) {
  switch (t.key) {
    case Key::any:
      return t.bare(r) || any();
    case Key::dst:
      return t.address(r.addr) || (t.kind != Kind::network && t.text(r.host));
    case Key::host:
      return t.text(r.host) || any();
    case Key::country:
      return t.text(r.country);
    case Key::asn:
      if (t.kind == Kind::number) return r.asn && t.number(*r.asn);
      return (t.kind == Kind::regex && r.asn && t.number(*r.asn)) || t.text(r.asn_org);
    default:
      return any();
  }
}

// A plain bare word, which ConnectionText serves ('\0' separates its fields, so a needle
// holding one must look field by field).
bool served_by_text(const Term& t) {
  return t.key == Key::any && t.kind == Kind::text && t.needle.find('\0') == std::string::npos;
}
// A bare regex that ConnectionText serves: one FastRegex runs over each packed field.
bool regex_by_text(const Term& t) {
  return t.key == Key::any && t.kind == Kind::regex && t.re->fast() != nullptr;
}

// Whether row j of a packed section holds `needle` (no per-call set-up, unlike memmem).
bool row_has(const std::string& arena, const std::vector<std::size_t>& ends, std::size_t j,
             std::string_view needle) {
  const std::size_t b = j == 0 ? 0 : ends[j - 1];
  const std::size_t e = ends[j];
  return e - b >= needle.size() &&
         std::string_view(arena.data() + b, e - b).find(needle) != std::string_view::npos;
}

// Marks the rows of `arena` (row j ends at ends[j]) that contain `needle`: memmem over the
// section, then a jump to the next row after each hit. Where hits are dense (a digit, a
// common word) memmem would be called once a row and set up its tables each time, so after
// a hit the next rows are tested one by one until 8 in a row miss.
void scan_rows(const std::string& arena, const std::vector<std::size_t>& ends,
               std::string_view needle, std::vector<std::uint8_t>& hit) {
  constexpr std::size_t kRowByRow = 8;
  std::size_t row = 0;
  while (row < ends.size()) {
    const std::size_t pos = row == 0 ? 0 : ends[row - 1];
    if (pos >= arena.size()) return;
    const void* p = memmem(arena.data() + pos, arena.size() - pos, needle.data(), needle.size());
    if (p == nullptr) return;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(p) - arena.data());
    // The hit's row: usually a few rows on (dense hits), else a binary search.
    std::size_t step = 0;
    while (step < 8 && row < ends.size() && ends[row] <= at) ++row, ++step;
    if (step == 8) {
      row = static_cast<std::size_t>(
          std::upper_bound(ends.begin() + static_cast<std::ptrdiff_t>(row), ends.end(), at) -
          ends.begin());
    }
    if (row >= ends.size()) return;
    hit[row] = 1;
    ++row;
    for (std::size_t misses = 0; misses < kRowByRow && row < ends.size(); ++row) {
      if (row_has(arena, ends, row, needle)) {
        hit[row] = 1;
        misses = 0;
      } else {
        ++misses;
      }
    }
  }
}

void append_lower(std::string& out, std::string_view s) {
  const std::size_t at = out.size();
  out.append(s);
  for (std::size_t i = at; i < out.size(); ++i) out[i] = lower(out[i]);
  out.push_back('\0');
}

// --- parsing -------------------------------------------------------------------------------

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

std::optional<std::uint64_t> parse_number(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t n = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || n > max) return std::nullopt;
  return n;
}

// Budget for a regex: std::regex compiles to an NFA whose matching recurses over chains of
// states, and a bounded quantifier copies its operand, so /(a{0,999}){0,999}/ would blow the
// stack long before libstdc++'s own state limit stops it. We estimate the NFA size from the
// pattern (atoms, times each enclosing {n,m}) and refuse patterns above the budget.
constexpr std::size_t kMaxRegexBytes = 512;
constexpr std::uint64_t kMaxRegexStates = 4096;

// Why a pattern is refused before std::regex sees it; empty when it is not. Besides the
// size estimate, long digit runs in a back-reference or a repetition count are refused:
// libstdc++ accumulates those in a signed long and overflows (UB) past 19 digits.
std::string regex_refusal(std::string_view p) {
  struct Level {
    std::uint64_t total = 0;
    std::uint64_t last = 0;  // the size of the last atom, which a quantifier multiplies
  };
  constexpr std::uint64_t kCap = 1'000'000'000;
  constexpr std::size_t kMaxCountDigits = 6;
  std::vector<Level> stack(1);
  auto atom = [&](std::uint64_t size) {
    stack.back().total += size;
    stack.back().last = size;
  };
  auto backref = [&](std::size_t i) {
    return i + 1 < p.size() && p[i + 1] >= '1' && p[i + 1] <= '9';
  };
  const std::string kBackref = "back-references (\\1 ...) are not supported";
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (backref(i)) return kBackref;
      ++i;
      atom(1);
    } else if (c == '[') {
      ++i;
      if (i < p.size() && p[i] == '^') ++i;
      if (i < p.size() && p[i] == ']') ++i;
      while (i < p.size() && p[i] != ']') {
        if (p[i] == '\\' && backref(i)) return kBackref;
        i += p[i] == '\\' ? 2 : 1;
      }
      atom(1);
    } else if (c == '(') {
      stack.emplace_back();
    } else if (c == ')') {
      if (stack.size() > 1) {
        const std::uint64_t inner = stack.back().total + 2;
        stack.pop_back();
        atom(inner);
      }
    } else if (c == '{') {
      // {n}, {n,}, {n,m}: the operand is copied max(n, m) + 1 times.
      std::size_t j = i + 1;
      std::uint64_t n = 0;
      std::uint64_t copies = 0;
      std::size_t run = 0;
      bool digits = false;
      while (j < p.size() && (is_digit(p[j]) || p[j] == ',')) {
        if (p[j] == ',') {
          n = 0;
          run = 0;
        } else {
          if (++run > kMaxCountDigits) return "repetition count too large";
          n = n * 10 + static_cast<std::uint64_t>(p[j] - '0');
          digits = true;
        }
        copies = std::max(copies, n);
        ++j;
      }
      if (digits && j < p.size() && p[j] == '}') {
        Level& l = stack.back();
        const std::uint64_t extra = std::min<std::uint64_t>(l.last * (copies + 1), kCap);
        l.total += extra;
        l.last += extra;
        i = j;
      } else {
        atom(1);
      }
    } else if (c == '*' || c == '+' || c == '?' || c == '|') {
      stack.back().total += 2;
    } else {
      atom(1);
    }
    if (stack.back().total > kMaxRegexStates)
      return "regex too complex (repetition counts too large)";
  }
  std::uint64_t total = 0;
  for (const Level& l : stack) total += l.total;
  if (total > kMaxRegexStates) return "regex too complex (repetition counts too large)";
  return {};
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<std::vector<Term>> run(FilterError& error) {
    std::vector<Term> terms;
    while (true) {
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (pos_ >= s_.size()) break;
      Term t;
      if (!term(t)) {
        error = error_;
        return std::nullopt;
      }
      terms.push_back(std::move(t));
    }
    return terms;
  }

 private:
  bool fail(std::size_t offset, std::string message) {
    error_.offset = offset;
    error_.message = std::move(message);
    return false;
  }
  bool at_end_of_term() const { return pos_ >= s_.size() || is_space(s_[pos_]); }

  bool term(Term& t) {
    const std::size_t start = pos_;
    if (s_[pos_] == '!') {
      t.negate = true;
      ++pos_;
      if (at_end_of_term()) return fail(start, "'!' must be followed by a term");
    }
    // `word:` at the start of a term names a keyword.
    std::size_t end = pos_;
    while (end < s_.size() && is_alpha(s_[end])) ++end;
    if (end > pos_ && end < s_.size() && s_[end] == ':') {
      const std::string name = lowercase(s_.substr(pos_, end - pos_));
      const auto kw = std::find_if(kKeywords.begin(), kKeywords.end(),
                                   [&](const Keyword& k) { return k.name == name; });
      if (kw != kKeywords.end()) {
        t.key = kw->key;
        const std::size_t key_start = pos_;
        pos_ = end + 1;
        return keyword_value(t, key_start, std::string(kw->name));
      }
      if (!looks_like_address(pos_)) {
        return fail(
            pos_, "unknown keyword '" + name + ":' (keywords: " + std::string(kKeywordList) + ")");
      }
    }
    return bare_value(t);
  }

  // An IPv6 address or an endpoint ("fe80::1", "beef:1::2") is a bare word, not a keyword.
  bool looks_like_address(std::size_t from) const {
    std::size_t end = from;
    while (end < s_.size() && !is_space(s_[end])) ++end;
    const std::string_view token = s_.substr(from, end - from);
    if (token.find("::") != std::string_view::npos) return true;
    return std::all_of(token.begin(), token.end(),
                       [](char c) { return is_hex(c) || c == ':' || c == '.'; }) &&
           core::IpAddress::parse(token).has_value();
  }

  // The raw value at pos_: "quoted", /regex/ or a plain word. Sets `value`, `is_regex`.
  bool raw_value(std::string& value, bool& is_regex, std::size_t& value_start) {
    value_start = pos_;
    is_regex = false;
    value.clear();
    const char c = s_[pos_];
    if (c == '/') {
      std::size_t i = pos_ + 1;
      while (i < s_.size() && s_[i] != '/') i += s_[i] == '\\' ? 2 : 1;
      if (i >= s_.size()) return fail(pos_, "unterminated regex: no closing '/'");
      value.assign(s_.substr(pos_ + 1, i - pos_ - 1));
      pos_ = i + 1;
      if (!at_end_of_term()) return fail(pos_, "a space must follow the closing '/'");
      if (value.empty()) return fail(value_start, "empty regex");
      is_regex = true;
      return true;
    }
    if (c == '"') {
      std::size_t i = pos_ + 1;
      for (; i < s_.size() && s_[i] != '"'; ++i) {
        if (s_[i] == '\\' && i + 1 < s_.size() && (s_[i + 1] == '"' || s_[i + 1] == '\\')) ++i;
        value.push_back(s_[i]);
      }
      if (i >= s_.size()) return fail(pos_, "unterminated quote: no closing '\"'");
      pos_ = i + 1;
      if (!at_end_of_term()) return fail(pos_, "a space must follow the closing '\"'");
      if (value.empty()) return fail(value_start, "empty quoted value");
      return true;
    }
    const std::size_t begin = pos_;
    while (!at_end_of_term()) ++pos_;
    value.assign(s_.substr(begin, pos_ - begin));
    return true;
  }

  bool compile_regex(Term& t, const std::string& pattern, std::size_t offset) {
    if (pattern.size() > kMaxRegexBytes) {
      return fail(offset, "regex too long (at most " + std::to_string(kMaxRegexBytes) + " bytes)");
    }
    if (const std::string why = regex_refusal(pattern); !why.empty()) return fail(offset, why);
    auto flags = std::regex::ECMAScript | std::regex::icase;
#ifdef __GLIBCXX__
    // libstdc++: match with the breadth-first executor, linear in the text and without
    // recursion over it (no back-references then).
    flags |= std::regex_constants::__polynomial;
#endif
    try {
      t.re = std::make_shared<const RegexMatcher>(pattern, flags);
    } catch (const std::regex_error& e) {
      return fail(offset, std::string("bad regex: ") + e.what());
    } catch (const std::exception& e) {
      return fail(offset, std::string("bad regex: ") + e.what());
    }
    t.kind = Kind::regex;
    return true;
  }

  bool bare_value(Term& t) {
    std::string value;
    bool is_regex = false;
    std::size_t offset = 0;
    if (!raw_value(value, is_regex, offset)) return false;
    t.key = Key::any;
    if (is_regex) {
      t.numeric_text = t.on_address_text = true;
      return compile_regex(t, value, offset);
    }
    t.needle = lowercase(value);
    t.numeric_text = std::any_of(t.needle.begin(), t.needle.end(), is_digit);
    t.on_address_text = std::all_of(t.needle.begin(), t.needle.end(), [](char c) {
      return is_hex(c) || c == '.' || c == ':' || c == '[' || c == ']';
    });
    return true;
  }

  bool keyword_value(Term& t, std::size_t key_start, const std::string& name) {
    if (at_end_of_term()) {
      if (t.key == Key::alert) {
        t.kind = Kind::present;
        return true;
      }
      return fail(key_start, "empty value for '" + name + ":'");
    }
    std::string value;
    bool is_regex = false;
    std::size_t offset = 0;
    if (!raw_value(value, is_regex, offset)) return false;
    if (is_regex) return compile_regex(t, value, offset);
    switch (t.key) {
      case Key::port:
      case Key::sport:
      case Key::dport:
        return port_value(t, value, offset, name);
      case Key::pid: {
        const auto n = parse_number(value, 0x7FFFFFFF);
        if (!n) return fail(offset, "'pid:' needs a process id (a number)");
        t.kind = Kind::number;
        t.lo = t.hi = *n;
        return true;
      }
      case Key::proto:
        if (std::all_of(value.begin(), value.end(), is_digit)) {
          const auto n = parse_number(value, 255);
          if (!n) return fail(offset, "'proto:' needs a name (tcp) or a protocol number 0-255");
          t.kind = Kind::number;
          t.lo = t.hi = *n;
          return true;
        }
        break;
      case Key::asn: {
        std::string_view digits = value;
        if (digits.size() > 2 && lower(digits[0]) == 'a' && lower(digits[1]) == 's') {
          digits.remove_prefix(2);
        }
        if (std::all_of(digits.begin(), digits.end(), is_digit)) {
          const auto n = parse_number(digits, 0xFFFFFFFF);
          if (!n) return fail(offset, "'asn:' number out of range (at most 4294967295)");
          t.kind = Kind::number;
          t.lo = t.hi = *n;
          return true;
        }
        break;
      }
      case Key::src:
      case Key::dst:
        return address_value(t, value, offset, name);
      case Key::country:
        t.kind = Kind::exact;
        break;
      case Key::alert:
        if (iequals(value, "yes")) {
          t.kind = Kind::present;
          return true;
        }
        break;
      default:
        break;
    }
    t.needle = lowercase(value);
    return true;
  }

  bool port_value(Term& t, std::string_view value, std::size_t offset, const std::string& name) {
    const auto dash = value.find('-');
    const auto lo = parse_number(value.substr(0, dash), 65535);
    const auto hi =
        dash == std::string_view::npos ? lo : parse_number(value.substr(dash + 1), 65535);
    if (!lo || !hi) {
      return fail(offset, "'" + name + ":' needs a port 0-65535 or a range like 1000-2000");
    }
    if (*lo > *hi) return fail(offset, "'" + name + ":' range is backwards");
    t.kind = Kind::number;
    t.lo = *lo;
    t.hi = *hi;
    return true;
  }

  // An address ("10.0.0.1", "::1"), a network ("10.0.0.0/8", "fe80::/10") or, for anything
  // that does not look like either, a substring of the address text (and of the host name
  // for dst:).
  bool address_value(Term& t, std::string_view value, std::size_t offset, const std::string& name) {
    const auto slash = value.find('/');
    const std::string_view addr_text = value.substr(0, slash);
    const bool address_chars =
        !addr_text.empty() && std::all_of(addr_text.begin(), addr_text.end(),
                                          [](char c) { return is_hex(c) || c == '.' || c == ':'; });
    const auto addr = core::IpAddress::parse(addr_text);
    if (slash == std::string_view::npos) {
      if (addr) {
        t.kind = Kind::network;
        t.net = *addr;
        t.bits = 128;
        return true;
      }
      t.needle = lowercase(value);
      return true;
    }
    const bool has_dot_or_colon = addr_text.find_first_of(".:") != std::string_view::npos;
    if (!addr) {
      if (address_chars && has_dot_or_colon) {
        return fail(offset, "'" + name + ":' bad address in CIDR '" + std::string(value) + "'");
      }
      t.needle = lowercase(value);
      return true;
    }
    // Dotted text is an IPv4 prefix; text with colons an IPv6 one, even ::ffff:0:0/96.
    const bool v4 = addr_text.find(':') == std::string_view::npos;
    const unsigned max_bits = v4 ? 32 : 128;
    const auto bits = parse_number(value.substr(slash + 1), max_bits);
    if (!bits) {
      return fail(offset + slash + 1,
                  "'" + name + ":' CIDR prefix must be 0-" + std::to_string(max_bits));
    }
    t.kind = Kind::network;
    t.net = *addr;
    // IPv4 lives in the IPv4-mapped range ::ffff:0:0/96 (core::IpAddress).
    t.bits = static_cast<unsigned>(*bits) + (v4 ? 96 : 0);
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  FilterError error_;
};

}  // namespace

struct Filter::Program {
  std::string text;
  std::vector<Term> terms;
};

std::optional<Filter> Filter::parse(std::string_view text, FilterError* error) {
  FilterError local;
  try {
    auto terms = Parser(text).run(local);
    if (!terms) {
      if (error != nullptr) *error = std::move(local);
      return std::nullopt;
    }
    Filter f;
    if (!terms->empty()) {
      auto program = std::make_shared<Program>();
      program->text.assign(text);
      program->terms = std::move(*terms);
      f.program_ = std::move(program);
    }
    return f;
  } catch (const std::exception& e) {  // bad_alloc: parse() never throws
    if (error != nullptr) {
      error->offset = 0;
      error->message = std::string("cannot parse the filter: ") + e.what();
    }
    return std::nullopt;
  }
}

bool Filter::empty() const {
  return program_ == nullptr;
}

const std::string& Filter::text() const {
  static const std::string kEmpty;
  return program_ ? program_->text : kEmpty;
}

bool Filter::process_needs_connections() const {
  if (!program_) return false;
  return std::any_of(program_->terms.begin(), program_->terms.end(), [](const Term& t) {
    return t.key != Key::process && t.key != Key::pid && t.key != Key::user &&
           t.key != Key::container;
  });
}

bool Filter::remote_needs_connections() const {
  if (!program_) return false;
  return std::any_of(program_->terms.begin(), program_->terms.end(), [](const Term& t) {
    return t.key != Key::dst && t.key != Key::country && t.key != Key::asn;
  });
}

bool Filter::needs_connections() const {
  return process_needs_connections() || remote_needs_connections();
}

bool Filter::matches(const ConnectionRecord& c) const {
  if (!program_) return true;
  for (const Term& t : program_->terms) {
    if (t.positive(c) == t.negate) return false;
  }
  return true;
}

bool Filter::matches(const ProcessRecord& p, std::span<const ConnectionRecord* const> conns) const {
  if (!program_) return true;
  for (const Term& t : program_->terms) {
    if (positive(t, p, [&] { return any_connection(t, conns); }) == t.negate) return false;
  }
  return true;
}

bool Filter::matches(const RemoteRecord& r, std::span<const ConnectionRecord* const> conns) const {
  if (!program_) return true;
  for (const Term& t : program_->terms) {
    if (positive(t, r, [&] { return any_connection(t, conns); }) == t.negate) return false;
  }
  return true;
}

ConnectionText::ConnectionText(std::span<const ConnectionRecord> rows) {
  text_end_.reserve(rows.size());
  numbers_end_.reserve(rows.size());
  addresses_end_.reserve(rows.size());
  text_.reserve(rows.size() * 96);
  numbers_.reserve(rows.size() * 16);
  addresses_.reserve(rows.size() * 40);
  for (const ConnectionRecord& c : rows) {
    for (const std::string* f : bare_fields(c)) {
      if (f->empty()) continue;
      if (f->find('\0') != std::string::npos) nul_ = true;
      append_lower(text_, *f);
    }
    text_end_.push_back(text_.size());
    // The same numbers and endpoints Term::bare formats (number_text, endpoint_text).
    if (c.pid && *c.pid >= 0) {
      append_lower(numbers_, number_text(static_cast<std::uint64_t>(*c.pid)).view());
    }
    if (c.asn) append_lower(numbers_, number_text(*c.asn, "AS").view());
    if (c.dpi->http_status && *c.dpi->http_status >= 0) {
      append_lower(numbers_, number_text(static_cast<std::uint64_t>(*c.dpi->http_status)).view());
    }
    numbers_end_.push_back(numbers_.size());
    append_lower(addresses_, endpoint_text(c.local_addr, c.local_port).view());
    append_lower(addresses_, endpoint_text(c.remote_addr, c.remote_port).view());
    addresses_end_.push_back(addresses_.size());
  }
}

bool Filter::uses_text() const {
  if (!program_) return false;
  return std::any_of(program_->terms.begin(), program_->terms.end(),
                     [](const Term& t) { return served_by_text(t) || regex_by_text(t); });
}

namespace {
// How many text fields Term::bare reads on a connection (bare_fields); a row of the packed
// text holds its non-empty ones.
constexpr std::size_t kBareFields = std::tuple_size_v<decltype(bare_fields(ConnectionRecord{}))>;

// Whether `re` matches one of the '\0'-terminated fields in [b, e); `count` adds their number.
bool regex_in_fields(const FastRegex& re, const char* b, const char* e, std::size_t* count) {
  bool found = false;
  while (b < e) {
    const auto* z = static_cast<const char*>(std::memchr(b, '\0', static_cast<std::size_t>(e - b)));
    if (z == nullptr) z = e;
    if (count != nullptr) ++*count;
    if (!found && re.search({b, static_cast<std::size_t>(z - b)})) {
      found = true;
      if (count == nullptr) return true;
    }
    b = z + 1;
  }
  return found;
}

// The endpoints ("10.0.0.1:443", "[::1]:53") with the address and the port apart, as
// Term::bare gives them to a regex.
bool regex_in_endpoints(const FastRegex& re, const char* b, const char* e) {
  while (b < e) {
    const auto* z = static_cast<const char*>(std::memchr(b, '\0', static_cast<std::size_t>(e - b)));
    if (z == nullptr) z = e;
    const std::string_view ep(b, static_cast<std::size_t>(z - b));
    const std::size_t colon = ep.rfind(':');
    if (colon != std::string_view::npos) {
      std::string_view addr = ep.substr(0, colon);
      if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
        addr = addr.substr(1, addr.size() - 2);
      }
      if (re.search(addr) || re.search(ep.substr(colon + 1))) return true;
    }
    b = z + 1;
  }
  return false;
}
}  // namespace

Filter::BareHits Filter::bare_hits(const ConnectionText& text) const {
  BareHits hits;
  if (!uses_text()) return hits;
  hits.resize(program_->terms.size());
  for (std::size_t i = 0; i < program_->terms.size(); ++i) {
    const Term& t = program_->terms[i];
    if (regex_by_text(t) && !text.nul_) {
      regex_hits(*t.re->fast(), text, hits[i]);
      continue;
    }
    if (!served_by_text(t)) continue;
    word_hits(t.needle, t.numeric_text, t.on_address_text, text, hits[i]);
  }
  return hits;
}

void Filter::word_hits(const std::string& needle, bool numbers, bool addresses,
                       const ConnectionText& text, std::vector<std::uint8_t>& hit) {
  const std::size_t n = text.rows();
  const std::lock_guard lock(text.scanned_mutex_);
  auto& kept = text.scanned_;
  // The narrowest earlier word this one contains, searching no fewer sections.
  const ConnectionText::Scanned* base = nullptr;
  for (const ConnectionText::Scanned& s : kept) {
    if ((numbers && !s.numbers) || (addresses && !s.addresses)) continue;
    if (needle.find(s.needle) == std::string::npos) continue;
    if (base == nullptr || s.count < base->count) base = &s;
  }
  if (base != nullptr && base->needle == needle) {
    hit = base->hit;
    return;
  }
  std::size_t count = 0;
  if (base != nullptr) {
    hit.assign(n, 0);
    for (std::size_t j = 0; j < n; ++j) {
      if (base->hit[j] == 0) continue;
      if (row_has(text.text_, text.text_end_, j, needle) ||
          (numbers && row_has(text.numbers_, text.numbers_end_, j, needle)) ||
          (addresses && row_has(text.addresses_, text.addresses_end_, j, needle))) {
        hit[j] = 1;
        ++count;
      }
    }
  } else {
    hit.assign(n, 0);
    scan_rows(text.text_, text.text_end_, needle, hit);
    if (numbers) scan_rows(text.numbers_, text.numbers_end_, needle, hit);
    if (addresses) scan_rows(text.addresses_, text.addresses_end_, needle, hit);
    for (const std::uint8_t h : hit) count += h;
  }
  if (kept.size() >= ConnectionText::kScannedKept) kept.erase(kept.begin());
  kept.push_back({needle, numbers, addresses, count, hit});
}

void Filter::regex_hits(const FastRegex& re, const ConnectionText& text,
                        std::vector<std::uint8_t>& hit) {
  const std::size_t n = text.rows();
  hit.assign(n, 0);
  // Rows that hold the literal every match holds; the others cannot match.
  std::vector<std::uint8_t> maybe;
  if (const std::string& lit = re.required(); !lit.empty()) {
    maybe.assign(n, 0);
    scan_rows(text.text_, text.text_end_, lit, maybe);
    // The numbers hold digits and "as", the endpoints hex digits, '.', ':', '[' and ']'.
    const auto only = [&lit](std::string_view chars) {
      return lit.find_first_not_of(chars) == std::string::npos;
    };
    if (only("0123456789as")) scan_rows(text.numbers_, text.numbers_end_, lit, maybe);
    if (only("0123456789abcdef.:[]")) {
      scan_rows(text.addresses_, text.addresses_end_, lit, maybe);
    }
  }
  const bool empty = re.matches_empty();
  for (std::size_t j = 0; j < n; ++j) {
    if (!maybe.empty() && maybe[j] == 0) continue;
    const char* t0 = text.text_.data() + (j == 0 ? 0 : text.text_end_[j - 1]);
    const char* t1 = text.text_.data() + text.text_end_[j];
    std::size_t fields = 0;
    if (regex_in_fields(re, t0, t1, empty ? &fields : nullptr) ||
        (empty && fields < kBareFields)) {  // an empty field matches too
      hit[j] = 1;
      continue;
    }
    const char* n0 = text.numbers_.data() + (j == 0 ? 0 : text.numbers_end_[j - 1]);
    const char* n1 = text.numbers_.data() + text.numbers_end_[j];
    const char* a0 = text.addresses_.data() + (j == 0 ? 0 : text.addresses_end_[j - 1]);
    const char* a1 = text.addresses_.data() + text.addresses_end_[j];
    hit[j] = regex_in_fields(re, n0, n1, nullptr) || regex_in_endpoints(re, a0, a1);
  }
}

namespace {
bool positive_at(const Term& t, std::size_t i, const ConnectionRecord& c, std::size_t row,
                 const Filter::BareHits& hits) {
  if (i < hits.size() && row < hits[i].size()) return hits[i][row] != 0;
  return t.positive(c);
}
}  // namespace

bool Filter::matches(const ConnectionRecord& c, std::size_t row, const BareHits& hits) const {
  if (!program_) return true;
  const auto& terms = program_->terms;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (positive_at(terms[i], i, c, row, hits) == terms[i].negate) return false;
  }
  return true;
}

bool Filter::term_bits_supported() const {
  return !program_ || program_->terms.size() <= 64;
}

std::uint64_t Filter::term_bits(const ConnectionRecord& c, std::size_t row,
                                const BareHits& hits) const {
  std::uint64_t bits = 0;
  if (!program_) return bits;
  const auto& terms = program_->terms;
  for (std::size_t i = 0; i < terms.size() && i < 64; ++i) {
    if (positive_at(terms[i], i, c, row, hits)) bits |= std::uint64_t{1} << i;
  }
  return bits;
}

std::string_view FieldValues::of(const ConnectionRecord& c, Field f) {
  switch (f) {
    case proto_name:
      return c.proto_name;
    case remote_host:
      return c.remote_host;
    case state:
      return c.state;
    case kernel_state:
      return c.kernel_state;
    case process:
      return c.process;
    case app:
      return c.dpi->app;
    case sni:
      return c.dpi->sni;
    case http_host:
      return c.dpi->http_host;
    case country:
      return c.country;
    case asn_org:
      return c.asn_org;
    case alert:
      return c.alert;
    case service:
      return c.service;
    case app_host:
      if (!c.dpi->sni.empty()) return c.dpi->sni;
      if (!c.dpi->http_host.empty()) return c.dpi->http_host;
      return c.dpi->app;
    case ndpi_app:
      return c.dpi->ndpi_app;
    case kCount:
      break;
  }
  return {};
}

FieldValues::FieldValues(std::span<const ConnectionRecord> rows, Field f) {
  intern::Interner<std::string_view, intern::TextHash> in;
  ids.resize(rows.size());
  for (std::size_t j = 0; j < rows.size(); ++j) ids[j] = in.add(of(rows[j], f));
  values = std::move(in.values());
}

namespace {
// The string fields a keyword term reads on a connection (Term::positive), when that is
// all it reads; empty when the term needs more (numbers, addresses) or is a bare word.
std::vector<FieldValues::Field> term_fields(const Term& t) {
  using F = FieldValues;
  if (t.kind == Kind::number || t.kind == Kind::network) return {};
  switch (t.key) {
    case Key::process:
      return {F::process};
    case Key::host:
      return {F::sni, F::http_host, F::remote_host};
    case Key::app:
      return {F::app, F::ndpi_app};
    case Key::proto:
      return {F::proto_name};
    case Key::state:
      return {F::state, F::kernel_state};
    case Key::country:
      return {F::country};
    case Key::alert:
      return {F::alert};
    case Key::asn:  // a regex also sees the number
      if (t.kind == Kind::regex) return {};
      return {F::asn_org};
    default:
      return {};
  }
}
}  // namespace

ConnectionNumbers::ConnectionNumbers(std::span<const ConnectionRecord> rows) {
  local_port.resize(rows.size());
  remote_port.resize(rows.size());
  proto.resize(rows.size());
  pid.resize(rows.size());
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const ConnectionRecord& c = rows[j];
    local_port[j] = c.local_port;
    remote_port[j] = c.remote_port;
    proto[j] = c.proto;
    pid[j] = c.pid && *c.pid >= 0 ? *c.pid : -1;
  }
}

namespace {
// A number term Term::positive decides from the ConnectionNumbers alone.
bool numbers_term(const Term& t) {
  if (t.kind != Kind::number) return false;
  return t.key == Key::port || t.key == Key::sport || t.key == Key::dport || t.key == Key::pid ||
         t.key == Key::proto;
}
}  // namespace

bool Filter::uses_numbers() const {
  return program_ && std::any_of(program_->terms.begin(), program_->terms.end(), numbers_term);
}

std::uint32_t Filter::fields_used() const {
  std::uint32_t mask = 0;
  if (!program_) return mask;
  for (const Term& t : program_->terms) {
    for (FieldValues::Field f : term_fields(t)) mask |= 1u << f;
  }
  return mask;
}

void Filter::field_hits(const PreparedRows& rows, BareHits& hits) const {
  if (!program_) return;
  const auto& terms = program_->terms;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const Term& t = terms[i];
    if (numbers_term(t)) {
      if (hits.size() < terms.size()) hits.resize(terms.size());
      const ConnectionNumbers& n = rows.numbers();
      std::vector<std::uint8_t>& hit = hits[i];
      hit.assign(n.proto.size(), 0);
      const auto in = [&t](std::uint64_t v) { return v >= t.lo && v <= t.hi; };
      for (std::size_t j = 0; j < hit.size(); ++j) {
        switch (t.key) {
          case Key::port:
            hit[j] = in(n.local_port[j]) || in(n.remote_port[j]);
            break;
          case Key::sport:
            hit[j] = in(n.local_port[j]);
            break;
          case Key::dport:
            hit[j] = in(n.remote_port[j]);
            break;
          case Key::pid:
            hit[j] = n.pid[j] >= 0 && in(static_cast<std::uint64_t>(n.pid[j]));
            break;
          default:  // proto
            hit[j] = in(n.proto[j]);
            break;
        }
      }
      continue;
    }
    const std::vector<FieldValues::Field> fields = term_fields(t);
    if (fields.empty()) continue;
    if (hits.size() < terms.size()) hits.resize(terms.size());
    std::vector<std::uint8_t>& hit = hits[i];
    hit.clear();
    for (FieldValues::Field f : fields) {
      const FieldValues& fv = rows.field(f);
      std::vector<std::uint8_t> verdict(fv.values.size());
      for (std::size_t v = 0; v < fv.values.size(); ++v) verdict[v] = t.text(fv.values[v]) ? 1 : 0;
      if (hit.empty()) hit.assign(fv.ids.size(), 0);
      for (std::size_t j = 0; j < fv.ids.size() && j < hit.size(); ++j)
        hit[j] |= verdict[fv.ids[j]];
    }
  }
}

bool Filter::matches_bits(std::uint64_t bits) const {
  if (!program_) return true;
  const auto& terms = program_->terms;
  for (std::size_t i = 0; i < terms.size() && i < 64; ++i) {
    if (((bits >> i) & 1) == (terms[i].negate ? 1u : 0u)) return false;
  }
  return true;
}

bool Filter::matches_bits(const ProcessRecord& p, std::uint64_t any_bits) const {
  if (!program_) return true;
  const auto& terms = program_->terms;
  for (std::size_t i = 0; i < terms.size() && i < 64; ++i) {
    if (positive(terms[i], p, [&] { return ((any_bits >> i) & 1) != 0; }) == terms[i].negate) {
      return false;
    }
  }
  return true;
}

bool Filter::matches_bits(const RemoteRecord& r, std::uint64_t any_bits) const {
  if (!program_) return true;
  const auto& terms = program_->terms;
  for (std::size_t i = 0; i < terms.size() && i < 64; ++i) {
    if (positive(terms[i], r, [&] { return ((any_bits >> i) & 1) != 0; }) == terms[i].negate) {
      return false;
    }
  }
  return true;
}

}  // namespace netscope::tui
