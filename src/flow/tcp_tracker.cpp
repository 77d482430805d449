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

// The flags the health counters count: a segment with none of them needs no side block.
constexpr std::uint32_t kCounted = ta::retransmission | ta::fast_retransmission |
                                   ta::spurious_retransmission | ta::out_of_order | ta::dup_ack |
                                   ta::dup_ack_event | ta::zero_window | ta::window_full |
                                   ta::lost_segment | ta::keep_alive | ta::rst;

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

TcpTracker::TcpTracker(const TcpTracker& other)
    : rtt_(other.rtt_),
      side_(other.side_ ? std::make_unique<Side>(*other.side_) : nullptr),
      sent_(other.sent_),
      half_{other.half_[0], other.half_[1]},
      syn_us_(other.syn_us_),
      syn_ack_us_(other.syn_ack_us_),
      ack_us_(other.ack_us_),
      sent_count_(other.sent_count_),
      sent_dir_(other.sent_dir_),
      state_(other.state_),
      reset_by_(other.reset_by_),
      first_fin_(other.first_fin_),
      refused_(other.refused_),
      has_syn_(other.has_syn_),
      has_syn_ack_(other.has_syn_ack_),
      has_ack_(other.has_ack_) {}

TcpTracker& TcpTracker::operator=(const TcpTracker& other) {
  if (this != &other) *this = TcpTracker(other);
  return *this;
}

TcpTracker::Side& TcpTracker::side() {
  if (!side_) side_ = std::make_unique<Side>();
  return *side_;
}

void TcpTracker::set_tunnel_endpoints(const core::IpAddress& src, const core::IpAddress& dst) {
  if (!side_ && src.is_unspecified() && dst.is_unspecified()) return;
  Side& s = side();
  s.tunnel_src = src;
  s.tunnel_dst = dst;
}

std::uint32_t TcpTracker::on_segment(int dir, const decode::PacketView& pkt) {
  dir = dir != 0 ? 1 : 0;
  Half& fwd = half_[dir];
  Half& rev = half_[1 - dir];
  const std::uint8_t f = pkt.tcp_flags;
  const bool syn = (f & flag::syn) != 0;
  const bool ack = (f & flag::ack) != 0;
  const std::uint32_t now_us = micros32(pkt.ts.ns);
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

  std::uint32_t flags = analyze(fwd, rev, pkt, seglen, now_us);
  track_rtt(dir, pkt, seglen, flags, now_us);
  update_sequence(fwd, pkt, seglen, flags, now_us);
  // dup_ack_events: one per run of three or more duplicate ACKs, counted at the third.
  if ((flags & ta::dup_ack) != 0 && fwd.dup_acks == 3) flags |= ta::dup_ack_event;
  update_state(dir, pkt, now_us);

  if ((flags & kCounted) == 0) return flags;
  HealthCounters& h = side().health[dir];
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
  sent_count_ = 0;
  sent_dir_ = 0;
  has_syn_ = has_syn_ack_ = has_ack_ = false;
  state_ = TcpState::none;
  reset_by_ = 0;
  first_fin_ = 0;
  refused_ = false;
}

void TcpTracker::update_state(int dir, const decode::PacketView& pkt, std::uint32_t now_us) {
  Half& fwd = half_[dir];
  Half& rev = half_[1 - dir];
  const std::uint8_t f = pkt.tcp_flags;
  const bool syn = (f & flag::syn) != 0;
  const bool ack = (f & flag::ack) != 0;
  const bool fin = (f & flag::fin) != 0;

  // Handshake timing (tshark's iRTT: first SYN to the ACK of the SYN+ACK).
  if (syn && !ack && dir == 0 && !has_syn_ack_) {
    syn_us_ = now_us;
    has_syn_ = true;
  }
  if (syn && ack && dir == 1 && !has_syn_ack_) {
    syn_ack_us_ = now_us;
    has_syn_ack_ = true;
    refused_ = false;  // answered after all (a SYN retried after a RST)
  }
  if (!syn && ack && dir == 0 && has_syn_ && has_syn_ack_ && !has_ack_ &&
      pkt.ack == half_[1].isn + 1) {
    ack_us_ = now_us;
    has_ack_ = true;
  }

  if ((f & flag::rst) != 0) {
    fwd.rst = true;
    if (reset_by_ == 0) reset_by_ = dir != 0 ? 2 : 1;
    // RFC 9293 §3.10.7.3: a RST answering a SYN in SYN-SENT means "connection refused".
    if (dir == 1 && state_ == TcpState::syn_sent) refused_ = true;
    state_ = TcpState::closed;
    return;
  }

  if (ack && rev.fin && !rev.fin_acked && seq_gt(pkt.ack, rev.fin_seq)) rev.fin_acked = true;
  if (fin && !fwd.fin) {
    fwd.fin = true;
    fwd.fin_seq = pkt.seq + pkt.payload_len + (syn ? 1u : 0u);
    if (first_fin_ == 0) first_fin_ = dir != 0 ? 2 : 1;
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
  } else if (first_fin_ == 1) {  // the client closed first
    state_ = c.fin_acked ? TcpState::time_wait : TcpState::closing;
  } else {
    state_ = c.fin_acked ? TcpState::closed : TcpState::last_ack;
  }
}

