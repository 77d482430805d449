// Writes fuzz seeds from real captures: for fuzz_decode one file per packet
// ([selector][0][frame]), for fuzz_pipeline one file per capture holding its first
// packets as records ([selector][len LE16][time step][frame]).
// Usage: make_seeds OUT_DIR CAPTURE...

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "capture/file_reader.hpp"
#include "fuzz_linktypes.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: make_seeds OUT_DIR CAPTURE...\n";
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "decode");
  fs::create_directories(out / "pipeline");
  constexpr std::size_t kPerCapture = 200;  // keeps seeds small and runs fast
  std::size_t decode_seeds = 0;
  std::size_t pipeline_seeds = 0;
  for (int i = 2; i < argc; ++i) {
    netscope::capture::FileReader reader;
    try {
      reader.open(argv[i]);
    } catch (const std::exception&) {
      continue;  // not a capture we can read: nothing to seed from
    }
    std::vector<char> pipeline;
    netscope::capture::RawPacket pkt;
    std::int64_t last_ns = 0;
    std::size_t n = 0;
    while (n < kPerCapture && reader.next(pkt)) {
      const int sel = netscope::fuzz::linktype_selector(pkt.linktype);
      if (sel < 0 || pkt.data.size() > 0xffff) continue;
      ++n;
      const std::string name = fs::path(argv[i]).filename().string() + "." + std::to_string(n);
      std::ofstream d(out / "decode" / name, std::ios::binary);
      d.put(static_cast<char>(sel));
      d.put(0);
      d.write(reinterpret_cast<const char*>(pkt.data.data()),
              static_cast<std::streamsize>(pkt.data.size()));
      ++decode_seeds;
      const std::int64_t step_ms = last_ns == 0 ? 0 : (pkt.ts.ns - last_ns) / 256'000'000;
      last_ns = pkt.ts.ns;
      pipeline.push_back(static_cast<char>(sel));
      pipeline.push_back(static_cast<char>(pkt.data.size() & 0xff));
      pipeline.push_back(static_cast<char>(pkt.data.size() >> 8));
      pipeline.push_back(static_cast<char>(std::clamp<std::int64_t>(step_ms, 0, 127)));
      pipeline.insert(pipeline.end(), pkt.data.begin(), pkt.data.end());
    }
    if (!pipeline.empty()) {
      std::ofstream p(out / "pipeline" / fs::path(argv[i]).filename(), std::ios::binary);
      p.write(pipeline.data(), static_cast<std::streamsize>(pipeline.size()));
      ++pipeline_seeds;
    }
  }
  std::cout << "make_seeds: " << decode_seeds << " decode seeds, " << pipeline_seeds
            << " pipeline seeds\n";
  return 0;
}
