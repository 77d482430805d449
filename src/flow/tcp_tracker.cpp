// TcpTracker: entry point, connection state and RTT. The per-segment classification
// lives in tcp_analysis.cpp.

#include "flow/tcp_tracker.hpp"

#include <algorithm>
#include <limits>

#include "flow/tcp_seq.hpp"

namespace netscope::flow {

namespace {

namespace flag = decode::tcp_flag;
namespace ta = tcp_analysis;

// RFC 7323 §2.3: a shift above 14 is treated as 14.
constexpr int kMaxWindowShift = 14;

// Counts one more when `hit`, sticking at the type's maximum instead of wrapping.
template <typename T>
void saturating_inc(T& counter, bool hit) {
  counter = static_cast<T>(counter + (hit && counter != std::numeric_limits<T>::max() ? 1 : 0));
}

std::uint32_t micros32(std::int64_t ns) {
  // Only differences are used, so the low 32 bits suffice for RTTs under ~71 minutes.
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ns / 1000));
}

}  // namespace

std::string_view tcp_state_name(TcpState s) {
  switch (s) {
    case TcpState::none:
      return "NONE";
    case TcpState::syn_sent:
      return "SYN_SENT";
    case TcpState::syn_recv:
      return "SYN_RECV";
    case TcpState::established:
      return "ESTABLISHED";
    case TcpState::fin_wait1:
      return "FIN_WAIT1";
    case TcpState::fin_wait2:
      return "FIN_WAIT2";
    case TcpState::close_wait:
      return "CLOSE_WAIT";
    case TcpState::last_ack:
      return "LAST_ACK";
    case TcpState::closing:
      return "CLOSING";
    case TcpState::time_wait:
      return "TIME_WAIT";
    case TcpState::closed:
      return "CLOSED";
  }
  return "UNKNOWN";
}

std::uint32_t TcpTracker::on_segment(int dir, const decode::PacketView& pkt) {
  dir = dir != 0 ? 1 : 0;
  Half& fwd = half_[dir];
  Half& rev = half_[1 - dir];
  const std::uint8_t f = pkt.tcp_flags;
  const bool syn = (f & flag::syn) != 0;
  const bool ack = (f & flag::ack) != 0;
  const std::int64_t now_ns = pkt.ts.ns;
  const std::uint32_t seglen = pkt.payload_len;

  // A new SYN with another initial sequence number is a new connection on the same
  // ports (tshark: "TCP Port numbers reused", and a new stream). Start the analysis
  // over; the health counters and RTT samples of the flow are kept.
  if (syn && !ack && fwd.syn && pkt.seq != fwd.isn) start_over();

  if (!fwd.seen) {
    fwd.seen = true;
    // Mid-stream pickup: tshark 4.0 numbers the first segment relative 1, as if a SYN
    // had preceded it (chrissanders/tcp_zerowindowdead.pcapng frame 1).
    if (!syn) fwd.isn = pkt.seq - 1;
  }
  if (syn && !fwd.syn) {
    fwd.syn = true;
    fwd.isn = pkt.seq;
    fwd.wscale = pkt.tcp_opts.has_wscale
                     ? static_cast<std::int8_t>(std::min<int>(pkt.tcp_opts.wscale, kMaxWindowShift))
                     : std::int8_t{-2};
  }

  std::uint32_t flags = analyze(fwd, rev, pkt, seglen, now_ns);
  track_rtt(fwd, rev, pkt, seglen, flags, now_ns);
  update_sequence(fwd, pkt, seglen, flags, now_ns);
  // dup_ack_events: one per run of three or more duplicate ACKs, counted at the third.
  if ((flags & ta::dup_ack) != 0 && fwd.dup_acks == 3) flags |= ta::dup_ack_event;
  update_state(dir, pkt);

  HealthCounters& h = health_[dir];
  saturating_inc(h.retransmissions, (flags & ta::retransmission) != 0);
  saturating_inc(h.fast_retransmissions, (flags & ta::fast_retransmission) != 0);
  saturating_inc(h.spurious_retransmissions, (flags & ta::spurious_retransmission) != 0);
  saturating_inc(h.out_of_order, (flags & ta::out_of_order) != 0);
  saturating_inc(h.dup_acks, (flags & ta::dup_ack) != 0);
  saturating_inc(h.dup_ack_events, (flags & ta::dup_ack_event) != 0);
  saturating_inc(h.zero_windows, (flags & ta::zero_window) != 0);
  saturating_inc(h.window_full, (flags & ta::window_full) != 0);
  saturating_inc(h.lost_segments, (flags & ta::lost_segment) != 0);
  saturating_inc(h.keep_alives, (flags & ta::keep_alive) != 0);
  saturating_inc(h.rsts, (flags & ta::rst) != 0);
  if ((flags & ta::retransmission) != 0) h.retransmitted_bytes += pkt.payload_len;
  return flags;
}