void TcpTracker::erase_sent(std::size_t i) {
  for (std::size_t j = i; j + 1 < sent_count_; ++j) sent_[j] = sent_[j + 1];
  const auto low = static_cast<unsigned>(sent_dir_) & ((1u << i) - 1u);
  const auto high = (static_cast<unsigned>(sent_dir_) >> (i + 1)) << i;
  sent_dir_ = static_cast<std::uint8_t>(low | high);
  --sent_count_;
}

void TcpTracker::track_rtt(int dir, const decode::PacketView& pkt, std::uint32_t seglen,
                           std::uint32_t flags, std::uint32_t now_us) {
  const std::uint8_t f = pkt.tcp_flags;
  const bool peer = dir == 0;  // sent_dir() of the peer's segments

  // This segment's ACK retires the peer's outstanding segments it covers, oldest first.
  // The one it covers exactly is the one that triggered it: that gap is an RTT sample.
  if ((f & flag::ack) != 0) {
    for (std::size_t i = 0; i < sent_count_;) {
      if (sent_dir(i) != peer) {
        ++i;
        continue;
      }
      const Sent oldest = sent_[i];
      if (!seq_le(oldest.end_seq, pkt.ack)) break;
      // A negative gap (the ACK stamped before the data: merged captures, a clock step)
      // is no RTT; the unsigned difference would read as ~71 minutes.
      if (oldest.end_seq == pkt.ack && static_cast<std::int32_t>(now_us - oldest.sent_us) >= 0) {
        rtt_.add(now_us - oldest.sent_us);
      }
      erase_sent(i);
    }
  }

  const bool syn = (f & flag::syn) != 0;
  const bool fin = (f & flag::fin) != 0;
  if (seglen == 0 && !syn && !fin) return;
  const std::uint32_t end = pkt.seq + seglen + (syn ? 1u : 0u) + (fin ? 1u : 0u);
  const bool mine = dir != 0;
  constexpr std::uint32_t kAmbiguous =
      ta::retransmission | ta::out_of_order | ta::keep_alive | ta::zero_window_probe;
  if ((flags & kAmbiguous) != 0) {
    // Karn's rule (RFC 6298 §3): once sequence space was sent twice, an ACK for it cannot
    // tell which copy it answers. Forget every outstanding segment at or after the resent
    // one (one direction's entries are in sequence order, so that is a tail of them).
    for (std::size_t i = sent_count_; i-- > 0;) {
      if (sent_dir(i) != mine) continue;
      if (!seq_gt(sent_[i].end_seq, pkt.seq)) break;
      erase_sent(i);
    }
    return;
  }
  // Full: drop the oldest; its ACK simply yields no sample.
  if (sent_count_ == kOutstanding) erase_sent(0);
  sent_[sent_count_] = {end, now_us};
  if (mine) sent_dir_ = static_cast<std::uint8_t>(sent_dir_ | (1u << sent_count_));
  ++sent_count_;
}

TcpHealth TcpTracker::health(int dir) const {
  TcpHealth out;
  if (!side_) return out;
  const HealthCounters& h = side_->health[dir != 0 ? 1 : 0];
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
  return has_syn_ack_;
}
bool TcpTracker::handshake_done() const {
  return has_ack_;
}
int TcpTracker::reset_by() const {
  return static_cast<int>(reset_by_) - 1;
}
bool TcpTracker::refused() const {
  return refused_;
}

namespace {

// Milliseconds from `a` to `b` (micros32() times), or nullopt when `b` is before `a`
// (out-of-order timestamps: merged captures, clock steps give no RTT, not a negative one).
std::optional<double> span_ms(std::uint32_t a, std::uint32_t b) {
  const std::int64_t us = elapsed_us(b, a);
  if (us < 0) return std::nullopt;
  return static_cast<double>(us) / 1e3;
}

}  // namespace

std::optional<double> TcpTracker::handshake_rtt_ms() const {
  if (!has_syn_ || !has_ack_) return std::nullopt;
  return span_ms(syn_us_, ack_us_);
}

std::optional<double> TcpTracker::syn_to_syn_ack_ms() const {
  if (!has_syn_ || !has_syn_ack_) return std::nullopt;
  return span_ms(syn_us_, syn_ack_us_);
}

std::optional<double> TcpTracker::syn_ack_to_ack_ms() const {
  if (!has_syn_ack_ || !has_ack_) return std::nullopt;
  return span_ms(syn_ack_us_, ack_us_);
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
