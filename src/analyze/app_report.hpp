#pragma once
// What the analyze report says about applications and DNS, from deep inspection:
//
// - AppStats: conversations and bytes per application (`app`: TLS, HTTP, QUIC, DNS, ...),
//   and the most frequent TLS/QUIC server names (SNI) and HTTP hosts;
// - DnsStats: every DNS transaction the inspector completed: how many per response code,
//   the names that failed (NXDOMAIN, SERVFAIL, ...; by query name), queries never
//   answered, the latency distribution (p50/p95) and the slowest answers.
//
// Both are bounded (ARCHITECTURE.md "Every cache and buffer has a bound"): at most
// kMaxNames distinct names are counted per table, further names only in a total, and
// the slow list keeps the kMaxSlow slowest answers. Latency percentiles come from the
// RTT sketch's log buckets (within 5% of the exact value). Both merge (analyze
// --threads): counts add, lists are re-ranked, so the result does not depend on the
// order transactions arrive in, unless a name table overflowed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyze/conversation.hpp"
#include "dpi/inspector.hpp"
#include "flow/rtt_sketch.hpp"

namespace netscope::analyze {

struct NameCount {
  std::string name;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;  // AppStats only: IP bytes of those conversations
};

// Counts per name, bounded to a number of distinct names.
class BoundedCounter {
 public:
  void add(const std::string& name, std::uint64_t count, std::uint64_t bytes);
  void merge(const BoundedCounter& o);
  // The `n` largest by count (then bytes, then name).
  std::vector<NameCount> top(std::size_t n) const;
  std::size_t distinct() const { return counts_.size(); }
  std::uint64_t total() const { return total_; }
  std::uint64_t uncounted() const { return uncounted_; }  // beyond the name bound

 private:
  // Hashed, with lookups by string_view (no key copy for a name already counted); top()
  // sorts, so the order of the table does not show.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::pair<std::uint64_t, std::uint64_t>, NameHash,
                     std::equal_to<>>
      counts_;
  std::uint64_t total_ = 0;
  std::uint64_t uncounted_ = 0;
};

class AppStats {
 public:
  void add(const Conversation& c);
  void merge(const AppStats& o);

  std::vector<NameCount> apps() const { return apps_.top(apps_.distinct()); }
  std::vector<NameCount> top_sni(std::size_t n) const { return sni_.top(n); }
  std::vector<NameCount> top_http_hosts(std::size_t n) const { return http_hosts_.top(n); }
  std::uint64_t sni_conversations() const { return sni_.total(); }
  std::uint64_t http_conversations() const { return http_hosts_.total(); }
  // nDPI's labels (`ndpi_app`, build option NETSCOPE_NDPI): "TLS.Google", "BitTorrent".
  std::vector<NameCount> top_ndpi_apps(std::size_t n) const { return ndpi_apps_.top(n); }
  std::uint64_t ndpi_conversations() const { return ndpi_apps_.total(); }

 private:
  BoundedCounter apps_;
  BoundedCounter sni_;
  BoundedCounter http_hosts_;
  BoundedCounter ndpi_apps_;
};

struct SlowDnsAnswer {
  core::Timestamp time;
  std::string query;
  std::string qtype;
  std::string rcode;
  core::IpAddress client;
  core::IpAddress server;
  double latency_ms = 0;
};

class DnsStats {
 public:
  // An answer this slow is listed as slow (and the report flags it).
  static constexpr double kSlowMs = 500;
  static constexpr std::size_t kMaxSlow = 100;

  void add(const dpi::DnsEvent& e);
  void merge(const DnsStats& o);

  std::uint64_t transactions() const { return transactions_; }
  std::uint64_t unanswered() const { return unanswered_; }
  std::uint64_t slow() const { return slow_; }
  const std::map<std::string, std::uint64_t>& by_rcode() const { return by_rcode_; }
  // Failed names (any rcode but NOERROR) by rcode name.
  const std::map<std::string, BoundedCounter>& failures() const { return failures_; }
  const BoundedCounter& unanswered_names() const { return unanswered_names_; }
  // Slowest first (then time, then query); at most kMaxSlow.
  std::vector<SlowDnsAnswer> slowest() const;
  std::optional<double> latency_ms(double q) const;  // nearest-rank quantile of answered ones
  std::uint64_t latency_samples() const { return latency_count_; }

 private:
  void keep_slow(const SlowDnsAnswer& s);

  std::uint64_t transactions_ = 0;
  std::uint64_t unanswered_ = 0;
  std::uint64_t slow_ = 0;
  std::map<std::string, std::uint64_t> by_rcode_;
  std::map<std::string, BoundedCounter> failures_;
  BoundedCounter unanswered_names_;
  std::array<std::uint64_t, flow::RttSketch::kBuckets> latency_buckets_{};
  std::uint64_t latency_count_ = 0;
  std::uint32_t latency_min_us_ = 0;
  std::uint32_t latency_max_us_ = 0;
  std::vector<SlowDnsAnswer> slow_list_;  // heap: the fastest kept one on top
};

}  // namespace netscope::analyze