void TcpTracker::start_over() {
  half_[0] = Half{};
  half_[1] = Half{};
  syn_ns_ = syn_ack_ns_ = ack_ns_ = -1;
  state_ = TcpState::none;
  reset_by_ = -1;
  first_fin_ = -1;
  refused_ = false;
}

void TcpTracker::update_state(int dir, const decode::PacketView& pkt) {
  Half& fwd = half_[dir];
  Half& rev = half_[1 - dir];
  const std::uint8_t f = pkt.tcp_flags;
  const bool syn = (f & flag::syn) != 0;
  const bool ack = (f & flag::ack) != 0;
  const bool fin = (f & flag::fin) != 0;
  const std::int64_t now_ns = pkt.ts.ns;

  // Handshake timing (tshark's iRTT: first SYN to the ACK of the SYN+ACK).
  if (syn && !ack && dir == 0 && syn_ack_ns_ < 0) syn_ns_ = now_ns;
  if (syn && ack && dir == 1 && syn_ack_ns_ < 0) {
    syn_ack_ns_ = now_ns;
    refused_ = false;  // answered after all (a SYN retried after a RST)
  }
  if (!syn && ack && dir == 0 && syn_ns_ >= 0 && syn_ack_ns_ >= 0 && ack_ns_ < 0 &&
      pkt.ack == half_[1].isn + 1) {
    ack_ns_ = now_ns;
  }

  if ((f & flag::rst) != 0) {
    fwd.rst = true;
    if (reset_by_ < 0) reset_by_ = static_cast<std::int8_t>(dir);
    // RFC 9293 §3.10.7.3: a RST answering a SYN in SYN-SENT means "connection refused".
    if (dir == 1 && state_ == TcpState::syn_sent) refused_ = true;
    state_ = TcpState::closed;
    return;
  }

  if (ack && rev.fin && !rev.fin_acked && seq_gt(pkt.ack, rev.fin_seq)) rev.fin_acked = true;
  if (fin && !fwd.fin) {
    fwd.fin = true;
    fwd.fin_seq = pkt.seq + pkt.payload_len + (syn ? 1u : 0u);
    if (first_fin_ < 0) first_fin_ = static_cast<std::int8_t>(dir);
  }

  switch (state_) {
    case TcpState::none:
      if (syn) {
        state_ = ack ? TcpState::syn_recv : TcpState::syn_sent;
        return;
      }
      state_ = TcpState::established;  // mid-stream pickup
      break;
    case TcpState::syn_sent:
      if (syn && ack && dir == 1) state_ = TcpState::syn_recv;
      return;
    case TcpState::syn_recv:
      if (dir == 0 && ack && !syn) {
        state_ = TcpState::established;
        break;
      }
      return;
    case TcpState::closed:
      // A client retrying its SYN after a RST (chrissanders/nowebaccess2.pcapng).
      if (syn && !ack && dir == 0) state_ = TcpState::syn_sent;
      return;
    default:
      break;
  }

  // Closing, named as the client's socket would be (RFC 9293 §3.3.2 state diagram):
  // the client closing first goes FIN_WAIT1 -> FIN_WAIT2 (its FIN acked) -> TIME_WAIT
  // (server FIN seen), or through CLOSING on a simultaneous close; the server closing
  // first puts the client in CLOSE_WAIT -> LAST_ACK -> CLOSED.
  const Half& c = half_[0];
  const Half& s = half_[1];
  if (!c.fin && !s.fin) return;
  if (c.fin && !s.fin) {
    state_ = c.fin_acked ? TcpState::fin_wait2 : TcpState::fin_wait1;
  } else if (!c.fin && s.fin) {
    state_ = TcpState::close_wait;
  } else if (first_fin_ == 0) {
    state_ = c.fin_acked ? TcpState::time_wait : TcpState::closing;
  } else {
    state_ = c.fin_acked ? TcpState::closed : TcpState::last_ack;
  }
}

