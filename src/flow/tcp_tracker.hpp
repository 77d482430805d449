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

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "core/ip_address.hpp"
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
// This is the reporting type (64-bit, so sums over a whole capture do not overflow); the
// tracker stores the same counters in 32 bits and widens them in health().
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
  // Payload bytes of the retransmitted segments: payload_bytes minus this is what the
  // sender's application handed over (a sender such as iperf3 counts it once).
  std::uint64_t retransmitted_bytes = 0;
};

class TcpTracker {
 public:
  TcpTracker() = default;
  TcpTracker(const TcpTracker& other);
  TcpTracker& operator=(const TcpTracker& other);
  TcpTracker(TcpTracker&&) noexcept = default;
  TcpTracker& operator=(TcpTracker&&) noexcept = default;
  ~TcpTracker() = default;

  // Feeds one TCP segment (pkt.is_tcp() is true) travelling in direction `dir`.
  // Returns the tcp_analysis bits flagged on it and updates the counters of `dir`.
  std::uint32_t on_segment(int dir, const decode::PacketView& pkt);

  TcpState state() const { return state_; }
  // Counters of the segments `dir` sent (by value: widened from the stored 32 bits).
  TcpHealth health(int dir) const;

  bool syn_seen() const;        // client SYN observed
  bool syn_ack_seen() const;    // server SYN+ACK observed
  bool handshake_done() const;  // the client's ACK of the SYN+ACK observed
  // Sequence number of the client's SYN, when one was seen. A SYN with another ISN on a
  // finished connection's 5-tuple is a new connection (port reuse).
  std::optional<std::uint32_t> client_isn() const {
    if (!half_[0].syn) return std::nullopt;
    return half_[0].isn;
  }
  // Direction that sent the first RST, or -1.
  int reset_by() const;
  // SYN answered by RST (connection refused).
  bool refused() const;

  // SYN -> SYN+ACK -> ACK as seen at the capture point, in ms; nullopt if incomplete.
  // This is tshark's tcp.analysis.initial_rtt. The SYN is the last one sent before the
  // SYN+ACK, so a retransmitted SYN does not inflate it by the SYN timeout.
  std::optional<double> handshake_rtt_ms() const;
  // The two halves of it: SYN -> SYN+ACK (the path to the server and back, as seen from
  // the capture point) and SYN+ACK -> ACK (the path to the client and back).
  std::optional<double> syn_to_syn_ack_ms() const;
  std::optional<double> syn_ack_to_ack_ms() const;
  // Window-scale shift in use for `dir`'s advertised windows: the value from its SYN when
  // both SYNs carried the option (RFC 7323 §2.2), otherwise -1 (SYNs not seen, windows
  // are taken raw, as tshark does) or -2 (SYNs seen, scaling not in use).
  int window_scale(int dir) const;
  // Last window `dir` advertised, in bytes, scaled when scaling is in use; nullopt
  // before it sent anything.
  std::optional<std::uint64_t> window_bytes(int dir) const;
  // Data RTT samples: time from a segment to the ACK covering it, per sending direction
  // combined into one sketch (the conversation's RTT as the capture point sees it).
  const RttSketch& rtt() const { return rtt_; }

  // The flow's tunnel endpoints (decode::PacketView::tunnel_src/dst), kept in the same
  // side block as the health counters so that an untunnelled flow pays nothing for them
  // (Flow::tunnel_src() reads them here, for every protocol). Unspecified when unset.
  void set_tunnel_endpoints(const core::IpAddress& src, const core::IpAddress& dst);
  core::IpAddress tunnel_src() const { return side_ ? side_->tunnel_src : core::IpAddress{}; }
  core::IpAddress tunnel_dst() const { return side_ ? side_->tunnel_dst : core::IpAddress{}; }
  // Bytes this tracker holds on the heap: the side block (once a segment was flagged with
  // something the health counters count, or tunnel endpoints were set) and the RTT
  // histogram (past RttSketch::kExact samples).
  std::size_t heap_bytes() const { return (side_ ? sizeof(Side) : 0) + rtt_.heap_bytes(); }

 private:
  // Memory layout (one tracker lives in every Flow, TCP or not, so it is most of the
  // flow table's bytes per flow): 208 bytes. Times are the low 32 bits of the packet
  // time in µs (wrapping every ~71.6 min; only differences of recent events are taken,
  // see elapsed_us()). The health counters, which stay zero on most connections, and the
  // flow's tunnel endpoints live in a side block allocated on first use. The segments
  // awaiting an ACK for RTT samples of both directions share one list.

