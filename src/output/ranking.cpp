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

template <typename T>
std::vector<const T*> rank_rows(std::vector<const T*> rows, const RankOptions& opt) {
  if (opt.active_only) {
    std::erase_if(rows, [&](const T* r) { return weight(*r, opt.by_bytes) <= 0; });
  }
  std::sort(rows.begin(), rows.end(), [&](const T* a, const T* b) {
    const double wa = weight(*a, opt.by_bytes);
    const double wb = weight(*b, opt.by_bytes);
    if (wa != wb) return wa > wb;
    return identity(*a) < identity(*b);
  });
  if (opt.top > 0 && rows.size() > opt.top) rows.resize(opt.top);
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
