#pragma once
// Traffic model of the DPI benchmark capture (`gen_capture --mix dpi`): many short
// connections whose payloads are what deep inspection reads, so that the cost of
// inspection shows against the rest of `netscope analyze`:
//
//   - TLS on 443: handshake, a realistic browser ClientHello (GREASE, 15+ extensions,
//     SNI, ALPN, an X25519 key share; a third carry an X25519Kyber768 share and span two
//     segments), a TLS 1.3 ServerHello with ChangeCipherSpec and encrypted records, then
//     a few encrypted request/response exchanges and a FIN teardown;
//   - HTTP/1.1 on 80: keep-alive connections with a series of requests (Host,
//     User-Agent) and responses (status line, Content-Length, body);
//   - DNS over UDP on 53: query/response pairs (A, AAAA, CNAME chains, NXDOMAIN), either
//     one lookup per client port or a resolver-like flow carrying dozens of lookups;
//   - opaque TCP (a database-like binary protocol on 5432) that no recogniser accepts.
//
// Like synth_traffic.hpp, a flow is planned and generated from its id and the model
// alone, so the same options always give the same file. Frames are complete (no
// snaplen cut below the payload): inspection needs the bytes.

#include <cstdint>
#include <vector>

#include "synth_frame.hpp"

namespace netscope::bench {

enum class DpiFlowKind : std::uint8_t { tls, http, dns, dns_resolver, opaque };

struct DpiModelConfig {
  std::uint64_t seed = 1;
  double duration_s = 120;  // flow start times are spread over this span
};

struct DpiFlowPlan {
  std::uint64_t id = 0;
  DpiFlowKind kind = DpiFlowKind::tls;
  std::int64_t start_ns = 0;
  FlowAddress addr;
};

// One packet of a generated flow: its time, the complete Ethernet frame.
struct DpiPacket {
  std::int64_t ts_ns = 0;
  std::vector<std::uint8_t> frame;
};

DpiFlowPlan plan_dpi_flow(const DpiModelConfig& cfg, std::uint64_t id);

// Replaces `out` with the flow's packets in timestamp order.
void generate_dpi_flow(const DpiModelConfig& cfg, const DpiFlowPlan& plan,
                       std::vector<DpiPacket>& out);

}  // namespace netscope::bench
