#pragma once
// Traffic model of the synthetic benchmark capture. A flow is planned from its id alone
// (kind, start time, addresses), and its packets are generated from the id and the model
// configuration alone, so a flow can be generated twice (once to count, once to write)
// with the same result, and the same configuration always gives the same file.
//
// TCP flows follow Linux behaviour closely enough for a passive analyser: handshake with
// options, request/response exchanges paced by a congestion window (slow start, halved
// on loss), a receiver that ACKs every second segment and sends an immediate duplicate
// ACK for each out-of-order segment, fast retransmission after three duplicate ACKs or an
// RTO retransmission otherwise, losses both before the capture point (a gap) and after
// it (the original and its retransmission), reordering, FIN or RST teardown, refused
// connections and unanswered SYNs. The capture point sits in the middle of the path: a
// reply to a packet seen at t is seen at t + RTT/2.

#include <cstdint>
#include <vector>

#include "synth_frame.hpp"

namespace netscope::bench {

enum class FlowKind : std::uint8_t {
  web,          // HTTP(S): a few request/response exchanges, then FIN or RST
  bulk,         // one large download
  interactive,  // SSH-like: many small exchanges with think times
  idle,         // long-lived database/keep-alive connection, often left open
  refused,      // SYN answered by RST
  syn_timeout,  // SYN retransmitted, never answered
  dns,          // UDP query/response
  udp_stream,   // QUIC-like UDP stream
};

struct ModelConfig {
  std::uint64_t seed = 1;
  double duration_s = 200;  // flow start times are spread over this span
  double think_s = 3.0;     // mean think time between the exchanges of a web flow
  double size_scale = 1.0;  // multiplies response sizes, bulk sizes and stream lengths
  double loss = 0.004;      // per data segment
  double reorder = 0.001;   // per data segment
};

struct FlowPlan {
  std::uint64_t id = 0;
  FlowKind kind = FlowKind::web;
  std::int64_t start_ns = 0;
  FlowAddress addr;
};

// The flow with this id; `force_bulk` makes it a bulk download (used to top up the
// packet count).
FlowPlan plan_flow(const ModelConfig& cfg, std::uint64_t id, bool force_bulk = false);

// Appends the flow's packets to `out` in timestamp order (after clearing it) and sets
// `tcp` to the values its frames need.
void generate_flow(const ModelConfig& cfg, const FlowPlan& plan, std::vector<Segment>& out,
                   TcpParams& tcp);

}  // namespace netscope::bench
