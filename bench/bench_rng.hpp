#pragma once
// The random source of the synthetic captures (synth_traffic.cpp, dpi_traffic.cpp) and
// the IPv4 header checksum their frames carry.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace netscope::bench {

// splitmix64: small, fast and fully specified, so files are identical across libcs.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  double range(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double log_range(double lo, double hi) { return lo * std::pow(hi / lo, uniform()); }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  // Appends n random bytes.
  void fill(std::vector<std::uint8_t>& b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(next() >> 56));
  }

 private:
  std::uint64_t s_;
};

// RFC 791 header checksum of the 20-byte IPv4 header at h (its checksum field zero).
inline std::uint16_t ipv4_checksum(const std::uint8_t* h) {
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(h[i] << 8 | h[i + 1]);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace netscope::bench
