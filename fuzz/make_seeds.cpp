// Writes fuzz seeds from real captures: for fuzz_decode one file per packet
// ([selector][0][frame]), for fuzz_pipeline one file per capture holding its first
// packets as records ([selector][len LE16][time step][frame]); for the DPI parsers' targets
// (fuzz_dpi_<parser>) the transport payloads each parser reads, told by port and content,
// and for fuzz_dpi_inspector the first packets of a capture's first flows as Inspector
// records (dpi_fuzz.hpp).
// Usage: make_seeds OUT_DIR CAPTURE...

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "capture/file_reader.hpp"
#include "decode/decode.hpp"
#include "dpi_fuzz.hpp"
#include "fuzz_linktypes.hpp"

namespace fs = std::filesystem;

namespace {

namespace decode = netscope::decode;

constexpr std::size_t kDpiPerCapture = 16;  // payload seeds per parser and capture
constexpr std::size_t kInspectorFlows = 4;  // flows per capture written as record seeds
constexpr std::size_t kInspectorPackets = 24;

bool starts_with(std::span<const std::uint8_t> p, std::string_view prefix) {
  return p.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), p.begin());
}

bool any_port(const decode::PacketView& v, std::initializer_list<std::uint16_t> ports) {
  return std::any_of(ports.begin(), ports.end(),
                     [&](std::uint16_t p) { return v.sport == p || v.dport == p; });
}

// The DPI target whose parser reads this payload ("dpi_tls", ...), or empty.
std::string_view dpi_target(const decode::PacketView& v) {
  const auto p = v.payload;
  if (v.ip_proto == decode::ip_proto::tcp) {
    if (p.size() >= 6 && p[0] == 0x16 && p[1] == 0x03) return "dpi_tls";
    if (starts_with(p, "SSH-") || any_port(v, {22})) return "dpi_ssh";
    if (any_port(v, {53})) return "dpi_dns";
    for (const std::string_view m : {"GET ", "POST ", "HEAD ", "PUT ", "HTTP/1."}) {
      if (starts_with(p, m)) return "dpi_http";
    }
    return {};
  }
  if (v.ip_proto != decode::ip_proto::udp) return {};
  if (any_port(v, {53, 5353, 5355})) return "dpi_dns";
  if (any_port(v, {123, 67, 68, 1900, 3478})) return "dpi_others";
  if (p.size() >= 7 && (p[0] & 0x80) != 0) {
    const std::uint32_t version = (std::uint32_t{p[1]} << 24) | (std::uint32_t{p[2]} << 16) |
                                  (std::uint32_t{p[3]} << 8) | p[4];
    if (version == 1 || version == 0x6b3343cf) return "dpi_quic";
  }
  return {};
}

// One flow's packets as an Inspector seed: the transport/port byte, then records.
struct InspectorSeed {
  netscope::core::IpAddress client;
  std::uint16_t client_port = 0;
  std::string bytes;
  std::size_t packets = 0;
};

using FlowId = std::tuple<netscope::core::IpAddress, std::uint16_t, netscope::core::IpAddress,
                          std::uint16_t, std::uint8_t>;

FlowId flow_id(const decode::PacketView& v) {
  const auto a = std::make_tuple(v.src, v.sport);
  const auto b = std::make_tuple(v.dst, v.dport);
  return a < b ? FlowId{v.src, v.sport, v.dst, v.dport, v.ip_proto}
               : FlowId{v.dst, v.dport, v.src, v.sport, v.ip_proto};
}

void add_to_inspector_seed(std::map<FlowId, InspectorSeed>& flows, const decode::PacketView& v) {
  const bool tcp = v.ip_proto == decode::ip_proto::tcp;
  if (!tcp && v.ip_proto != decode::ip_proto::udp) return;
  const FlowId id = flow_id(v);
  auto it = flows.find(id);
  if (it == flows.end()) {
    if (flows.size() >= kInspectorFlows) return;
    InspectorSeed s;
    s.client = v.src;
    s.client_port = v.sport;
    const auto& ports = netscope::fuzz::kInspectorPorts;
    const auto at = std::find(ports.begin(), ports.end(), v.dport);
    const auto index =
        static_cast<unsigned>(at == ports.end() ? ports.size() - 1 : at - ports.begin());
    s.bytes.push_back(static_cast<char>((tcp ? 1u : 0u) | (index << 1)));
    it = flows.emplace(id, std::move(s)).first;
  }
  InspectorSeed& s = it->second;
  if (s.packets >= kInspectorPackets) return;
  ++s.packets;
  const bool from_client = v.src == s.client && v.sport == s.client_port;
  std::uint8_t flags = from_client ? 0 : 1;
  if (tcp && (v.tcp_flags & decode::tcp_flag::syn) != 0) flags |= 2;
  const std::string payload(reinterpret_cast<const char*>(v.payload.data()), v.payload.size());
  s.bytes += netscope::fuzz::record(flags, payload);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: make_seeds OUT_DIR CAPTURE...\n";
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "decode");
  fs::create_directories(out / "pipeline");
  for (const char* dir :
       {"dpi_tls", "dpi_quic", "dpi_dns", "dpi_http", "dpi_ssh", "dpi_others", "dpi_inspector"}) {
    fs::create_directories(out / dir);
  }
  constexpr std::size_t kDpiPackets = 2000;  // packets of a capture looked at for DPI seeds
  constexpr std::size_t kPerCapture = 200;   // keeps seeds small and runs fast
  std::size_t decode_seeds = 0;
  std::size_t pipeline_seeds = 0;
  std::size_t dpi_seeds = 0;
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
    std::size_t read = 0;
    std::map<std::string_view, std::size_t> dpi_counts;
    std::map<FlowId, InspectorSeed> flows;
    const std::string base = fs::path(argv[i]).filename().string();
    while (read < kDpiPackets && reader.next(pkt)) {
      ++read;
      const int sel = netscope::fuzz::linktype_selector(pkt.linktype);
      if (sel < 0 || pkt.data.size() > 0xffff) continue;
      decode::PacketView view;
      decode::AnomalyCounters anomalies;
      if (decode::decode_packet(pkt.linktype, pkt.data, pkt.orig_len, view, anomalies) &&
          view.has_transport()) {
        add_to_inspector_seed(flows, view);
        const std::string_view target = view.payload.empty() ? "" : dpi_target(view);
        if (!target.empty() && dpi_counts[target]++ < kDpiPerCapture) {
          std::ofstream f(out / std::string(target) / (base + "." + std::to_string(read)),
                          std::ios::binary);
          f.write(reinterpret_cast<const char*>(view.payload.data()),
                  static_cast<std::streamsize>(view.payload.size()));
          ++dpi_seeds;
        }
      }
      if (n >= kPerCapture) continue;
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
    std::size_t k = 0;
    for (const auto& [id, seed] : flows) {
      std::ofstream f(out / "dpi_inspector" / (base + ".flow" + std::to_string(++k)),
                      std::ios::binary);
      f.write(seed.bytes.data(), static_cast<std::streamsize>(seed.bytes.size()));
      ++dpi_seeds;
    }
    if (!pipeline.empty()) {
      std::ofstream p(out / "pipeline" / fs::path(argv[i]).filename(), std::ios::binary);
      p.write(pipeline.data(), static_cast<std::streamsize>(pipeline.size()));
      ++pipeline_seeds;
    }
  }
  std::cout << "make_seeds: " << decode_seeds << " decode seeds, " << pipeline_seeds
            << " pipeline seeds, " << dpi_seeds << " DPI seeds\n";
  return 0;
}
