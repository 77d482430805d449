#include "tui/fast_regex.hpp"

#include <bitset>
#include <cstring>

namespace netscope::tui {
namespace {

using CharSet = std::bitset<256>;

constexpr bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr unsigned char to_lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}
constexpr unsigned char to_upper(unsigned char c) {
  return c >= 'a' && c <= 'z' ? static_cast<unsigned char>(c - 'a' + 'A') : c;
}

CharSet class_set(char k) {  // \d \w \s (lowercase k)
  CharSet s;
  for (unsigned c = 0; c < 256; ++c) {
    const auto u = static_cast<unsigned char>(c);
    bool in = false;
    if (k == 'd') in = is_digit(u);
    if (k == 'w') in = is_digit(u) || is_alpha(u) || u == '_';
    if (k == 's') in = u == ' ' || (u >= '\t' && u <= '\r');
    s[c] = in;
  }
  return s;
}

CharSet fold(const CharSet& s) {
  CharSet out = s;
  for (unsigned c = 0; c < 256; ++c) {
    if (!s[c]) continue;
    const auto u = static_cast<unsigned char>(c);
    out[to_lower(u)] = true;
    out[to_upper(u)] = true;
  }
  return out;
}

struct Node {
  enum Type : std::uint8_t { set, cat, alt, repeat } type = set;
  CharSet chars;
  std::vector<int> kids;
  int min = 1;
  int max = 1;  // -1: unbounded
};

// Parses the supported subset into nodes; false on anything else.
class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}
  std::vector<Node> nodes;

  // Top level: alternatives with their anchors.
  struct Alternative {
    int node = -1;
    bool bol = false;
    bool eol = false;
  };
  bool top(std::vector<Alternative>& alts) {
    while (true) {
      Alternative a;
      if (i_ < p_.size() && p_[i_] == '^') {
        a.bol = true;
        ++i_;
      }
      if (!sequence(a.node)) return false;
      if (i_ < p_.size() && p_[i_] == '$') {
        a.eol = true;
        ++i_;
      }
      alts.push_back(a);
      if (i_ >= p_.size()) return true;
      if (p_[i_] != '|') return false;  // `$` not at the end, or a stray `)`
      ++i_;
    }
  }

 private:
  int add(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }

  // Terms up to `|`, `)`, `$` or the end.
  bool sequence(int& out) {
    Node cat;
    cat.type = Node::cat;
    while (i_ < p_.size()) {
      const char c = p_[i_];
      if (c == '|' || c == ')') break;
      if (c == '$') {
        // Only as the last thing of a top-level alternative (top() checks what follows).
        if (depth_ != 0) return false;
        break;
      }
      int atom_node = -1;
      if (!atom(atom_node)) return false;
      if (!quantifier(atom_node)) return false;
      cat.kids.push_back(atom_node);
    }
    out = add(std::move(cat));
    return true;
  }

  bool number(int& n) {
    if (i_ >= p_.size() || !is_digit(static_cast<unsigned char>(p_[i_]))) return false;
    n = 0;
    for (int digits = 0; i_ < p_.size() && is_digit(static_cast<unsigned char>(p_[i_])); ++i_) {
      if (++digits > 4) return false;
      n = n * 10 + (p_[i_] - '0');
    }
    return true;
  }

  bool quantifier(int& node) {
    if (i_ >= p_.size()) return true;
    int min = 1;
    int max = 1;
    const char c = p_[i_];
    if (c == '*') {
      min = 0, max = -1, ++i_;
    } else if (c == '+') {
      min = 1, max = -1, ++i_;
    } else if (c == '?') {
      min = 0, max = 1, ++i_;
    } else if (c == '{') {
      ++i_;
      if (!number(min)) return false;
      max = min;
      if (i_ < p_.size() && p_[i_] == ',') {
        ++i_;
        max = -1;
        if (i_ < p_.size() && p_[i_] != '}' && !number(max)) return false;
      }
      if (i_ >= p_.size() || p_[i_] != '}') return false;
      ++i_;
      if (max != -1 && max < min) return false;
    } else {
      return true;
    }
    if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy: same answer for a search
    if (i_ < p_.size() && (p_[i_] == '*' || p_[i_] == '+' || p_[i_] == '?' || p_[i_] == '{'))
      return false;
    Node r;
    r.type = Node::repeat;
    r.kids.push_back(node);
    r.min = min;
    r.max = max;
    node = add(std::move(r));
    return true;
  }

  // An escape after `\` (i_ at the escaped byte) as a set; false if unsupported.
  bool escape(CharSet& s, bool in_class) {
    if (i_ >= p_.size()) return false;
    const auto c = static_cast<unsigned char>(p_[i_++]);
    switch (c) {
      case 'd':
      case 'w':
      case 's':
        s = class_set(static_cast<char>(c));
        return true;
      case 'D':
      case 'W':
      case 'S':
        if (in_class) return false;
        s = ~class_set(static_cast<char>(to_lower(c)));
        return true;
      case 't':
        s.set('\t');
        return true;
      case 'n':
        s.set('\n');
        return true;
      case 'v':
        s.set('\v');
        return true;
      case 'f':
        s.set('\f');
        return true;
      case 'r':
        s.set('\r');
        return true;
      default:
        break;
    }
    if (is_digit(c) || is_alpha(c) || c == '_' || c >= 0x80 || c == 0) return false;
    s.set(c);
    return true;
  }

  bool bracket(CharSet& s) {  // i_ after '['
    bool negate = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    if (i_ < p_.size() && p_[i_] == ']') return false;  // [] / []a]: leave to std::regex
    bool first = true;
    while (true) {
      if (i_ >= p_.size()) return false;
      const auto c = static_cast<unsigned char>(p_[i_]);
      if (c == ']') {
        ++i_;
        break;
      }
      if (c == '[') return false;  // [:alpha:] and friends
      if (c == '\\') {
        ++i_;
        CharSet e;
        if (!escape(e, true)) return false;
        if (i_ < p_.size() && p_[i_] == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']')
          return false;  // a range from an escape
        s |= e;
        first = false;
        continue;
      }
      if (c == 0) return false;
      ++i_;
      if (c == '-' && !first && i_ < p_.size() && p_[i_] != ']') return false;  // a-c-e
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        const auto hi = static_cast<unsigned char>(p_[i_ + 1]);
        if (hi == '\\' || hi == '[' || hi == 0 || hi < c) return false;
        for (unsigned x = c; x <= hi; ++x) s.set(x);
        i_ += 2;
      } else {
        s.set(c);
      }
      first = false;
    }
    s = fold(s);
    if (negate) s = ~s;
    return true;
  }

  bool atom(int& out) {
    const auto c = static_cast<unsigned char>(p_[i_]);
    Node n;
    switch (c) {
      case '(': {
        ++i_;
        if (i_ < p_.size() && p_[i_] == '?') {
          if (i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
            i_ += 2;
          } else {
            return false;  // look-arounds
          }
        }
        ++depth_;
        Node a;
        a.type = Node::alt;
        while (true) {
          if (i_ < p_.size() && p_[i_] == '^') return false;
          int seq = -1;
          if (!sequence(seq)) return false;
          a.kids.push_back(seq);
          if (i_ >= p_.size()) return false;
          if (p_[i_] == ')') {
            ++i_;
            break;
          }
          if (p_[i_] != '|') return false;
          ++i_;
        }
        --depth_;
        out = add(std::move(a));
        return true;
      }
      case '[':
        ++i_;
        if (!bracket(n.chars)) return false;
        out = add(std::move(n));
        return true;
      case '\\':
        ++i_;
        if (!escape(n.chars, false)) return false;
        n.chars = fold(n.chars);
        out = add(std::move(n));
        return true;
      case '.':
        ++i_;
        n.chars.set();
        n.chars.reset('\n');
        n.chars.reset('\r');
        out = add(std::move(n));
        return true;
      case '^':
      case '$':
      case '*':
      case '+':
      case '?':
      case '{':
      case '}':
      case ']':
      case 0:
        return false;
      default:
        ++i_;
        n.chars.set(c);
        n.chars = fold(n.chars);
        out = add(std::move(n));
        return true;
    }
  }

  std::string_view p_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