void TcpTracker::track_rtt(Half& fwd, Half& rev, const decode::PacketView& pkt,
                           std::uint32_t seglen, std::uint32_t flags, std::int64_t now_ns) {
  const std::uint8_t f = pkt.tcp_flags;
  const std::uint32_t now_us = micros32(now_ns);

  // This segment's ACK retires the peer's outstanding segments it covers. The one it
  // covers exactly is the one that triggered it: that gap is an RTT sample.
  if ((f & flag::ack) != 0) {
    while (rev.sent_count > 0) {
      const Half::Sent& oldest = rev.sent[rev.sent_head];
      if (!seq_le(oldest.end_seq, pkt.ack)) break;
      // A negative gap (the ACK stamped before the data: merged captures, a clock step)
      // is no RTT; the unsigned difference would read as ~71 minutes.
      if (oldest.end_seq == pkt.ack && static_cast<std::int32_t>(now_us - oldest.sent_us) >= 0) {
        rtt_.add(now_us - oldest.sent_us);
      }
      rev.sent_head = static_cast<std::uint8_t>((rev.sent_head + 1) % Half::kOutstanding);
      --rev.sent_count;
    }
  }

  const bool syn = (f & flag::syn) != 0;
  const bool fin = (f & flag::fin) != 0;
  if (seglen == 0 && !syn && !fin) return;
  const std::uint32_t end = pkt.seq + seglen + (syn ? 1u : 0u) + (fin ? 1u : 0u);
  constexpr std::uint32_t kAmbiguous =
      ta::retransmission | ta::out_of_order | ta::keep_alive | ta::zero_window_probe;
  if ((flags & kAmbiguous) != 0) {
    // Karn's rule (RFC 6298 §3): once sequence space was sent twice, an ACK for it cannot
    // tell which copy it answers. Forget every outstanding segment at or after the resent
    // one (entries are in sequence order, so that is a tail of the ring).
    while (fwd.sent_count > 0) {
      const auto last = (fwd.sent_head + fwd.sent_count - 1) % Half::kOutstanding;
      if (!seq_gt(fwd.sent[last].end_seq, pkt.seq)) break;
      --fwd.sent_count;
    }
    return;
  }
  if (fwd.sent_count == Half::kOutstanding) {
    // Full: drop the oldest; its ACK simply yields no sample.
    fwd.sent_head = static_cast<std::uint8_t>((fwd.sent_head + 1) % Half::kOutstanding);
    --fwd.sent_count;
  }
  fwd.sent[(fwd.sent_head + fwd.sent_count) % Half::kOutstanding] = {end, now_us};
  ++fwd.sent_count;
}

TcpHealth TcpTracker::health(int dir) const {
  const HealthCounters& h = health_[dir != 0 ? 1 : 0];
  TcpHealth out;
  out.retransmissions = h.retransmissions;
  out.fast_retransmissions = h.fast_retransmissions;
  out.spurious_retransmissions = h.spurious_retransmissions;
  out.out_of_order = h.out_of_order;
  out.dup_acks = h.dup_acks;
  out.dup_ack_events = h.dup_ack_events;
  out.zero_windows = h.zero_windows;
  out.window_full = h.window_full;
  out.lost_segments = h.lost_segments;
  out.keep_alives = h.keep_alives;
  out.rsts = h.rsts;
  out.retransmitted_bytes = h.retransmitted_bytes;
  return out;
}

bool TcpTracker::syn_seen() const {
  return half_[0].syn;
}
bool TcpTracker::syn_ack_seen() const {
  return syn_ack_ns_ >= 0;
}
bool TcpTracker::handshake_done() const {
  return ack_ns_ >= 0;
}
int TcpTracker::reset_by() const {
  return reset_by_;
}
bool TcpTracker::refused() const {
  return refused_;
}

std::optional<double> TcpTracker::handshake_rtt_ms() const {
  // Out-of-order timestamps (merged captures, clock steps) give no RTT, not a negative one.
  if (syn_ns_ < 0 || ack_ns_ < syn_ns_) return std::nullopt;
  return static_cast<double>(ack_ns_ - syn_ns_) / 1e6;
}

std::optional<double> TcpTracker::syn_to_syn_ack_ms() const {
  if (syn_ns_ < 0 || syn_ack_ns_ < syn_ns_) return std::nullopt;
  return static_cast<double>(syn_ack_ns_ - syn_ns_) / 1e6;
}

std::optional<double> TcpTracker::syn_ack_to_ack_ms() const {
  if (syn_ack_ns_ < 0 || ack_ns_ < syn_ack_ns_) return std::nullopt;
  return static_cast<double>(ack_ns_ - syn_ack_ns_) / 1e6;
}

int TcpTracker::window_scale(int dir) const {
  if (!half_[0].syn || !half_[1].syn) return -1;
  if (half_[0].wscale < 0 || half_[1].wscale < 0) return -2;
  return half_[dir != 0 ? 1 : 0].wscale;
}

std::uint64_t TcpTracker::scaled_window(const Half& h) const {
  const int shift = window_scale(&h == &half_[1] ? 1 : 0);
  if (shift <= 0 || h.window_in_syn) return h.window;
  return std::uint64_t{h.window} << shift;
}

std::optional<std::uint64_t> TcpTracker::window_bytes(int dir) const {
  const Half& h = half_[dir != 0 ? 1 : 0];
  if (!h.window_known) return std::nullopt;
  return scaled_window(h);
}

}  // namespace netscope::flow
