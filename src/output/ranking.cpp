#include "output/ranking.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace netscope::output {

namespace {

// A rate that is NaN or negative (a clock step) weighs nothing rather than poisoning
// the sort's strict weak ordering.
double clean(double v) {
  return std::isfinite(v) && v > 0 ? v : 0.0;
}

template <typename T>
double weight(const T& r, bool by_bytes) {
  if (by_bytes) return static_cast<double>(r.bytes_up) + static_cast<double>(r.bytes_down);
  return clean(r.rate_up) + clean(r.rate_down);
}

auto identity(const monitor::ProcessRecord& p) {
  return std::tie(p.name, p.pid);
}
auto identity(const monitor::ConnectionRecord& c) {
  return std::tie(c.remote_addr, c.remote_port, c.local_addr, c.local_port, c.proto);
}
auto identity(const monitor::RemoteRecord& r) {
  return std::tie(r.addr);
}

// Rows of equal weight and identity (a connection closed and reopened with the same
// 5-tuple within the window) keep their order in the input.
// The weights are computed once, next to the pointers: comparing through the pointers
// would read two records (a KB each) per comparison. With `top`, only the first rows are
// put in order (a partial sort), which gives the same rows as sorting all of them.
template <typename T>
std::vector<const T*> rank_rows(std::vector<const T*> rows, const RankOptions& opt) {
  struct Row {
    double w;
    std::size_t at;
    const T* r;
  };
  std::vector<Row> keyed;
  keyed.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double w = weight(*rows[i], opt.by_bytes);
    if (opt.active_only && w <= 0) continue;
    keyed.push_back(Row{w, i, rows[i]});
  }
  const auto before = [](const Row& a, const Row& b) {
    if (a.w != b.w) return a.w > b.w;
    const auto ia = identity(*a.r);
    const auto ib = identity(*b.r);
    if (ia != ib) return ia < ib;
    return a.at < b.at;
  };
  if (opt.top > 0 && keyed.size() > opt.top) {
    const auto mid = keyed.begin() + static_cast<std::ptrdiff_t>(opt.top);
    std::partial_sort(keyed.begin(), mid, keyed.end(), before);
    keyed.erase(mid, keyed.end());
  } else {
    std::sort(keyed.begin(), keyed.end(), before);
  }
  rows.clear();
  for (const Row& k : keyed) rows.push_back(k.r);
  return rows;
}

}  // namespace

std::vector<const monitor::ProcessRecord*> rank(std::vector<const monitor::ProcessRecord*> rows,
                                                const RankOptions& opt) {
  return rank_rows(std::move(rows), opt);
}
std::vector<const monitor::ConnectionRecord*> rank(
    std::vector<const monitor::ConnectionRecord*> rows, const RankOptions& opt) {
  return rank_rows(std::move(rows), opt);
}
std::vector<const monitor::RemoteRecord*> rank(std::vector<const monitor::RemoteRecord*> rows,
                                               const RankOptions& opt) {
  return rank_rows(std::move(rows), opt);
}

}  // namespace netscope::output
