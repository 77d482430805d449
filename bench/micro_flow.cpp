// FlowTable::upsert (hit and miss) and TcpTracker::on_segment.

#include <benchmark/benchmark.h>

#include <memory>

#include "flow/flow_table.hpp"
#include "flow/tcp_tracker.hpp"
#include "micro_common.hpp"

namespace {

class NullSink : public netscope::flow::FlowSink {
 public:
  void on_flow_end(const netscope::flow::Flow& flow, netscope::flow::EndReason) override {
    benchmark::DoNotOptimize(flow.dir[0].packets);
  }
};

// One SYN per flow, from `count` distinct clients, decoded.
std::vector<netscope::decode::PacketView> syn_views(std::uint64_t first_id, std::size_t count) {
  netscope::bench::ModelConfig cfg;
  std::vector<netscope::decode::PacketView> views;
  views.reserve(count);
  netscope::bench::TcpParams tcp;
  for (std::uint64_t id = first_id; views.size() < count; ++id) {
    netscope::bench::FlowPlan plan = netscope::bench::plan_flow(cfg, id);
    plan.addr.udp = false;
    netscope::bench::Frame f;
    const netscope::bench::Segment syn{
        static_cast<std::int64_t>(id) * 1000, 1, 0, 0, 64240, netscope::bench::kSyn, 0};
    f.wire = netscope::bench::build_frame(plan.addr, tcp, syn, 128, f.bytes);
    f.ts_ns = syn.ts_ns;
    views.push_back(netscope::bench::decode_frame(f));
  }
  return views;
}

// Lookups of flows already in the table; range(0) flows, visited in a shuffled order.
void BM_FlowTable_upsert_hit(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto views = syn_views(0, n);
  for (std::size_t i = n; i > 1; --i) std::swap(views[i - 1], views[(i * 7919) % i]);
  NullSink sink;
  netscope::flow::FlowTable table(netscope::flow::FlowTableConfig{}, sink);
  int dir = 0;
  for (const auto& v : views) table.upsert(v, dir);
  std::size_t i = 0;
  for (auto _ : state) {
    netscope::flow::Flow& f = table.upsert(views[i], dir);
    benchmark::DoNotOptimize(&f);
    i = i + 1 == n ? 0 : i + 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowTable_upsert_hit)->Arg(1'000)->Arg(100'000);

// Inserts of new flows into a table holding up to 100k; drained (untimed) when full.
void BM_FlowTable_upsert_miss(benchmark::State& state) {
  constexpr std::size_t kFlows = 100'000;
  const auto views = syn_views(1'000'000, kFlows);
  NullSink sink;
  netscope::flow::FlowTable table(netscope::flow::FlowTableConfig{}, sink);
  std::size_t i = 0;
  int dir = 0;
  for (auto _ : state) {
    if (i == kFlows) {
      state.PauseTiming();
      table.drain();
      i = 0;
      state.ResumeTiming();
    }
    netscope::flow::Flow& f = table.upsert(views[i++], dir);
    benchmark::DoNotOptimize(&f);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowTable_upsert_miss);

// Segments of generated connections, in order; range(0) = 1: bulk downloads (with their
// losses and reordering), 0: the capture's mix of TCP flows. A fresh tracker per flow.
void BM_TcpTracker_on_segment(benchmark::State& state) {
  const bool bulk = state.range(0) == 1;
  struct Seg {
    netscope::decode::PacketView view;
    int dir;
    bool first;  // first segment of a flow
  };
  std::vector<Seg> segs;
  std::uint64_t id = 0;
  while (segs.size() < 20'000) {
    const auto frames = netscope::bench::flow_frames(id++, 1, 128, bulk);
    bool first = true;
    for (const auto& f : frames) {
      auto v = netscope::bench::decode_frame(f);
      if (!v.is_tcp()) break;
      segs.push_back(Seg{v, f.dir, first});
      first = false;
    }
  }
  auto tracker = std::make_unique<netscope::flow::TcpTracker>();
  std::size_t i = 0;
  for (auto _ : state) {
    const Seg& s = segs[i];
    if (s.first) *tracker = netscope::flow::TcpTracker{};
    benchmark::DoNotOptimize(tracker->on_segment(s.dir, s.view));
    i = i + 1 == segs.size() ? 0 : i + 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TcpTracker_on_segment)->ArgName("bulk")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
