#include "enrich/blacklist.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::enrich {

namespace {

constexpr int kV4MappedBits = 96;  // IPv4 lives in ::ffff:0:0/96

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// The line as it may be quoted in a message: printable ASCII, at most 64 characters.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

// Lower case, without a trailing dot; empty when `name` is not a plausible host name.
// Labels are 1..63 bytes of letters, digits, '-' and '_' (RFC 1035 §2.3.1, with the
// underscore that service names use); the last label must not be all digits
// (RFC 3696 §2), which is what tells "1.2.3.256" from a name.
std::string normalize_domain(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > BlacklistRules::kMaxDomain) return {};
  std::string out;
  out.reserve(name.size());
  std::size_t label = 0;
  bool label_all_digits = true;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return {};
      label = 0;
      label_all_digits = true;
      out += c;
      continue;
    }
    const char l = lower(c);
    const bool digit = l >= '0' && l <= '9';
    if (!(digit || (l >= 'a' && l <= 'z') || l == '-' || l == '_')) return {};
    if (++label > 63) return {};
    label_all_digits = label_all_digits && digit;
    out += l;
  }
  if (label == 0 || label_all_digits) return {};
  return out;
}

// "24" -> 24 when every character is a digit and the value is at most `max`.
bool parse_prefix(std::string_view s, int max, int& out) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

std::array<std::uint8_t, 16> masked(const core::IpAddress& a, int bits) {
  std::array<std::uint8_t, 16> k = a.bytes();
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(bits - i * 8, 0, 8);
    k[static_cast<std::size_t>(i)] &= static_cast<std::uint8_t>(0xff00u >> keep);
  }
  return k;
}

core::IpAddress from_key(const std::array<std::uint8_t, 16>& k) {
  return core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(k));
}

// Reads a whole file; false with `error` set when it cannot be read (a directory, a
// permission, an I/O error).
bool read_text(const std::string& path, std::string& text, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  text.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

std::string_view blacklist_kind_name(BlacklistKind k) {
  switch (k) {
    case BlacklistKind::address:
      return "address";
    case BlacklistKind::cidr:
      return "cidr";
    case BlacklistKind::domain:
      return "domain";
  }
  return "domain";
}

std::size_t BlacklistRules::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  std::uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return static_cast<std::size_t>(h);
}

void BlacklistRules::add(std::string_view text, const std::string& source,
                         std::vector<std::string>& errors) {
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const auto bad = [&](std::string_view why) {
      errors.push_back(fmt::format("{}:{}: {}", source, line_no, why));
    };
    if (line.size() > kMaxLine) {
      bad(fmt::format("line longer than {} bytes", kMaxLine));
      continue;
    }
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) continue;
    if (std::any_of(line.begin(), line.end(), is_space)) {
      bad(fmt::format("{}: one address, CIDR or domain per line", quoted(line)));
      continue;
    }
    if (entries_ >= kMaxEntries) {
      bad(fmt::format("more than {} entries; the rest of the list is ignored", kMaxEntries));
      return;
    }
    if (const std::size_t slash = line.find('/'); slash != std::string_view::npos) {
      const std::optional<core::IpAddress> a = core::IpAddress::parse(line.substr(0, slash));
      int bits = 0;
      const int max = a && a->is_v4() ? 32 : 128;
      if (!a || !parse_prefix(line.substr(slash + 1), max, bits)) {
        bad(fmt::format("{}: not a CIDR (address/prefix, prefix 0-{})", quoted(line), max));
        continue;
      }
      const int full = a->is_v4() ? kV4MappedBits + bits : bits;
      const Key k = masked(*a, full);
      const std::string entry = fmt::format("{}/{}", from_key(k).to_string(), bits);
      if (prefixes_[full].emplace(k, entry).second) {
        ++entries_;
        ++cidrs_;
      }
      continue;
    }
    if (const std::optional<core::IpAddress> a = core::IpAddress::parse(line)) {
      if (prefixes_[128].emplace(a->bytes(), a->to_string()).second) {
        ++entries_;
        ++addresses_;
      }
      continue;
    }
    std::string_view name = line;
    if (name.starts_with("*.")) name.remove_prefix(2);  // "*.evil.example": same meaning
    std::string domain = normalize_domain(name);
    if (domain.empty()) {
      bad(fmt::format("{}: not an IP address, CIDR or domain name", quoted(line)));
      continue;
    }
    std::string entry = domain;
    if (domains_.emplace(std::move(domain), std::move(entry)).second) ++entries_;
  }
}

