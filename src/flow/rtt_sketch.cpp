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

RttSketch::RttSketch(const RttSketch& other)
    : count_(other.count_),
      lo_(other.lo_),
      span_(other.span_),
      halvings_(other.halvings_),
      sum_us_(other.sum_us_),
      u_(other.u_) {
  if (has_histogram()) {
    u_.h.counts = new std::uint16_t[span_];
    std::copy_n(other.u_.h.counts, span_, u_.h.counts);
  }
}

RttSketch& RttSketch::operator=(const RttSketch& other) {
  if (this != &other) *this = RttSketch(other);
  return *this;
}

RttSketch::RttSketch(RttSketch&& other) noexcept
    : count_(other.count_),
      lo_(other.lo_),
      span_(other.span_),
      halvings_(other.halvings_),
      sum_us_(other.sum_us_),
      u_(other.u_) {
  // u_ copied the histogram pointer, if any: `other` gives it up.
  other.count_ = 0;
  other.span_ = 0;
  other.u_ = Storage{};
}

RttSketch& RttSketch::operator=(RttSketch&& other) noexcept {
  if (this != &other) {
    release();
    count_ = other.count_;
    lo_ = other.lo_;
    span_ = other.span_;
    halvings_ = other.halvings_;
    sum_us_ = other.sum_us_;
    u_ = other.u_;
    other.count_ = 0;
    other.span_ = 0;
    other.u_ = Storage{};
  }
  return *this;
}

RttSketch::~RttSketch() {
  release();
}

void RttSketch::release() {
  if (has_histogram()) delete[] u_.h.counts;
  u_ = Storage{};
  span_ = 0;
}

std::uint32_t RttSketch::exact_min() const {
  const auto n = static_cast<std::ptrdiff_t>(count_);
  return *std::min_element(u_.exact.begin(), u_.exact.begin() + n);
}

std::uint32_t RttSketch::exact_max() const {
  const auto n = static_cast<std::ptrdiff_t>(count_);
  return *std::max_element(u_.exact.begin(), u_.exact.begin() + n);
}

void RttSketch::hold_bucket(std::size_t bucket) {
  const std::size_t old_lo = lo_;
  const std::size_t old_end = old_lo + span_;
  std::size_t lo = span_ == 0 ? bucket : std::min(old_lo, bucket);
  std::size_t end = span_ == 0 ? bucket + 1 : std::max(old_end, bucket + 1);
  lo = lo / kGrain * kGrain;
  end = std::min(kBuckets, (end + kGrain - 1) / kGrain * kGrain);
  auto* fresh = new std::uint16_t[end - lo]();
  if (span_ != 0) {
    std::copy_n(u_.h.counts, span_, fresh + (old_lo - lo));
    delete[] u_.h.counts;
  }
  u_.h.counts = fresh;
  lo_ = lo;
  span_ = end - lo;
}

void RttSketch::count_in_histogram(std::size_t bucket) {
  if (span_ == 0 || bucket < lo_ || bucket >= std::size_t{lo_} + span_) hold_bucket(bucket);
  auto& b = u_.h.counts[bucket - lo_];
  if (b == std::numeric_limits<std::uint16_t>::max()) {
    // Saturation: halve every bucket (rounding up so no occupied bucket empties) and
    // keep going; relative shape is what quantiles need. Buckets outside the held range
    // are zero and stay zero.
    for (std::size_t i = 0; i < span_; ++i) {
      u_.h.counts[i] = static_cast<std::uint16_t>((u_.h.counts[i] + 1u) / 2u);
    }
    if (halvings_ < std::numeric_limits<std::uint8_t>::max()) ++halvings_;
  }
  ++b;
}

void RttSketch::add(std::uint32_t micros) {
  if (count_ < kExact) {
    u_.exact[count_] = micros;
  } else if (count_ == kExact) {
    // The sample after the exact ones: the histogram takes over the union's storage and
    // counts the exact samples first, in arrival order, as if it had from the start
    // (kExact + 1 samples cannot saturate a bucket, so the counts are the same).
    const std::array<std::uint32_t, kExact> first = u_.exact;
    const std::uint32_t lo = exact_min();
    const std::uint32_t hi = exact_max();
    u_.h = Histogram{nullptr, lo, hi};
    span_ = 0;
    for (const auto x : first) count_in_histogram(bucket_of(x));
  }
  if (count_ >= kExact) {
    u_.h.min_us = std::min(u_.h.min_us, micros);
    u_.h.max_us = std::max(u_.h.max_us, micros);
  }
  if (count_ < kMaxCount) ++count_;
  sum_us_ += micros;
  if (has_histogram()) count_in_histogram(bucket_of(micros));
}

std::optional<double> RttSketch::min_ms() const {
  if (count_ == 0) return std::nullopt;
  return (has_histogram() ? u_.h.min_us : exact_min()) / kUsPerMs;
}

std::optional<double> RttSketch::max_ms() const {
  if (count_ == 0) return std::nullopt;
  return (has_histogram() ? u_.h.max_us : exact_max()) / kUsPerMs;
}

std::optional<double> RttSketch::mean_ms() const {
  if (count_ == 0) return std::nullopt;
  return static_cast<double>(sum_us_) / static_cast<double>(count_) / kUsPerMs;
}

std::optional<double> RttSketch::quantile_ms(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  if (count_ <= kExact) {
    std::array<std::uint32_t, kExact> sorted = u_.exact;
    const auto n = static_cast<std::size_t>(count_);
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    return sorted[rank - 1] / kUsPerMs;
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < span_; ++i) total += u_.h.counts[i];
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  rank = std::clamp<std::uint64_t>(rank, 1, total);
  std::uint64_t seen = 0;
  std::size_t i = 0;
  for (; i + 1 < span_; ++i) {
    seen += u_.h.counts[i];
    if (seen >= rank) break;
  }
  const std::size_t bucket = lo_ + i;
  const double us = std::clamp(bucket_value_us(bucket), static_cast<double>(u_.h.min_us),
                               static_cast<double>(u_.h.max_us));
  return us / kUsPerMs;
}

}  // namespace netscope::flow
