// decode_packet on typical frames: single shapes (IPv4/IPv6 TCP data and ACKs, DNS) and
// the mix of the benchmark capture.

#include <benchmark/benchmark.h>

#include <string>

#include "micro_common.hpp"

namespace {

using netscope::bench::Frame;

Frame make_frame(bool v6, bool udp, std::uint32_t len, std::uint8_t flags) {
  netscope::bench::FlowAddress a;
  a.v6 = v6;
  a.udp = udp;
  a.client = {10, 1, 2, 3};
  a.server = {198, 18, 0, 1};
  if (v6) {
    a.client = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
    a.server = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  }
  a.client_port = 40000;
  a.server_port = udp ? 53 : 443;
  netscope::bench::Segment s{1'000'000, 1000, 2000, len, 501, flags, 1};
  Frame f;
  f.wire = netscope::bench::build_frame(a, netscope::bench::TcpParams{}, s, 65535, f.bytes);
  return f;
}

void run_decode(benchmark::State& state, const std::vector<Frame>& frames) {
  netscope::decode::PacketView view;
  netscope::decode::AnomalyCounters anomalies;
  std::size_t i = 0;
  for (auto _ : state) {
    const Frame& f = frames[i];
    i = i + 1 == frames.size() ? 0 : i + 1;
    const bool ok = netscope::decode::decode_packet(netscope::decode::linktype::ethernet, f.bytes,
                                                    f.wire, view, anomalies);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(view.seq);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_decode_ipv4_tcp_data(benchmark::State& state) {
  run_decode(state, {make_frame(false, false, 1448, 0x18)});
}
void BM_decode_ipv4_tcp_ack(benchmark::State& state) {
  run_decode(state, {make_frame(false, false, 0, 0x10)});
}
void BM_decode_ipv4_tcp_syn(benchmark::State& state) {
  run_decode(state, {make_frame(false, false, 0, 0x02)});
}
void BM_decode_ipv6_tcp_data(benchmark::State& state) {
  run_decode(state, {make_frame(true, false, 1448, 0x18)});
}
void BM_decode_ipv4_udp_dns(benchmark::State& state) {
  run_decode(state, {make_frame(false, true, 0, 0)});
}
// The benchmark capture's mix (snaplen 128), 200 flows, looped.
void BM_decode_capture_mix(benchmark::State& state) {
  static const std::vector<Frame> frames = netscope::bench::flow_frames(0, 200, 128);
  run_decode(state, frames);
}

BENCHMARK(BM_decode_ipv4_tcp_data);
BENCHMARK(BM_decode_ipv4_tcp_ack);
BENCHMARK(BM_decode_ipv4_tcp_syn);
BENCHMARK(BM_decode_ipv6_tcp_data);
BENCHMARK(BM_decode_ipv4_udp_dns);
BENCHMARK(BM_decode_capture_mix);

}  // namespace

BENCHMARK_MAIN();
