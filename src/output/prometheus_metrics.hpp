#pragma once
// PrometheusMetrics: turns the stream of snapshots into Prometheus counters and renders
// them in the text exposition format (version 0.0.4), for `--prometheus`.
//
// Snapshots carry cumulative totals, but those are not quite counters: a process or
// connection leaves the snapshot when it goes quiet, a late attribution moves bytes from
// <UNKNOWN> to the process, and the exported label set is bounded. So every counter here
// is built from deltas:
//   - Each source (a process by pid and start time, the <UNKNOWN> group, a connection,
//     an interface) keeps the high-water mark of its cumulative values; a tick adds what
//     it grew beyond that mark. A value that shrinks (bytes moved out of <UNKNOWN>) adds
//     nothing until it has grown past the mark again, so no counter ever goes backwards.
//   - Processes are grouped into series by (process, user, container). The `top` groups
//     busiest lately (bytes over an exponentially decayed window, half-life 5 minutes)
//     have series of their own; the traffic of every other group goes to process="other".
//     A group that leaves the top hands its whole count to "other", so the sum over the
//     series never decreases either; a group that enters the top starts its own series at
//     zero (its earlier traffic stays in "other"). A newcomer displaces the weakest
//     member only when it is 1.5 times as busy, so that two similar groups do not make
//     series flap in and out.
// Memory is bounded: at most kMaxSources processes and kMaxGroups groups are tracked
// (the least recently seen are forgotten first; a forgotten group's count is already in
// its series or in "other").

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "monitor/snapshot.hpp"

namespace netscope::output {

struct PrometheusOptions {
  std::size_t top = 20;  // process groups with their own series (--prometheus-top)
  std::string version;   // netscope_build_info{version=...}
  double half_life_s = 300;
};

// Cumulative up/down counters of one source or series.
struct TrafficCounters {
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t packets_up = 0;
  std::uint64_t packets_down = 0;
};

class PrometheusMetrics {
 public:
  static constexpr std::size_t kMaxSources = 65'536;
  static constexpr std::size_t kMaxGroups = 16'384;
  static constexpr std::size_t kMaxConnectionStates = 1'048'576;
  static constexpr std::size_t kMaxLabelCombos = 256;  // per small family (state, rcode)

  explicit PrometheusMetrics(PrometheusOptions options);
  ~PrometheusMetrics();
  PrometheusMetrics(PrometheusMetrics&&) noexcept;
  PrometheusMetrics& operator=(PrometheusMetrics&&) noexcept;

  // Folds one snapshot in. Snapshots must come in tick order.
  void update(const monitor::Snapshot& snap);
  // Appends the exposition text of every family to `out`.
  void render(std::string& out) const;
  std::string render() const {
    std::string s;
    render(s);
    return s;
  }

  std::uint64_t ticks() const;
  // The per-process series as exported now: (process, user, container) -> counters,
  // "other" included. For tests.
  std::map<std::tuple<std::string, std::string, std::string>, TrafficCounters> process_series()
      const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Prometheus text format helpers, exposed for tests.
// A label value: invalid UTF-8 replaced by U+FFFD, then \ " and newline escaped.
void append_label_value(std::string& out, std::string_view value);
// A HELP text: \ and newline escaped.
void append_help_text(std::string& out, std::string_view text);

}  // namespace netscope::output
