#pragma once
// Inputs shared by the micro-benchmarks: frames and decoded packets of generated flows
// (the same traffic model as the benchmark capture, see synth_traffic.hpp).

#include <cstdint>
#include <vector>

#include "decode/anomalies.hpp"
#include "decode/decode.hpp"
#include "decode/packet_view.hpp"
#include "synth_traffic.hpp"

namespace netscope::bench {

struct Frame {
  std::vector<std::uint8_t> bytes;
  std::uint32_t wire = 0;
  std::int64_t ts_ns = 0;
  std::uint8_t dir = 0;
};

// Frames of the flows with ids [first_id, first_id + flows), in each flow's own order
// (flows one after the other, not interleaved).
inline std::vector<Frame> flow_frames(std::uint64_t first_id, std::uint64_t flows,
                                      std::uint32_t snaplen, bool force_bulk = false) {
  ModelConfig cfg;
  cfg.size_scale = 0.15;
  std::vector<Frame> frames;
  std::vector<Segment> segs;
  TcpParams tcp;
  for (std::uint64_t id = first_id; id < first_id + flows; ++id) {
    const FlowPlan plan = plan_flow(cfg, id, force_bulk);
    generate_flow(cfg, plan, segs, tcp);
    for (const Segment& s : segs) {
      Frame f;
      f.wire = build_frame(plan.addr, tcp, s, snaplen, f.bytes);
      f.ts_ns = s.ts_ns;
      f.dir = s.dir;
      frames.push_back(std::move(f));
    }
  }
  return frames;
}

inline decode::PacketView decode_frame(const Frame& f) {
  decode::PacketView v;
  decode::AnomalyCounters anomalies;
  decode::decode_packet(decode::linktype::ethernet, f.bytes, f.wire, v, anomalies);
  v.ts = core::Timestamp{f.ts_ns};
  return v;
}

}  // namespace netscope::bench
