// FileReader iterating over a capture file (memory-mapped and streaming), next to a
// plain pcap_next_ex loop over the same file in the same run, so the ratio between them
// holds on a noisy machine. Each iteration reads the whole file and touches each
// packet's first byte.
//
//   micro_capture --file FILE [benchmark flags]

#include <benchmark/benchmark.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "capture/file_reader.hpp"

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
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