constexpr std::size_t kMaxPositions = 64;

// Glushkov construction: instantiates a node (a repeat copies its operand), allocating
// positions; false when there would be more than 64.
struct Builder {
  const std::vector<Node>& nodes;
  std::vector<CharSet> sets;
  std::vector<std::uint64_t> follow;
  struct Frag {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    bool nullable = true;
  };

  void link(std::uint64_t from, std::uint64_t to) {
    for (std::size_t p = 0; p < follow.size(); ++p) {
      if ((from >> p) & 1) follow[p] |= to;
    }
  }
  static Frag concat(Builder& b, const Frag& x, const Frag& y) {
    b.link(x.last, y.first);
    Frag f;
    f.first = x.first | (x.nullable ? y.first : 0);
    f.last = y.last | (y.nullable ? x.last : 0);
    f.nullable = x.nullable && y.nullable;
    return f;
  }

  std::size_t calls = 0;

  bool build(int id, Frag& out, int depth = 0) {
    if (depth > 200 || ++calls > 100'000) return false;
    const Node& n = nodes[static_cast<std::size_t>(id)];
    switch (n.type) {
      case Node::set: {
        if (sets.size() >= kMaxPositions) return false;
        const std::uint64_t bit = std::uint64_t{1} << sets.size();
        sets.push_back(n.chars);
        follow.push_back(0);
        out = {bit, bit, false};
        return true;
      }
      case Node::cat: {
        Frag acc;  // empty: nullable, no positions
        for (int k : n.kids) {
          Frag f;
          if (!build(k, f, depth + 1)) return false;
          acc = concat(*this, acc, f);
        }
        out = acc;
        return true;
      }
      case Node::alt: {
        Frag acc{0, 0, false};
        for (int k : n.kids) {
          Frag f;
          if (!build(k, f, depth + 1)) return false;
          acc.first |= f.first;
          acc.last |= f.last;
          acc.nullable = acc.nullable || f.nullable;
        }
        out = acc;
        return true;
      }
      case Node::repeat: {
        Frag acc;
        const int kid = n.kids[0];
        for (int c = 0; c < n.min; ++c) {
          Frag f;
          if (!build(kid, f, depth + 1)) return false;
          acc = concat(*this, acc, f);
        }
        if (n.max == -1) {
          Frag f;
          if (!build(kid, f, depth + 1)) return false;
          link(f.last, f.first);  // a star
          f.nullable = true;
          acc = concat(*this, acc, f);
        } else {
          for (int c = n.min; c < n.max; ++c) {
            Frag f;
            if (!build(kid, f, depth + 1)) return false;
            f.nullable = true;  // an optional copy
            acc = concat(*this, acc, f);
          }
        }
        out = acc;
        return true;
      }
    }
    return false;
  }
};

// The longest run of single letters (a byte and its other case) in the top-level sequence
// `id` with no quantifier: every match contains it.
std::string required_literal(const std::vector<Node>& nodes, int id) {
  std::string best;
  std::string run;
  for (int k : nodes[static_cast<std::size_t>(id)].kids) {
    const Node& n = nodes[static_cast<std::size_t>(k)];
    int only = -1;
    if (n.type == Node::set) {
      const std::size_t count = n.chars.count();
      for (unsigned c = 0; c < 256 && count <= 2; ++c) {
        if (!n.chars[c]) continue;
        const auto l = to_lower(static_cast<unsigned char>(c));
        if (only == -1) {
          only = l;
        } else if (only != l) {
          only = -2;
        }
      }
      if (count == 2 && only >= 0 && !is_alpha(static_cast<unsigned char>(only))) only = -2;
    }
    if (only >= 0) {
      run.push_back(static_cast<char>(only));
    } else {
      run.clear();
    }
    if (run.size() > best.size()) best = run;
  }
  return best.size() >= 2 ? best : std::string{};
}

}  // namespace

