#include "flow/rtt_sketch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace netscope::flow {

namespace {

constexpr double kUsPerMs = 1000.0;

}  // namespace

namespace {

// Lower edge (µs, rounded up to an integer) of every logarithmic bucket, computed once:
// bucket_of() is then a binary search instead of a log() per RTT sample.
struct BucketEdges {
  std::array<std::uint64_t, RttSketch::kBuckets> lo{};
  BucketEdges() {
    for (std::size_t i = 0; i < lo.size(); ++i) {
      lo[i] =
          i < RttSketch::kLinear
              ? i
              : static_cast<std::uint64_t>(std::ceil(
                    static_cast<double>(RttSketch::kLinear) *
                        std::pow(RttSketch::kGrowth, static_cast<double>(i - RttSketch::kLinear)) -
                    1e-9));
    }
  }
};

}  // namespace

std::size_t RttSketch::bucket_of(std::uint32_t micros) {
  if (micros < kLinear) return micros;
  static const BucketEdges edges;
  // The last bucket whose lower edge is <= micros.
  const auto it = std::upper_bound(edges.lo.begin(), edges.lo.end(), std::uint64_t{micros});
  return static_cast<std::size_t>(it - edges.lo.begin()) - 1;
}

double RttSketch::bucket_value_us(std::size_t bucket) {
  if (bucket < kLinear) return static_cast<double>(bucket);
  const double lo =
      static_cast<double>(kLinear) * std::pow(kGrowth, static_cast<double>(bucket - kLinear));
  return lo * std::sqrt(kGrowth);
}

void RttSketch::add(std::uint32_t micros) {
  if (count_ < kExact) exact_[count_] = micros;
  if (count_ == 0 || micros < min_us_) min_us_ = micros;
  if (count_ == 0 || micros > max_us_) max_us_ = micros;
  ++count_;
  sum_us_ += micros;
  auto& b = buckets_[bucket_of(micros)];
  if (b == std::numeric_limits<std::uint16_t>::max()) {
    // Saturation: halve every bucket (rounding up so no occupied bucket empties) and
    // keep going; relative shape is what quantiles need.
    for (auto& c : buckets_) c = static_cast<std::uint16_t>((c + 1u) / 2u);
    if (halvings_ < std::numeric_limits<std::uint8_t>::max()) ++halvings_;
  }
  ++b;
}

std::optional<double> RttSketch::min_ms() const {
  if (count_ == 0) return std::nullopt;
  return min_us_ / kUsPerMs;
}

std::optional<double> RttSketch::max_ms() const {
  if (count_ == 0) return std::nullopt;
  return max_us_ / kUsPerMs;
}

std::optional<double> RttSketch::mean_ms() const {
  if (count_ == 0) return std::nullopt;
  return static_cast<double>(sum_us_) / static_cast<double>(count_) / kUsPerMs;
}

std::optional<double> RttSketch::quantile_ms(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  if (count_ <= kExact) {
    std::array<std::uint32_t, kExact> sorted = exact_;
    const auto n = static_cast<std::size_t>(count_);
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    return sorted[rank - 1] / kUsPerMs;
  }
  std::uint64_t total = 0;
  for (const auto c : buckets_) total += c;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  rank = std::clamp<std::uint64_t>(rank, 1, total);
  std::uint64_t seen = 0;
  std::size_t bucket = 0;
  for (; bucket < kBuckets; ++bucket) {
    seen += buckets_[bucket];
    if (seen >= rank) break;
  }
  const double us = std::clamp(bucket_value_us(bucket), static_cast<double>(min_us_),
                               static_cast<double>(max_us_));
  return us / kUsPerMs;
}

}  // namespace netscope::flow
