// rank(): --top keeps the rows a full sort puts first, in the same order; ties in weight
// fall back to the identity, then to the input order.
#include "output/ranking.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "snapshot_builder.hpp"

namespace netscope::output {
namespace {

using monitor::ConnectionRecord;

std::vector<ConnectionRecord> random_connections(std::mt19937& rng, std::size_t n) {
  std::vector<ConnectionRecord> out;
  std::uniform_int_distribution<int> rate(0, 5);  // few distinct weights: many ties
  std::uniform_int_distribution<int> port(1, 8);  // few distinct 5-tuples: identical ones
  std::uniform_int_distribution<int> neg(0, 9);
  for (std::size_t i = 0; i < n; ++i) {
    ConnectionRecord c = testing::tcp_connection(port(rng) % 2 ? "192.0.2.1" : "192.0.2.2",
                                                 static_cast<std::uint16_t>(port(rng)), 443,
                                                 rate(rng) * 100.0, rate(rng) * 10.0);
    if (neg(rng) == 0) c.rate_up = -5;  // a clock step: weighs nothing
    c.bytes_up = static_cast<std::uint64_t>(rate(rng)) * 1000;
    out.push_back(c);
  }
  return out;
}

// The reference: every row compared through its pointer, stably.
std::vector<const ConnectionRecord*> reference(const std::vector<ConnectionRecord>& rows,
                                               const RankOptions& opt) {
  const auto weight = [&](const ConnectionRecord& c) {
    if (opt.by_bytes) return static_cast<double>(c.bytes_up) + static_cast<double>(c.bytes_down);
    return std::max(0.0, c.rate_up) + std::max(0.0, c.rate_down);
  };
  std::vector<const ConnectionRecord*> out;
  for (const ConnectionRecord& c : rows) {
    if (!opt.active_only || weight(c) > 0) out.push_back(&c);
  }
  std::stable_sort(
      out.begin(), out.end(), [&](const ConnectionRecord* a, const ConnectionRecord* b) {
        if (weight(*a) != weight(*b)) return weight(*a) > weight(*b);
        return std::tie(a->remote_addr, a->remote_port, a->local_addr, a->local_port, a->proto) <
               std::tie(b->remote_addr, b->remote_port, b->local_addr, b->local_port, b->proto);
      });
  if (opt.top > 0 && out.size() > opt.top) out.resize(opt.top);
  return out;
}

TEST(Ranking, TopIsThePrefixOfTheFullOrder) {
  std::mt19937 rng(85);
  for (int round = 0; round < 200; ++round) {
    const std::vector<ConnectionRecord> rows = random_connections(rng, 1 + rng() % 300);
    for (std::size_t top : {0, 1, 3, 10, 1000}) {
      for (bool by_bytes : {false, true}) {
        for (bool active_only : {false, true}) {
          const RankOptions opt{by_bytes, active_only, top};
          ASSERT_EQ(rank(pointers_to(rows), opt), reference(rows, opt))
              << "round " << round << " top " << top << " by_bytes " << by_bytes << " active_only "
              << active_only;
        }
      }
    }
  }
}

TEST(Ranking, EqualRowsKeepTheirInputOrder) {
  std::vector<ConnectionRecord> rows(4, testing::tcp_connection("192.0.2.9", 1000, 443, 5, 5));
  rows[2].rate_up = 50;
  const auto ranked = rank(pointers_to(rows), RankOptions{false, false, 3});
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0], &rows[2]);
  EXPECT_EQ(ranked[1], &rows[0]);
  EXPECT_EQ(ranked[2], &rows[1]);
}

}  // namespace
}  // namespace netscope::output