std::optional<FastRegex> FastRegex::compile(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 512) return std::nullopt;
  Parser parser(pattern);
  std::vector<Parser::Alternative> alts;
  if (!parser.top(alts)) return std::nullopt;
  Builder b{parser.nodes, {}, {}};
  FastRegex r;
  for (const Parser::Alternative& a : alts) {
    Builder::Frag f;
    if (!b.build(a.node, f)) return std::nullopt;
    (a.bol ? r.init_bol_ : r.init_any_) |= f.first;
    (a.eol ? r.accept_eol_ : r.accept_any_) |= f.last;
    if (f.nullable) {
      r.matches_empty_ = true;
      if (!(a.bol && a.eol)) r.always_ = true;
    }
  }
  r.positions_ = b.sets.size();
  for (std::size_t p = 0; p < b.sets.size(); ++p) {
    for (unsigned c = 0; c < 256; ++c) {
      if (b.sets[p][c]) r.chars_[c] |= std::uint64_t{1} << p;
    }
  }
  r.follow_.resize((r.positions_ + 7) / 8);
  for (std::size_t k = 0; k < r.follow_.size(); ++k) {
    for (unsigned v = 0; v < 256; ++v) {
      std::uint64_t out = 0;
      for (std::size_t bit = 0; bit < 8; ++bit) {
        const std::size_t p = k * 8 + bit;
        if (p < b.follow.size() && ((v >> bit) & 1)) out |= b.follow[p];
      }
      r.follow_[k][v] = out;
    }
  }
  for (unsigned c = 0; c < 256; ++c) r.starts_[c] = (r.chars_[c] & r.init_any_) != 0;
  if (alts.size() == 1) r.required_ = required_literal(parser.nodes, alts[0].node);
  return r;
}

bool FastRegex::search(std::string_view text) const {
  if (text.empty()) return matches_empty_;
  if (always_) return true;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::uint64_t state = (init_bol_ | init_any_) & chars_[s[0]];
  if (state & accept_any_) return true;
  for (std::size_t i = 1; i < n; ++i) {
    if (state == 0) {
      if (init_any_ == 0) return false;  // every alternative starts with `^`
      while (i < n && !starts_[s[i]]) ++i;
      if (i == n) return false;
    }
    state = (follow(state) | init_any_) & chars_[s[i]];
    if (state & accept_any_) return true;
  }
  return (state & accept_eol_) != 0;
}

}  // namespace netscope::tui