  // One side of the conversation, named after the sender of the segments it describes
  // (tshark's "forward" flow when that side sends, "reverse" when it receives). Sequence
  // values are absolute and compared modulo 2^32 (RFC 9293 §3.4, RFC 1982). 36 bytes.
  struct Half {
    std::uint32_t isn = 0;          // SYN's sequence number (or first seq - 1 mid-stream)
    std::uint32_t next_seq = 0;     // next expected sequence number
    std::uint32_t max_seq = 0;      // highest seq + len sent ("next expected ACK")
    std::uint32_t last_ack = 0;     // last ACK number this side sent
    std::uint32_t fin_seq = 0;      // sequence number of this side's FIN
    std::uint32_t last_ack_us = 0;  // when last_ack was last set
    std::uint32_t next_seq_us = 0;  // when next_seq last advanced
    std::uint16_t window = 0;       // last raw (unscaled) window this side advertised
    // Duplicate ACKs in the current run (tshark's #n). Saturates at 65535: only "== 3"
    // (a run's event) and ">= 2" (fast retransmission) are ever asked of it.
    std::uint16_t dup_acks = 0;
    std::int8_t wscale = -1;  // shift from its SYN; -1 unknown, -2 not in use
    bool seen : 1 = false;    // any segment from this side
    bool next_seq_known : 1 = false;
    bool last_ack_known : 1 = false;
    bool window_known : 1 = false;
    bool window_in_syn : 1 = false;    // last window came in a SYN (never scaled, RFC 7323 §2.2)
    bool syn : 1 = false;              // sent a SYN
    bool fin : 1 = false;              // sent a FIN
    bool fin_acked : 1 = false;        // its FIN has been acknowledged by the peer
    bool last_keep_alive : 1 = false;  // its last segment was a keep-alive
    bool last_zero_window_probe : 1 = false;
    bool rst : 1 = false;  // sent a RST
  };

  // TcpHealth as stored: 32 bits per counter halve its size, and one direction of one
  // connection does not see 4 billion retransmissions or dup ACKs; should it, the
  // counter sticks at the maximum instead of wrapping to a small, wrong number.
  struct HealthCounters {
    std::uint32_t retransmissions = 0;
    std::uint32_t fast_retransmissions = 0;
    std::uint32_t spurious_retransmissions = 0;
    std::uint32_t out_of_order = 0;
    std::uint32_t dup_acks = 0;
    std::uint32_t dup_ack_events = 0;
    std::uint32_t zero_windows = 0;
    std::uint32_t window_full = 0;
    std::uint32_t lost_segments = 0;
    std::uint32_t keep_alives = 0;
    std::uint32_t rsts = 0;
    std::uint64_t retransmitted_bytes = 0;  // bytes do add up past 4 GiB on one flow
  };
  // Allocated on the first segment with a counted flag, or for tunnel endpoints.
  struct Side {
    HealthCounters health[2];
    core::IpAddress tunnel_src;
    core::IpAddress tunnel_dst;
  };

  // A segment awaiting its ACK, for RTT samples (RFC 6298 §3: Karn's rule). Both
  // directions share kOutstanding entries, oldest first; when full the oldest entry is
  // dropped, so a window of more than kOutstanding segments yields samples for its
  // newest ones only.
  static constexpr std::size_t kOutstanding = 8;
  struct Sent {
    std::uint32_t end_seq;  // seq + len (+1 for SYN/FIN): the ACK that covers it
    std::uint32_t sent_us;  // low 32 bits of the send time in µs (RTT < 71 min)
  };

  std::uint32_t analyze(Half& fwd, Half& rev, const decode::PacketView& pkt, std::uint32_t seglen,
                        std::uint32_t now_us);
  void update_sequence(Half& fwd, const decode::PacketView& pkt, std::uint32_t seglen,
                       std::uint32_t flags, std::uint32_t now_us);
  void update_state(int dir, const decode::PacketView& pkt, std::uint32_t now_us);
  void track_rtt(int dir, const decode::PacketView& pkt, std::uint32_t seglen, std::uint32_t flags,
                 std::uint32_t now_us);
  void start_over();
  std::int64_t ooo_threshold_us() const;
  std::uint64_t scaled_window(const Half& h) const;
  Side& side();
  bool sent_dir(std::size_t i) const { return ((sent_dir_ >> i) & 1u) != 0; }
  void erase_sent(std::size_t i);

  RttSketch rtt_;
  std::unique_ptr<Side> side_;
  std::array<Sent, kOutstanding> sent_{};  // [0, sent_count_), oldest first
  Half half_[2];
  std::uint32_t syn_us_ = 0;      // last client SYN before the SYN+ACK (if has_syn_)
  std::uint32_t syn_ack_us_ = 0;  // first server SYN+ACK (if has_syn_ack_)
  std::uint32_t ack_us_ = 0;      // client ACK completing the handshake (if has_ack_)
  std::uint8_t sent_count_ = 0;
  std::uint8_t sent_dir_ = 0;  // bit i: direction that sent sent_[i]
  TcpState state_ = TcpState::none;
  std::uint8_t reset_by_ : 2 = 0;   // 1 + direction that sent the first RST; 0 none
  std::uint8_t first_fin_ : 2 = 0;  // 1 + direction that sent the first FIN; 0 none
  bool refused_ : 1 = false;
  bool has_syn_ : 1 = false;
  bool has_syn_ack_ : 1 = false;
  bool has_ack_ : 1 = false;
};

}  // namespace netscope::flow
