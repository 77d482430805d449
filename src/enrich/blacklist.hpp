#pragma once
// Threat blacklist (--blacklist FILE, repeatable): IPv4/IPv6 addresses, CIDR ranges and
// domain names, one per line; `#` starts a comment. A domain matches itself and every
// subdomain ("evil.example" matches "a.b.evil.example", not "notevil.example"). Callers
// match a connection's remote address, SNI and HTTP Host, and a DNS query's name and
// answers (cli/sinks.cpp does, as a snapshot decorator).
//
// Parsing never stops at a bad line: each one is reported as "file:line: why" and the
// other lines still load. Lines are bounded (kMaxLine) and so is the list (kMaxEntries);
// what exceeds a bound is reported the same way.
//
// Blacklist holds the parsed rules behind a shared_ptr that reload() swaps, so the tick
// thread's matcher, SIGHUP's reload (headless modes) and the TUI's `L` key may run at
// the same time: a matcher keeps the rules it took until it is done with them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/ip_address.hpp"

namespace netscope::enrich {

// What a blacklist entry is; also the `kind` of an alert.
enum class BlacklistKind { address, cidr, domain };
std::string_view blacklist_kind_name(BlacklistKind k);

// One parsed list (one or several files). Immutable once built; matching is lock-free.
class BlacklistRules {
 public:
  static constexpr std::size_t kMaxLine = 1024;
  static constexpr std::size_t kMaxEntries = 4'000'000;
  static constexpr std::size_t kMaxDomain = 253;  // RFC 1035 §2.3.4

  // Parses `text` (the contents of `source`, used in messages) and adds its entries.
  // Bad lines append "source:line: reason" to `errors` and are skipped.
  void add(std::string_view text, const std::string& source, std::vector<std::string>& errors);

  // The entry (as written, normalized: lower case, CIDR masked) that `addr` falls in,
  // or nullptr. An exact address wins over the longest matching CIDR.
  const std::string* match_address(const core::IpAddress& addr) const;
  // The domain entry that `name` equals or is a subdomain of, or nullptr. Case and a
  // trailing dot are ignored.
  const std::string* match_domain(std::string_view name) const;
  // An answer of a DNS event: an address or a name (CNAME, PTR ...).
  const std::string* match_answer(std::string_view answer) const;

  std::size_t size() const { return entries_; }
  std::size_t addresses() const { return addresses_; }
  std::size_t cidrs() const { return cidrs_; }
  std::size_t domains() const { return domains_.size(); }

 private:
  using Key = std::array<std::uint8_t, 16>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  // Prefix length in the 128-bit (IPv4-mapped) space -> masked prefix -> entry text.
  // std::map so the longest prefix is tried first (reverse iteration).
  std::map<int, std::unordered_map<Key, std::string, KeyHash>> prefixes_;
  std::unordered_map<std::string, std::string> domains_;  // normalized -> entry text
  std::size_t entries_ = 0;
  std::size_t addresses_ = 0;
  std::size_t cidrs_ = 0;
};

// The result of a (re)load: how many entries and which lines were bad.
struct BlacklistLoad {
  std::size_t entries = 0;
  std::size_t files = 0;
  std::vector<std::string> errors;  // "file:line: reason", or "file: cannot read: ..."
  bool ok = true;                   // false: a file could not be read, nothing changed
  // "blacklist: 12 entries from 2 files (1 bad line)" — one line for the user.
  std::string summary() const;
};

class Blacklist {
 public:
  // Loads `files`. Throws std::runtime_error naming --blacklist and the file when a file
  // cannot be read; bad lines do not throw (see last_load()).
  explicit Blacklist(std::vector<std::string> files);

  // Re-reads every file and swaps the rules in when all of them could be read; else
  // keeps the current rules. Thread-safe; never throws.
  BlacklistLoad reload();
  // The current rules; keep the pointer for the duration of one matching pass.
  std::shared_ptr<const BlacklistRules> rules() const;
  const std::vector<std::string>& files() const { return files_; }
  BlacklistLoad last_load() const;

  // Reads and parses the files without touching any Blacklist (used by both of the above).
  static BlacklistLoad load(const std::vector<std::string>& files,
                            std::shared_ptr<const BlacklistRules>& out);

 private:
  std::vector<std::string> files_;
  mutable std::mutex mu_;
  std::shared_ptr<const BlacklistRules> rules_;
  BlacklistLoad last_;
  std::mutex reload_mu_;  // one reload at a time
};

// The run's --blacklist list, for what reloads it: SIGHUP in headless modes
// (cli/live_mode.cpp) and the TUI's `L` key. Null when no --blacklist was given.
std::shared_ptr<Blacklist> active_blacklist();
void set_active_blacklist(std::shared_ptr<Blacklist> list);

}  // namespace netscope::enrich
