#include "analyze/app_report.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace netscope::analyze {

namespace {

// Distinct names counted per table; a capture of a scanner or a DNS flood may carry
// millions, and the report shows the top few.
constexpr std::size_t kMaxNames = 10'000;

// Slowest first; ties by time, then query, so merged shards rank alike.
bool slower(const SlowDnsAnswer& a, const SlowDnsAnswer& b) {
  return std::tie(b.latency_ms, a.time.ns, a.query, a.qtype) <
         std::tie(a.latency_ms, b.time.ns, b.query, b.qtype);
}

std::uint32_t to_micros(double ms) {
  const double us = std::round(ms * 1000.0);
  if (!(us > 0)) return 0;
  return us >= 4.0e9 ? 4'000'000'000u : static_cast<std::uint32_t>(us);
}

}  // namespace

// ---- BoundedCounter

void BoundedCounter::add(const std::string& name, std::uint64_t count, std::uint64_t bytes) {
  total_ += count;
  auto it = counts_.find(name);
  if (it == counts_.end()) {
    if (counts_.size() >= kMaxNames) {
      uncounted_ += count;
      return;
    }
    it = counts_.emplace(name, std::pair<std::uint64_t, std::uint64_t>{0, 0}).first;
  }
  it->second.first += count;
  it->second.second += bytes;
}

void BoundedCounter::merge(const BoundedCounter& o) {
  for (const auto& [name, v] : o.counts_) add(name, v.first, v.second);
  total_ += o.uncounted_;
  uncounted_ += o.uncounted_;
}

std::vector<NameCount> BoundedCounter::top(std::size_t n) const {
  std::vector<NameCount> all;
  all.reserve(counts_.size());
  for (const auto& [name, v] : counts_) all.push_back({name, v.first, v.second});
  const auto order = [](const NameCount& a, const NameCount& b) {
    return std::tie(b.count, b.bytes, a.name) < std::tie(a.count, a.bytes, b.name);
  };
  if (n < all.size()) {
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), order);
    all.resize(n);
  } else {
    std::sort(all.begin(), all.end(), order);
  }
  return all;
}

// ---- AppStats

void AppStats::add(const Conversation& c) {
  const dpi::DpiInfo& d = *c.dpi;
  if (!d.ndpi_app.empty()) ndpi_apps_.add(d.ndpi_app, 1, c.total_bytes());
  if (d.app.empty()) return;
  const std::uint64_t bytes = c.total_bytes();
  apps_.add(d.app, 1, bytes);
  if (!d.sni.empty()) sni_.add(d.sni, 1, bytes);
  if (!d.http_host.empty()) http_hosts_.add(d.http_host, 1, bytes);
}

void AppStats::merge(const AppStats& o) {
  apps_.merge(o.apps_);
  sni_.merge(o.sni_);
  http_hosts_.merge(o.http_hosts_);
  ndpi_apps_.merge(o.ndpi_apps_);
}

// ---- DnsStats

void DnsStats::add(const dpi::DnsEvent& e) {
  ++transactions_;
  if (!e.rcode) {
    ++unanswered_;
    unanswered_names_.add(e.query, 1, 0);
    return;
  }
  ++by_rcode_[*e.rcode];
  if (e.rcode_code != 0) failures_[*e.rcode].add(e.query, 1, 0);
  if (!e.latency_ms) return;
  const std::uint32_t us = to_micros(*e.latency_ms);
  ++latency_buckets_[flow::RttSketch::bucket_of(us)];
  latency_min_us_ = latency_count_ == 0 ? us : std::min(latency_min_us_, us);
  latency_max_us_ = std::max(latency_max_us_, us);
  ++latency_count_;
  if (*e.latency_ms >= kSlowMs) {
    ++slow_;
    keep_slow({e.time, e.query, e.qtype, *e.rcode, e.client, e.server, *e.latency_ms});
  }
}

void DnsStats::keep_slow(const SlowDnsAnswer& s) {
  // A heap under slower(): its front is the least slow kept answer, the one to replace.
  if (slow_list_.size() < kMaxSlow) {
    slow_list_.push_back(s);
    std::push_heap(slow_list_.begin(), slow_list_.end(), slower);
  } else if (slower(s, slow_list_.front())) {
    std::pop_heap(slow_list_.begin(), slow_list_.end(), slower);
    slow_list_.back() = s;
    std::push_heap(slow_list_.begin(), slow_list_.end(), slower);
  }
}

void DnsStats::merge(const DnsStats& o) {
  transactions_ += o.transactions_;
  unanswered_ += o.unanswered_;
  slow_ += o.slow_;
  for (const auto& [rcode, n] : o.by_rcode_) by_rcode_[rcode] += n;
  for (const auto& [rcode, names] : o.failures_) failures_[rcode].merge(names);
  unanswered_names_.merge(o.unanswered_names_);
  for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
    latency_buckets_[i] += o.latency_buckets_[i];
  }
  if (o.latency_count_ > 0) {
    latency_min_us_ =
        latency_count_ == 0 ? o.latency_min_us_ : std::min(latency_min_us_, o.latency_min_us_);
    latency_max_us_ = std::max(latency_max_us_, o.latency_max_us_);
  }
  latency_count_ += o.latency_count_;
  for (const SlowDnsAnswer& s : o.slow_list_) keep_slow(s);
}

std::vector<SlowDnsAnswer> DnsStats::slowest() const {
  std::vector<SlowDnsAnswer> out = slow_list_;
  std::sort(out.begin(), out.end(), slower);
  return out;
}

std::optional<double> DnsStats::latency_ms(double q) const {
  if (latency_count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(latency_count_))));
  // The extremes are kept exactly.
  if (rank == 1) return static_cast<double>(latency_min_us_) / 1000.0;
  if (rank >= latency_count_) return static_cast<double>(latency_max_us_) / 1000.0;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < latency_buckets_.size(); ++b) {
    seen += latency_buckets_[b];
    if (seen >= rank) {
      const double us =
          std::clamp(flow::RttSketch::bucket_value_us(b), static_cast<double>(latency_min_us_),
                     static_cast<double>(latency_max_us_));
      return us / 1000.0;
    }
  }
  return static_cast<double>(latency_max_us_) / 1000.0;
}

}  // namespace netscope::analyze
