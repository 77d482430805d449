#pragma once
// TcpTracker: per-connection TCP analysis as seen by a passive observer. It follows the
// connection state (SYN_SENT ... TIME_WAIT, CLOSED, with RST), and classifies every
// segment the way Wireshark's "TCP Analysis" does (retransmission, fast and spurious
// retransmission, out-of-order, duplicate ACK, zero window, window full, previous segment
// lost, keep-alive, window update), so tshark can check our counts on the same file. It
// also measures the handshake RTT and data RTT samples from ACKs (Karn's rule: no sample
// from a retransmitted segment). Sequence numbers are compared modulo 2^32 and windows
// are scaled once both SYNs carried the window-scale option.
//
// Directions are 0 = client -> server and 1 = server -> client; the caller decides who
// the client is (the sender of the SYN).

#include <cstdint>
#include <string_view>

#include "core/timestamp.hpp"
#include "decode/packet_view.hpp"
#include "flow/rtt_sketch.hpp"

namespace netscope::flow {

enum class TcpState : std::uint8_t {
  none,
  syn_sent,
  syn_recv,
  established,
  fin_wait1,
  fin_wait2,
  close_wait,
  last_ack,
  closing,
  time_wait,
  closed,
};
std::string_view tcp_state_name(TcpState s);  // "SYN_SENT", "ESTABLISHED", ...

// What the analysis flagged on one segment (bit set).
namespace tcp_analysis {
inline constexpr std::uint32_t retransmission = 1u << 0;  // set for fast/spurious too
inline constexpr std::uint32_t fast_retransmission = 1u << 1;
inline constexpr std::uint32_t spurious_retransmission = 1u << 2;
inline constexpr std::uint32_t out_of_order = 1u << 3;
inline constexpr std::uint32_t dup_ack = 1u << 4;
inline constexpr std::uint32_t zero_window = 1u << 5;
inline constexpr std::uint32_t window_full = 1u << 6;
inline constexpr std::uint32_t lost_segment = 1u << 7;  // "previous segment not captured"
inline constexpr std::uint32_t keep_alive = 1u << 8;
inline constexpr std::uint32_t window_update = 1u << 9;
inline constexpr std::uint32_t zero_window_probe = 1u << 10;
inline constexpr std::uint32_t ack_unseen = 1u << 11;  // "ACKed unseen segment"
inline constexpr std::uint32_t rst = 1u << 12;
inline constexpr std::uint32_t dup_ack_event = 1u << 13;  // this dup ACK is the 3rd of a run
}  // namespace tcp_analysis

// Per-direction health counters; names and meaning as in ARCHITECTURE.md Conventions.
struct TcpHealth {
  std::uint64_t retransmissions = 0;
  std::uint64_t fast_retransmissions = 0;
  std::uint64_t spurious_retransmissions = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t dup_acks = 0;
  std::uint64_t dup_ack_events = 0;
  std::uint64_t zero_windows = 0;
  std::uint64_t window_full = 0;
  std::uint64_t lost_segments = 0;
  std::uint64_t keep_alives = 0;
  std::uint64_t rsts = 0;
};

class TcpTracker {
 public:
  // Feeds one TCP segment (pkt.is_tcp() is true) travelling in direction `dir`.
  // Returns the tcp_analysis bits flagged on it and updates the counters of `dir`.
  std::uint32_t on_segment(int dir, const decode::PacketView& pkt);

  TcpState state() const { return state_; }
  const TcpHealth& health(int dir) const { return health_[dir]; }

  bool syn_seen() const;        // client SYN observed
  bool syn_ack_seen() const;    // server SYN+ACK observed
  bool handshake_done() const;  // the client's ACK of the SYN+ACK observed
  // Direction that sent the first RST, or -1.
  int reset_by() const;
  // SYN answered by RST (connection refused).
  bool refused() const;

  // SYN -> SYN+ACK -> ACK as seen at the capture point, in ms; nullopt if incomplete.
  std::optional<double> handshake_rtt_ms() const;
  // Data RTT samples: time from a segment to the ACK covering it, per sending direction
  // combined into one sketch (the conversation's RTT as the capture point sees it).
  const RttSketch& rtt() const { return rtt_; }

 private:
  // State owned by flow/tcp_tracker.cpp. Keep the object small (it lives inline in every
  // TCP flow) and free of heap allocations.
  struct Direction;  // defined in the .cpp is not possible for an inline member; see below
  TcpState state_ = TcpState::none;
  TcpHealth health_[2];
  RttSketch rtt_;
};

}  // namespace netscope::flow
