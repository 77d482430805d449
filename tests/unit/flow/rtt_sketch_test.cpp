// RttSketch: exact statistics, exact quantiles for few samples, bounded relative error
// for many, fixed size.

#include "flow/rtt_sketch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace netscope::flow {
namespace {

// Nearest-rank quantile, the definition quantile_ms() documents.
double exact_quantile_ms(std::vector<std::uint32_t> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1] / 1000.0;
}

constexpr double kBound = 0.0489;  // sqrt(1.1) - 1, the documented bound

TEST(RttSketch, empty_sketch_has_no_statistics) {
  RttSketch s;
  EXPECT_EQ(s.count(), 0u);
  EXPECT_FALSE(s.min_ms());
  EXPECT_FALSE(s.mean_ms());
  EXPECT_FALSE(s.quantile_ms(0.5));
}

TEST(RttSketch, few_samples_give_exact_quantiles) {
  RttSketch s;
  const std::vector<std::uint32_t> v{30'107, 75, 48'778, 1'000, 999'999, 12, 5'000};
  for (auto x : v) s.add(x);
  for (double q : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0}) {
    EXPECT_DOUBLE_EQ(*s.quantile_ms(q), exact_quantile_ms(v, q)) << "q=" << q;
  }
  EXPECT_DOUBLE_EQ(*s.min_ms(), 0.012);
  EXPECT_DOUBLE_EQ(*s.max_ms(), 999.999);
}

