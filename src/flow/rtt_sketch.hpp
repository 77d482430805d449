#pragma once
// RttSketch: bounded-memory summary of RTT samples for one connection. min, max, count
// and sum are exact; quantiles are exact while few samples have been seen and then come
// from a log-bucketed histogram with a bounded relative error (documented on quantile()).
// Its size is bounded: a long connection costs no more than a short one.
//
// Memory: one lives in every Flow, so the object itself is kept to 48 bytes. The first
// kExact samples are stored inline. The histogram is only allocated with the sample after
// them, and only over the range of buckets actually hit (grown in steps of kGrain
// buckets): one connection's RTTs rarely span more than a factor of 10 (~25 buckets,
// ~50 bytes), so a full 181-bucket array (362 bytes) in every flow was mostly zeros.
// The buckets, counts and halving are the same as with a full array, so quantiles do not
// change. The allocation happens a few times per connection at most (never per sample);
// malloc's per-thread cache recycles these small blocks as flows end.

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
  // The held bucket range starts and ends on multiples of kGrain (clamped to kBuckets),
  // so a slowly widening RTT range reallocates rarely.
  static constexpr std::size_t kGrain = 8;

  RttSketch() = default;
  RttSketch(const RttSketch& other);
  RttSketch& operator=(const RttSketch& other);
  RttSketch(RttSketch&& other) noexcept;
  RttSketch& operator=(RttSketch&& other) noexcept;
  ~RttSketch();

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
  // Bytes held outside the object: 0 while count() <= kExact.
  std::size_t heap_bytes() const { return has_histogram() ? span_ * sizeof(std::uint16_t) : 0; }
  // Upper bound of count(): 40 bits (10^12 samples; it sticks there).
  static constexpr std::uint64_t kMaxCount = (std::uint64_t{1} << 40) - 1;

  static std::size_t bucket_of(std::uint32_t micros);
  // Representative value (µs) of a bucket: exact below kLinear, geometric middle above.
  static double bucket_value_us(std::size_t bucket);

 private:
  // The histogram replaces the exact samples once there are more than kExact of them.
  bool has_histogram() const { return count_ > kExact; }
  void count_in_histogram(std::size_t bucket);
  void hold_bucket(std::size_t bucket);  // widens [lo_, lo_ + span_) to include it
  void release();

  // 48 bytes: the count shares a word with the held range, and min and max live in the
  // union beside the histogram pointer (while the exact samples are held, they are
  // computed from them).
  std::uint64_t count_ : 40 = 0;
  std::uint64_t lo_ : 8 = 0;        // first bucket held (kBuckets <= 255)
  std::uint64_t span_ : 8 = 0;      // buckets held
  std::uint64_t halvings_ : 8 = 0;  // saturates at 255
  std::uint64_t sum_us_ = 0;
  struct Histogram {
    std::uint16_t* counts;  // buckets [lo_, lo_ + span_)
    std::uint32_t min_us;
    std::uint32_t max_us;
  };
  // Never both needed: the exact samples are folded into the histogram when it is
  // allocated, so they share the storage. count_ says which is live.
  union Storage {
    std::array<std::uint32_t, kExact> exact{};  // count_ <= kExact: samples in arrival order
    Histogram h;                                // count_ > kExact
  };
  Storage u_;
  std::uint32_t exact_min() const;
  std::uint32_t exact_max() const;
};
static_assert(RttSketch::kBuckets <= 255, "lo_ and span_ are 8-bit");

}  // namespace netscope::flow
