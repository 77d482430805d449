#pragma once
// The order in which every reader lists a snapshot's tables: the busiest row first, by
// up + down (the rate over the window, or the cumulative bytes with `-t`), and rows of
// equal weight in a fixed order of their identity (process name then pid, remote
// address, connection 5-tuple) so that they do not swap places from one tick to the next.
// Shared by --raw, --json-lines and the snapshot document.

#include <cstddef>
#include <vector>

#include "monitor/snapshot.hpp"

namespace netscope::output {

struct RankOptions {
  bool by_bytes = false;     // cumulative bytes instead of the windowed rate
  bool active_only = false;  // drop rows whose weight is zero (no traffic)
  std::size_t top = 0;       // keep this many rows; 0 keeps all
};

std::vector<const monitor::ProcessRecord*> rank(std::vector<const monitor::ProcessRecord*> rows,
                                                const RankOptions& opt);
std::vector<const monitor::ConnectionRecord*> rank(
    std::vector<const monitor::ConnectionRecord*> rows, const RankOptions& opt);
std::vector<const monitor::RemoteRecord*> rank(std::vector<const monitor::RemoteRecord*> rows,
                                               const RankOptions& opt);

// Pointers to every element, for rank().
template <typename T>
std::vector<const T*> pointers_to(const std::vector<T>& records) {
  std::vector<const T*> out;
  out.reserve(records.size());
  for (const T& r : records) out.push_back(&r);
  return out;
}

}  // namespace netscope::output
