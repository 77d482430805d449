#pragma once
// Severity scoring of a conversation. The weights are deliberately conservative: a clean
// transfer scores 0 (NONE), and every point comes with a plain-language reason. The table
// of weights is documented in README.md ("Severity scores") and tested.
//
//   signal (per direction)                 points
//   retransmitted data segments, p %       5 per %, at least 1, at most 60
//   out-of-order segments, p %             2 per %, at least 1, at most 20
//   duplicate-ACK runs (>= 3 in a row)     5 per run, at most 25
//   zero-window advertisements, n          10 + 2 per packet, at most 40
//   SYN never answered                     100
//   connection refused (SYN -> RST)        100
//   ICMP destination unreachable           50
//   ICMP time exceeded                     20
//   ICMP packet too big / frag. needed     10
//   handshake RTT >= 200 ms / >= 500 ms    10 / 20
//
// Resets are counted (rsts) but not scored: many clients and servers (iperf3, browsers)
// end healthy connections with a RST, so a reset alone is no evidence of a problem.
//
// Levels (ARCHITECTURE.md): NONE 0, LOW 1-49, MEDIUM 50-99, HIGH >= 100.

#include "analyze/conversation.hpp"

namespace netscope::analyze {

// Sets c.score and c.reasons.
void score_conversation(Conversation& c);

}  // namespace netscope::analyze
