#pragma once
// RttSketch: bounded-memory summary of RTT samples for one connection. min, max, count
// and sum are exact; quantiles are exact while few samples have been seen and then come
// from a log-bucketed histogram with a bounded relative error (documented on quantile()).
// Its size is fixed: a long connection costs no more than a short one.

#include <array>
#include <cstdint>
#include <optional>

namespace netscope::flow {

class RttSketch {
 public:
  void add(std::uint32_t micros);
  std::uint64_t count() const { return count_; }
  std::optional<double> min_ms() const;
  std::optional<double> max_ms() const;
  std::optional<double> mean_ms() const;
  // q in [0,1]; nullopt when empty.
  std::optional<double> quantile_ms(double q) const;

 private:
  // Implementation detail owned by flow/rtt_sketch.cpp; see there.
  static constexpr std::size_t kExact = 8;
  static constexpr std::size_t kBuckets = 128;
  std::uint64_t count_ = 0;
  std::uint64_t sum_us_ = 0;
  std::uint32_t min_us_ = 0;
  std::uint32_t max_us_ = 0;
  std::array<std::uint32_t, kExact> exact_{};
  std::array<std::uint16_t, kBuckets> buckets_{};
  std::uint8_t halvings_ = 0;
};

}  // namespace netscope::flow
