#pragma once
// RttSketch: bounded-memory summary of RTT samples for one connection. min, max, count
// and sum are exact; quantiles are exact while few samples have been seen and then come
// from a log-bucketed histogram with a bounded relative error (documented on quantile()).
// Its size is fixed: a long connection costs no more than a short one.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace netscope::flow {

class RttSketch {
 public:
  // Samples below 16 µs get one exact bucket each; above, bucket i covers
  // [16 µs * kGrowth^(i-16), 16 µs * kGrowth^(i-15)), up to ~105 s (larger samples land
  // in the last bucket; max stays exact).
  static constexpr std::size_t kExact = 8;
  static constexpr std::size_t kLinear = 16;
  static constexpr double kGrowth = 1.1;
  static constexpr std::size_t kBuckets = 181;

  void add(std::uint32_t micros);
  std::uint64_t count() const { return count_; }
  std::optional<double> min_ms() const;
  std::optional<double> max_ms() const;
  std::optional<double> mean_ms() const;
  // q in [0,1] (clamped); nullopt when empty. Nearest-rank quantile: the sample of rank
  // ceil(q * count) (q = 0 gives the minimum). Exact while count() <= kExact. Beyond
  // that the answer is the geometric middle of the histogram bucket holding that rank,
  // clamped to [min, max], so it is within sqrt(kGrowth) - 1 = 4.9% of the exact
  // nearest-rank sample for samples in [16 µs, 105 s] and exact below 16 µs. When a
  // bucket saturates (65535) all counts are halved: a steady distribution keeps its
  // shape, but samples from before a halving weigh half as much as later ones, so on a
  // very long connection the quantiles lean towards its recent RTTs.
  std::optional<double> quantile_ms(double q) const;
  // How many times the histogram counts were halved on saturation.
  unsigned halvings() const { return halvings_; }

  static std::size_t bucket_of(std::uint32_t micros);
  // Representative value (µs) of a bucket: exact below kLinear, geometric middle above.
  static double bucket_value_us(std::size_t bucket);

 private:
  std::uint64_t count_ = 0;
  std::uint64_t sum_us_ = 0;
  std::uint32_t min_us_ = 0;
  std::uint32_t max_us_ = 0;
  std::array<std::uint32_t, kExact> exact_{};  // first kExact samples, in arrival order
  std::array<std::uint16_t, kBuckets> buckets_{};
  std::uint8_t halvings_ = 0;
};

}  // namespace netscope::flow
