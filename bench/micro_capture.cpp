// FileReader iterating over a capture file (memory-mapped and streaming), next to a
// plain pcap_next_ex loop over the same file in the same run, so the ratio between them
// holds on a noisy machine. Each iteration reads the whole file and touches each
// packet's first byte.
//
// BM_Engine_live_*: the live monitor's packet path (monitor::Engine as LiveMonitor
// configures it: 65,536 flows, DPI on, no attribution) over the file's packets, held in
// memory: one packet at a time, and in batches copied out as LiveCapture does
// (LiveOptions::batch = Engine::kBatch). With bench-live's capture
// (bench/data/live-p1500000-f10000-*.pcap) it is that benchmark's packet path without
// libpcap, the kernel and the ticks. A fresh engine per iteration.
//
//   micro_capture --file FILE [benchmark flags]

#include <benchmark/benchmark.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capture/file_reader.hpp"
#include "monitor/engine.hpp"

namespace {

std::string g_file;

void read_with_file_reader(benchmark::State& state, bool use_mmap) {
  std::uint64_t packets = 0;
  for (auto _ : state) {
    netscope::capture::ReaderOptions options;
    options.use_mmap = use_mmap;
    netscope::capture::FileReader reader(options);
    reader.open(g_file);
    netscope::capture::RawPacket pkt;
    unsigned touched = 0;
    while (reader.next(pkt)) {
      if (!pkt.data.empty()) touched += pkt.data[0];
      ++packets;
    }
    if (reader.status() != netscope::capture::ReadStatus::end) {
      state.SkipWithError(reader.error().c_str());
      return;
    }
    benchmark::DoNotOptimize(touched);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}

void BM_FileReader_mmap(benchmark::State& state) {
  read_with_file_reader(state, true);
}
void BM_FileReader_stream(benchmark::State& state) {
  read_with_file_reader(state, false);
}

void BM_pcap_next_ex(benchmark::State& state) {
  std::uint64_t packets = 0;
  for (auto _ : state) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(g_file.c_str(), errbuf);
    if (p == nullptr) {
      state.SkipWithError(errbuf);
      return;
    }
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    unsigned touched = 0;
    while (pcap_next_ex(p, &header, &data) == 1) {
      if (header->caplen > 0) touched += data[0];
      ++packets;
    }
    pcap_close(p);
    benchmark::DoNotOptimize(touched);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}

// The file's packets, read once (memory-mapped: the packets point into the mapping).
struct Loaded {
  std::unique_ptr<netscope::capture::FileReader> reader;
  std::vector<netscope::capture::RawPacket> packets;
};
const Loaded& loaded() {
  static const Loaded l = [] {
    Loaded out;
    out.reader = std::make_unique<netscope::capture::FileReader>();
    out.reader->open(g_file);
    netscope::capture::RawPacket pkt;
    while (out.reader->next(pkt)) out.packets.push_back(pkt);
    return out;
  }();
  return l;
}

// What LiveMonitor's sink does on the packet path without attribution: keep ended flows.
class LiveLikeSink : public netscope::monitor::EngineSink {
 public:
  void on_flow_end(const netscope::flow::Flow& /*f*/, netscope::flow::EndReason /*r*/) override {
    ++ended;
  }
  std::uint64_t ended = 0;
};

netscope::monitor::EngineConfig live_engine_config() {
  netscope::monitor::EngineConfig ec;
  ec.flows.max_flows = 65'536;  // MonitorConfig's default
  ec.dpi = true;
  return ec;
}

void BM_Engine_live_one_by_one(benchmark::State& state) {
  const auto& pkts = loaded().packets;
  for (auto _ : state) {
    LiveLikeSink sink;
    netscope::monitor::Engine engine(live_engine_config(), sink);
    for (const auto& p : pkts) engine.process(p);
    benchmark::DoNotOptimize(engine.stats().packets);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pkts.size()));
}

void BM_Engine_live_batched(benchmark::State& state) {
  using netscope::capture::RawPacket;
  const auto& pkts = loaded().packets;
  constexpr std::size_t kBatch = netscope::monitor::Engine::kBatch;
  std::vector<std::uint8_t> arena(256 << 10);
  std::vector<RawPacket> batch(kBatch);
  for (auto _ : state) {
    LiveLikeSink sink;
    netscope::monitor::Engine engine(live_engine_config(), sink);
    std::size_t n = 0, used = 0;
    for (const auto& p : pkts) {
      if (used + p.data.size() > arena.size()) {
        engine.process_batch({batch.data(), n});
        n = used = 0;
      }
      std::memcpy(arena.data() + used, p.data.data(), p.data.size());
      batch[n] = p;
      batch[n].data = {arena.data() + used, p.data.size()};
      used += p.data.size();
      if (++n == kBatch) {
        engine.process_batch({batch.data(), n});
        n = used = 0;
      }
    }
    engine.process_batch({batch.data(), n});
    benchmark::DoNotOptimize(engine.stats().packets);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pkts.size()));
}

}  // namespace

int main(int argc, char** argv) {
  // Take --file out of the arguments before Google Benchmark sees them.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--file=", 7) == 0) {
      g_file = argv[i] + 7;
    } else if (std::strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
      g_file = argv[++i];
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (g_file.empty()) {
    std::fprintf(stderr, "usage: micro_capture --file FILE [benchmark flags]\n");
    return 2;
  }
  for (auto* b : {benchmark::RegisterBenchmark("BM_pcap_next_ex", BM_pcap_next_ex),
                  benchmark::RegisterBenchmark("BM_FileReader_mmap", BM_FileReader_mmap),
                  benchmark::RegisterBenchmark("BM_FileReader_stream", BM_FileReader_stream)}) {
    b->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
  }
  for (auto* b :
       {benchmark::RegisterBenchmark("BM_Engine_live_one_by_one", BM_Engine_live_one_by_one),
        benchmark::RegisterBenchmark("BM_Engine_live_batched", BM_Engine_live_batched)}) {
    b->Unit(benchmark::kMillisecond)->Iterations(3);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
