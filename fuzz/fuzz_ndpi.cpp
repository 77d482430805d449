// libFuzzer target for the nDPI labeller (build option NETSCOPE_NDPI,
// src/dpi/ndpi_labeller.*): arbitrary packets of up to four flows (IPv4 or IPv6, TCP or
// UDP, any ports, flags, payloads up to 64 KiB, time jumps that make slots stale) through
// a labeller with two live slots. It checks the labeller's own invariants: at most
// max_live states alive, a flow is never both running and done, a label only on a
// finished flow, every state freed once the flows are released. nDPI parses the
// payloads; the labeller rebuilds an IP packet from each PacketView for it.
// Without the option the same packets go through an Inspector, and no flow may carry
// any nDPI bit or label.
//
// Input: records of [flow, direction, time step byte][TCP flags byte][len lo][len hi][payload].

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "dpi/inspector.hpp"
#include "dpi/ndpi_labeller.hpp"

namespace {

using Bytes = std::span<const std::uint8_t>;
namespace ns = netscope;

struct Packet {
  ns::decode::PacketView v;
  std::unique_ptr<std::uint8_t[]> payload;
  int dir = 0;
  int flow = 0;
};

// Decodes one record into a packet; false at the end of the input.
bool next(Bytes& data, std::int64_t& t, Packet& p) {
  if (data.size() < 4) return false;
  const std::uint8_t f = data[0];
  const std::uint8_t flags = data[1];
  const std::size_t len =
      std::min<std::size_t>(data[2] | (std::size_t{data[3]} << 8), data.size() - 4);
  p.payload = std::make_unique<std::uint8_t[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(p.payload.get(), data.data() + 4, len);
  data = data.subspan(4 + len);
  p.flow = f & 3;
  p.dir = (f >> 2) & 1;
  // A flow's protocol and address family never change either (its key): flow 0 is
  // IPv4/TCP, 1 IPv4/UDP, 2 IPv6/TCP, 3 IPv6/UDP.
  const bool v6 = p.flow >= 2;
  const bool tcp = (p.flow & 1) == 0;
  t += static_cast<std::int64_t>(f >> 3) * 2'000'000'000;  // up to 62 s: stale slots
  ns::decode::PacketView& v = p.v;
  v = ns::decode::PacketView{};
  v.layers = ns::decode::PacketView::kIp | ns::decode::PacketView::kTransport;
  v.ts = ns::core::Timestamp{t};
  std::array<std::uint8_t, 16> a{};
  std::array<std::uint8_t, 16> b{};
  a[0] = 0x20;
  b[0] = 0x20;
  a[15] = static_cast<std::uint8_t>(1 + p.flow);
  b[15] = 0x99;
  const auto addr = [v6](const std::array<std::uint8_t, 16>& x) {
    return v6 ? ns::core::IpAddress::from_v6(x) : ns::core::IpAddress::from_v4(0x0a000000u | x[15]);
  };
  v.ip_version = v6 ? 6 : 4;
  v.src = addr(p.dir == 0 ? a : b);
  v.dst = addr(p.dir == 0 ? b : a);
  const std::uint16_t cport = static_cast<std::uint16_t>(40000 + p.flow);
  // A flow's ports never change (they are part of its key): one server port per flow.
  static constexpr std::array<std::uint16_t, 4> kServerPorts{443, 53, 6881, 3478};
  const std::uint16_t sport = kServerPorts[static_cast<std::size_t>(p.flow)];
  v.sport = p.dir == 0 ? cport : sport;
  v.dport = p.dir == 0 ? sport : cport;
  v.ip_proto = tcp ? ns::decode::ip_proto::tcp : ns::decode::ip_proto::udp;
  v.tcp_flags = tcp ? flags : 0;
  v.seq = static_cast<std::uint32_t>(t / 1000);
  v.ack = static_cast<std::uint32_t>(flags) << 12;
  v.ttl = flags;
  v.tos = static_cast<std::uint8_t>(flags ^ 0x5a);
  v.payload = Bytes(p.payload.get(), len);
  v.payload_len = static_cast<std::uint32_t>(len);
  return true;
}

void check_flags(const ns::dpi::FlowState& s) {
  const bool active = (s.flags & ns::dpi::FlowState::kNdpiActive) != 0;
  const bool done = (s.flags & ns::dpi::FlowState::kNdpiDone) != 0;
  const bool labelled = (s.flags & ns::dpi::FlowState::kNdpiLabelled) != 0;
  if (active && done) __builtin_trap();
  if (labelled && !done) __builtin_trap();
  if (!active && !labelled && s.ndpi != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  std::int64_t t = 1'700'000'000'000'000'000;
  std::array<ns::dpi::FlowState, 4> flows;
  Packet p;
#if NETSCOPE_NDPI
  ns::dpi::DpiCounters counters;
  ns::dpi::NdpiConfig cfg;
  cfg.max_live = 2;
  cfg.max_packets = 6;
  ns::dpi::NdpiLabeller labeller(cfg, counters);
  std::string app;
  std::string category;
  while (next(in, t, p)) {
    bool changed = false;
    ns::dpi::FlowState& s = flows[static_cast<std::size_t>(p.flow)];
    labeller.feed(s, p.v, p.dir, changed);
    check_flags(s);
    if (labeller.live() > cfg.max_live) __builtin_trap();
    ns::dpi::ndpi_names(s, app, category);
    if (changed && app.empty()) __builtin_trap();
  }
  for (ns::dpi::FlowState& s : flows) {
    labeller.release(s);
    check_flags(s);
  }
  if (labeller.live() != 0) __builtin_trap();
  if (counters.ndpi_labelled > counters.ndpi_flows) __builtin_trap();
#else
  constexpr std::uint8_t kNdpiBits = ns::dpi::FlowState::kNdpiActive |
                                     ns::dpi::FlowState::kNdpiDone |
                                     ns::dpi::FlowState::kNdpiLabelled;
  ns::dpi::Inspector inspector;
  ns::dpi::InspectResult out;
  while (next(in, t, p)) {
    ns::dpi::FlowState& s = flows[static_cast<std::size_t>(p.flow)];
    out.clear();
    if (s.wants_packets()) inspector.inspect(s, p.v, p.dir, out);
    check_flags(s);
    if ((s.flags & kNdpiBits) != 0 || s.ndpi != 0) __builtin_trap();
  }
  for (ns::dpi::FlowState& s : flows) {
    out.clear();
    inspector.finish(s, out);
    ns::dpi::DpiInfo info;
    ns::dpi::Inspector::describe(s, info);
    if (!info.ndpi_app.empty() || !info.ndpi_category.empty()) __builtin_trap();
  }
#endif
  return 0;
}