const std::string* BlacklistRules::match_address(const core::IpAddress& addr) const {
  const int floor = addr.is_v4() ? kV4MappedBits : 0;
  for (auto it = prefixes_.rbegin(); it != prefixes_.rend(); ++it) {
    if (it->first < floor) break;
    if (it->second.empty()) continue;
    const auto hit = it->second.find(masked(addr, it->first));
    if (hit != it->second.end()) return &hit->second;
  }
  return nullptr;
}

const std::string* BlacklistRules::match_domain(std::string_view name) const {
  if (domains_.empty() || name.empty()) return nullptr;
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxDomain) return nullptr;
  std::string lowered(name.size(), '\0');
  std::transform(name.begin(), name.end(), lowered.begin(), lower);
  std::string_view rest = lowered;
  for (;;) {
    // Heterogeneous lookup would save this copy; the names are short.
    if (const auto hit = domains_.find(std::string(rest)); hit != domains_.end()) {
      return &hit->second;
    }
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return nullptr;
    rest.remove_prefix(dot + 1);
  }
}

const std::string* BlacklistRules::match_answer(std::string_view answer) const {
  if (const std::optional<core::IpAddress> a = core::IpAddress::parse(answer)) {
    return match_address(*a);
  }
  return match_domain(answer);
}

std::string BlacklistLoad::summary() const {
  std::string s = fmt::format("blacklist: {} entr{} from {} file{}", entries,
                              entries == 1 ? "y" : "ies", files, files == 1 ? "" : "s");
  std::size_t bad = 0;
  for (const std::string& e : errors) bad += e.find(": cannot read: ") == std::string::npos;
  if (bad > 0) s += fmt::format(" ({} bad line{} skipped)", bad, bad == 1 ? "" : "s");
  if (!ok) s += "; not reloaded, the previous list stays in force";
  return s;
}

BlacklistLoad Blacklist::load(const std::vector<std::string>& files,
                              std::shared_ptr<const BlacklistRules>& out) {
  BlacklistLoad r;
  auto rules = std::make_shared<BlacklistRules>();
  for (const std::string& path : files) {
    std::string text;
    std::string error;
    if (!read_text(path, text, error)) {
      r.errors.push_back(fmt::format("{}: cannot read: {}", path, error));
      r.ok = false;
      continue;
    }
    rules->add(text, path, r.errors);
    ++r.files;
  }
  r.entries = rules->size();
  if (r.ok) out = std::move(rules);
  return r;
}

Blacklist::Blacklist(std::vector<std::string> files) : files_(std::move(files)) {
  std::shared_ptr<const BlacklistRules> rules;
  last_ = load(files_, rules);
  if (!last_.ok) {
    for (const std::string& e : last_.errors) {
      if (e.find(": cannot read: ") != std::string::npos)
        throw std::runtime_error("--blacklist " + e);
    }
  }
  rules_ = std::move(rules);
}

BlacklistLoad Blacklist::reload() {
  const std::lock_guard<std::mutex> one_at_a_time(reload_mu_);
  std::shared_ptr<const BlacklistRules> rules;
  BlacklistLoad r = load(files_, rules);
  const std::lock_guard<std::mutex> lock(mu_);
  if (r.ok) rules_ = std::move(rules);
  last_ = r;
  return r;
}

std::shared_ptr<const BlacklistRules> Blacklist::rules() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

BlacklistLoad Blacklist::last_load() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

namespace {
std::mutex g_active_mu;
std::shared_ptr<Blacklist> g_active;
}  // namespace

std::shared_ptr<Blacklist> active_blacklist() {
  const std::lock_guard<std::mutex> lock(g_active_mu);
  return g_active;
}

void set_active_blacklist(std::shared_ptr<Blacklist> list) {
  const std::lock_guard<std::mutex> lock(g_active_mu);
  g_active = std::move(list);
}

}  // namespace netscope::enrich
