// Per-segment TCP analysis: the classification Wireshark documents in its User's Guide,
// section "TCP Analysis", rebuilt from those definitions and from tshark 4.0's output
// on real captures (tests/tshark/ checks it frame by frame). The names of the checks
// below follow that section. "Forward" is the side sending the segment, "reverse" its
// peer.

#include <cstdint>
#include <limits>

#include "decode/packet_view.hpp"
#include "flow/tcp_seq.hpp"
#include "flow/tcp_tracker.hpp"

namespace netscope::flow {

namespace {

namespace flag = decode::tcp_flag;
namespace ta = tcp_analysis;

// "Fast Retransmission: we saw the last acknowledgement less than 20 ms ago."
constexpr std::int64_t kFastRetransmissionWindowUs = 20'000;
// "Out-Of-Order: the last segment arrived within the Out-Of-Order RTT threshold", which
// is the initial RTT when known and 3 ms otherwise.
constexpr std::int64_t kDefaultOutOfOrderUs = 3'000;

}  // namespace

std::int64_t TcpTracker::ooo_threshold_us() const {
  if (has_syn_ && has_ack_) return elapsed_us(ack_us_, syn_us_);
  return kDefaultOutOfOrderUs;
}

std::uint32_t TcpTracker::analyze(Half& fwd, Half& rev, const decode::PacketView& pkt,
                                  std::uint32_t seglen, std::uint32_t now_us) {
  const std::uint8_t f = pkt.tcp_flags;
  const bool syn = (f & flag::syn) != 0;
  const bool fin = (f & flag::fin) != 0;
  const bool rst = (f & flag::rst) != 0;
  const bool has_ack = (f & flag::ack) != 0;
  const bool control = syn || fin || rst;
  const std::uint32_t seq = pkt.seq;
  const std::uint32_t ack = pkt.ack;
  const std::uint32_t win = pkt.window;
  std::uint32_t out = 0;

  // ZeroWindow: "the receive window size is zero and none of SYN, FIN, or RST are set".
  if (win == 0 && !control) out |= ta::zero_window;

  // Previous segment not captured: "the current sequence number is greater than the next
  // expected sequence number". A RST may carry any acceptable sequence number
  // (RFC 9293 §3.5.3), so it proves nothing about a gap.
  if (fwd.next_seq_known && seq_gt(seq, fwd.next_seq) && !rst) out |= ta::lost_segment;

  // Keep-Alive: zero or one byte at next expected - 1, none of SYN/FIN/RST
  // (RFC 9293 §3.8.4: the probe carries an already-acknowledged sequence number).
  const bool keep_alive = fwd.next_seq_known && seglen <= 1 && seq == fwd.next_seq - 1 && !control;
  if (keep_alive) out |= ta::keep_alive;

  // ZeroWindowProbe: one byte at the next expected sequence number while the peer's last
  // window was zero (RFC 9293 §3.8.6.1).
  const bool zero_window_probe = fwd.next_seq_known && seglen == 1 && seq == fwd.next_seq &&
                                 rev.window_known && rev.window == 0;
  if (zero_window_probe) out |= ta::zero_window_probe;

  // Keep-Alive ACK: the answer to the peer's keep-alive; supersedes Dup ACK.
  const bool keep_alive_ack = seglen == 0 && win != 0 && fwd.window_known && win == fwd.window &&
                              fwd.next_seq_known && seq == fwd.next_seq && fwd.last_ack_known &&
                              ack == fwd.last_ack && rev.last_keep_alive && !control;

  // Dup ACK: no data, same non-zero window, same ACK number, connection established,
  // none of SYN/FIN/RST.
  if (has_ack && seglen == 0 && win != 0 && fwd.window_known && win == fwd.window &&
      fwd.next_seq_known && fwd.last_ack_known && ack == fwd.last_ack && !control && !keep_alive &&
      !keep_alive_ack) {
    out |= ta::dup_ack;
  }

  // Window update: no data, same sequence and ACK numbers, a changed non-zero window.
  if (seglen == 0 && win != 0 && fwd.window_known && win != fwd.window && fwd.next_seq_known &&
      seq == fwd.next_seq && fwd.last_ack_known && ack == fwd.last_ack && !control) {
    out |= ta::window_update;
  }

  // Window full: this segment fills the peer's advertised window exactly
  // (RFC 9293 §3.8.6: SND.NXT reaches SND.UNA + SND.WND).
  if (seglen > 0 && rev.window_known && rev.last_ack_known && !control &&
      seq + seglen == rev.last_ack + static_cast<std::uint32_t>(scaled_window(rev))) {
    out |= ta::window_full;
  }

  // ACKed unseen segment: the ACK covers sequence space the peer was never seen sending.
  // tshark then takes the ACK (or the peer's next expected sequence number, if higher) as
  // acknowledgeable, so the same ACK is not reported twice
  // (zeek/ipv6-http-atomic-frag.pcap frames 6-7; zeek/tcp_reassembly.pcap frames 70-76).
  if (has_ack && rev.next_seq_known && seq_gt(ack, rev.max_seq)) {
    out |= ta::ack_unseen;
    rev.max_seq = seq_gt(rev.next_seq, ack) ? rev.next_seq : ack;
  }

  // The retransmission family. Spurious: data the peer had already acknowledged in
  // full. tshark checks this on the reverse direction's ACK alone, whatever the next
  // expected sequence number (zeek/ipv6-http-atomic-frag.pcap frame 8: the client's data
  // arrives after the server's ACK for it and is flagged spurious).
  const std::uint32_t end = seq + seglen;
  if (seglen > 0 && !keep_alive && rev.last_ack_known && seq_le(end, rev.last_ack)) {
    out |= ta::spurious_retransmission | ta::retransmission;
  } else if ((seglen > 0 || syn || fin) && fwd.next_seq_known && seq_gt(fwd.next_seq, seq) &&
             !keep_alive) {
    // A segment occupying sequence space that starts below the next expected sequence
    // number. A keep-alive is not a retransmission.
    if (rev.dup_acks >= 2 && rev.last_ack_known && seq == rev.last_ack &&
        elapsed_us(now_us, rev.last_ack_us) < kFastRetransmissionWindowUs) {
      // Fast: resends what the duplicate ACKs ask for right after them (RFC 5681 §3.2).
      out |= ta::fast_retransmission | ta::retransmission;
    } else if (seglen > 0 && elapsed_us(now_us, fwd.next_seq_us) < ooo_threshold_us() &&
               fwd.next_seq != end) {
      // Out-of-order: too soon after the previous segment to be a timer retransmission.
      // A re-sent SYN never is (zeek/nflog-http.pcap frames 2-3: three SYNs with one
      // timestamp are retransmissions to tshark).
      out |= ta::out_of_order;
    } else {
      out |= ta::retransmission;
    }
  }

  if (rst) out |= ta::rst;
  return out;
}

void TcpTracker::update_sequence(Half& fwd, const decode::PacketView& pkt, std::uint32_t seglen,
                                 std::uint32_t flags, std::uint32_t now_us) {
  const std::uint8_t f = pkt.tcp_flags;
  const std::uint32_t end =
      pkt.seq + seglen + ((f & flag::syn) ? 1u : 0u) + ((f & flag::fin) ? 1u : 0u);
  // The next expected sequence number only moves forward, with any segment that reaches
  // past it, retransmissions included (zeek/http_206_example_b.pcap frame 262 resends
  // data and adds new bytes; frame 265 that follows is not "previous segment lost").
  // A zero-window probe does not move it: the receiver has not taken its byte, and the
  // next probe of the same byte is again a probe, not a keep-alive (observed with the
  // capture tests/tshark/make_corner_cases.py writes, port 40004).
  if (!fwd.next_seq_known || ((flags & ta::zero_window_probe) == 0 && seq_gt(end, fwd.next_seq))) {
    fwd.next_seq = end;
    fwd.next_seq_us = now_us;
  }
  // The highest sequence number the peer may acknowledge without an "ACKed unseen
  // segment" (the User's Guide's "next expected acknowledgement number"). Observed in
  // tshark 4.0, and needed to agree with it on zeek/tcp_reassembly.pcap: it moves up to
  // the next expected sequence number only with a segment that starts at or below it and
  // carries no retransmission, keep-alive or gap flag. So a retransmission adding new
  // bytes (zeek/http_206_example_b.pcap frame 262), a segment after a gap
  // (zeek/ldap_gap-data-missing.pcapng frame 10) or one beyond it (tcp_reassembly frame
  // 59) leaves it behind, and the ACK for them is "ACKed unseen" (frames 264, 11, 70); an
  // out-of-order segment that fills a gap brings it up to everything sent
  // (zeek/tls_hrr.pcap frames 9, 11, 12).
  constexpr std::uint32_t kHolds = ta::retransmission | ta::keep_alive | ta::lost_segment;
  if (!fwd.next_seq_known) {
    fwd.max_seq = fwd.next_seq;
  } else if ((flags & kHolds) == 0 && seq_le(pkt.seq, fwd.max_seq) &&
             seq_gt(fwd.next_seq, fwd.max_seq)) {
    fwd.max_seq = fwd.next_seq;
  }
  fwd.next_seq_known = true;
  fwd.last_keep_alive = (flags & ta::keep_alive) != 0;
  fwd.last_zero_window_probe = (flags & ta::zero_window_probe) != 0;

  if ((f & flag::ack) != 0) {
    if (!fwd.last_ack_known || pkt.ack != fwd.last_ack) fwd.dup_acks = 0;
    if ((flags & ta::dup_ack) != 0 && fwd.dup_acks != std::numeric_limits<std::uint16_t>::max()) {
      ++fwd.dup_acks;
    }
    fwd.last_ack = pkt.ack;
    fwd.last_ack_known = true;
    fwd.last_ack_us = now_us;
  }
  fwd.window = pkt.window;
  fwd.window_known = true;
  fwd.window_in_syn = (f & flag::syn) != 0;
}

}  // namespace netscope::flow
