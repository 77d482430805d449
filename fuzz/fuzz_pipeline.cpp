// libFuzzer target for the packet path after decoding: a sequence of frames goes through
// monitor::Engine (decode -> flow table -> TCP tracker -> ICMP matching -> expiry) and
// the analyze report's scoring, so flow and tracker state is fuzzed across packets, not
// one packet at a time. Input: records of [link type selector: 1][length: 2, LE]
// [signed time step in units of 256 ms: 1][frame], as fuzz/make_seeds.cpp writes them from real
// captures.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "analyze/report.hpp"
#include "fuzz_linktypes.hpp"
#include "monitor/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::analyze::ReportBuilder report(5, nullptr);
  netscope::monitor::EngineConfig config;
  config.flows.max_flows = 64;  // small, so that eviction runs too
  netscope::monitor::Engine engine(config, report);

  std::int64_t now_ns = 1'700'000'000'000'000'000;
  std::size_t pos = 0;
  while (pos + 4 <= size) {
    const int linktype = netscope::fuzz::kLinkTypes[data[pos] % netscope::fuzz::kLinkTypes.size()];
    const std::size_t len =
        std::min<std::size_t>(data[pos + 1] | (data[pos + 2] << 8), size - pos - 4);
    // A signed step of up to ~33 s either way (127 * 256 ms): flows time out, and time
    // also goes backwards, as in merged captures and after clock steps.
    now_ns += static_cast<std::int64_t>(static_cast<std::int8_t>(data[pos + 3])) * 256'000'000;
    pos += 4;
    // An exactly-sized copy, so ASan sees any read past the captured bytes.
    auto frame = std::make_unique<std::uint8_t[]>(len == 0 ? 1 : len);
    if (len != 0) std::memcpy(frame.get(), data + pos, len);
    pos += len;

    netscope::capture::RawPacket pkt;
    pkt.ts = netscope::core::Timestamp{now_ns};
    pkt.data = std::span<const std::uint8_t>(frame.get(), len);
    pkt.orig_len = static_cast<std::uint32_t>(len);
    pkt.linktype = linktype;
    report.set_capture_end(pkt.ts);
    engine.process(pkt);
  }
  engine.finish();
  return 0;
}