TEST(RttSketch, min_max_count_mean_stay_exact_for_many_samples) {
  RttSketch s;
  std::uint64_t sum = 0;
  for (std::uint32_t i = 1; i <= 100'000; ++i) {
    s.add(i * 7);
    sum += i * 7;
  }
  EXPECT_EQ(s.count(), 100'000u);
  EXPECT_DOUBLE_EQ(*s.min_ms(), 0.007);
  EXPECT_DOUBLE_EQ(*s.max_ms(), 700.0);
  EXPECT_DOUBLE_EQ(*s.mean_ms(), static_cast<double>(sum) / 100'000 / 1000);
}

TEST(RttSketch, quantiles_of_lognormal_rtts_are_within_the_documented_bound) {
  std::mt19937 rng(42);
  std::lognormal_distribution<double> dist(std::log(20'000.0), 1.0);  // median 20 ms
  RttSketch s;
  std::vector<std::uint32_t> v;
  for (int i = 0; i < 50'000; ++i) {
    const auto x = static_cast<std::uint32_t>(std::clamp(dist(rng), 1.0, 1e8));
    v.push_back(x);
    s.add(x);
  }
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999}) {
    const double exact = exact_quantile_ms(v, q);
    EXPECT_NEAR(*s.quantile_ms(q), exact, exact * kBound) << "q=" << q;
  }
}

TEST(RttSketch, every_value_from_1us_to_100s_maps_within_the_bound) {
  for (double us = 1; us < 1e8; us *= 1.013) {
    const auto x = static_cast<std::uint32_t>(us);
    const double rep = RttSketch::bucket_value_us(RttSketch::bucket_of(x));
    EXPECT_LE(std::abs(rep - x), x * kBound + 1e-9) << x;
  }
}

TEST(RttSketch, uniform_distribution_quantiles_within_bound) {
  RttSketch s;
  std::vector<std::uint32_t> v;
  for (std::uint32_t i = 1; i <= 20'000; ++i) {
    v.push_back(i * 50);
    s.add(i * 50);
  }
  for (double q : {0.05, 0.25, 0.5, 0.75, 0.95}) {
    const double exact = exact_quantile_ms(v, q);
    EXPECT_NEAR(*s.quantile_ms(q), exact, exact * kBound) << "q=" << q;
  }
}

TEST(RttSketch, saturated_buckets_are_halved_and_keep_a_steady_shape) {
  RttSketch s;
  for (int i = 0; i < 100'000; ++i) {  // two thirds 10 ms, one third 50 ms, interleaved
    s.add(10'000);
    s.add(10'000);
    s.add(50'000);
  }
  EXPECT_GT(s.halvings(), 0u);
  EXPECT_NEAR(*s.quantile_ms(0.5), 10.0, 10.0 * kBound);
  EXPECT_NEAR(*s.quantile_ms(0.9), 50.0, 50.0 * kBound);
  EXPECT_EQ(s.count(), 300'000u);
}

TEST(RttSketch, after_saturation_older_samples_weigh_less) {
  RttSketch s;
  for (int i = 0; i < 200'000; ++i) s.add(10'000);
  for (int i = 0; i < 100'000; ++i) s.add(50'000);
  // Each halving halves what was there before: the median follows the recent regime.
  EXPECT_NEAR(*s.quantile_ms(0.5), 50.0, 50.0 * kBound);
  EXPECT_DOUBLE_EQ(*s.min_ms(), 10.0);
}

TEST(RttSketch, size_is_fixed_and_small) {
  // One per flow: the exact samples and the histogram pointer share the same 32 bytes.
  EXPECT_LE(sizeof(RttSketch), 64u);
}

TEST(RttSketch, histogram_is_allocated_only_after_the_exact_samples) {
  RttSketch s;
  for (std::size_t i = 0; i < RttSketch::kExact; ++i) s.add(20'000);
  EXPECT_EQ(s.heap_bytes(), 0u);
  s.add(20'000);
  EXPECT_GT(s.heap_bytes(), 0u);
  // One connection's RTTs in a narrow band hold a few buckets, not all of them.
  for (std::uint32_t us = 18'000; us < 30'000; us += 7) s.add(us);
  EXPECT_LE(s.heap_bytes(), 2 * RttSketch::kGrain * sizeof(std::uint16_t));
}

TEST(RttSketch, widening_the_range_keeps_the_counts_already_taken) {
  RttSketch s;
  std::vector<std::uint32_t> v;
  // Start in the middle, then reach down and up, so the held range grows both ways.
  for (std::uint32_t x :
       {40'000u, 41'000u, 39'000u, 40'500u, 42'000u, 38'000u, 40'000u, 40'000u, 40'000u, 40'000u}) {
    v.push_back(x);
    s.add(x);
  }
  for (std::uint32_t i = 1; i <= 3000; ++i) {
    const std::uint32_t x = i % 3 == 0 ? 20 + i : (i % 3 == 1 ? 5'000'000 + i : 40'000 + i);
    v.push_back(x);
    s.add(x);
  }
  for (double q : {0.1, 0.3, 0.5, 0.7, 0.9, 1.0}) {
    const double exact = exact_quantile_ms(v, q);
    EXPECT_NEAR(*s.quantile_ms(q), exact, exact * kBound) << "q=" << q;
  }
}

TEST(RttSketch, copies_and_moves_keep_the_samples) {
  RttSketch few;
  few.add(1'000);
  few.add(3'000);
  RttSketch many;
  for (std::uint32_t i = 1; i <= 1000; ++i) many.add(i * 100);

  for (const RttSketch* src : {&few, &many}) {
    RttSketch copy(*src);
    EXPECT_EQ(copy.count(), src->count());
    EXPECT_EQ(copy.heap_bytes(), src->heap_bytes());
    EXPECT_EQ(*copy.quantile_ms(0.5), *src->quantile_ms(0.5));
    RttSketch assigned;
    assigned.add(7);
    assigned = copy;
    EXPECT_EQ(*assigned.quantile_ms(0.9), *src->quantile_ms(0.9));
    RttSketch moved(std::move(copy));
    EXPECT_EQ(*moved.quantile_ms(0.9), *src->quantile_ms(0.9));
    RttSketch move_assigned = many;  // owns a histogram, which the move must free
    move_assigned = std::move(moved);
    EXPECT_EQ(move_assigned.count(), src->count());
    EXPECT_EQ(*move_assigned.quantile_ms(0.25), *src->quantile_ms(0.25));
  }
}

}  // namespace
}  // namespace netscope::flow
