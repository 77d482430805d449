// TcpSession: feeds each TCP direction through its TcpStream and hands the in-order bytes
// to the protocol's on_data(). See session.hpp.

#include "dpi/session.hpp"

namespace netscope::dpi {

TcpSession::TcpSession(Protocol p, Shared& shared)
    : Session(p),
      streams_{TcpStream(shared.config.stream_cap, shared.budget),
               TcpStream(shared.config.stream_cap, shared.budget)} {}

void TcpSession::on_packet(SessionContext& c) {
  const decode::PacketView& pkt = c.pkt;
  std::uint32_t seq = pkt.seq;
  if ((pkt.tcp_flags & decode::tcp_flag::syn) != 0) {
    streams_[c.dir].set_syn(pkt.seq);
    ++seq;  // data on a SYN (TCP Fast Open, RFC 7413) starts after it
  }
  if (pkt.payload.empty()) return;
  on_segment(c);
  if (++segments_ > segment_budget_) done = true;
  if (done || streams_[c.dir].closed()) return;
  TcpStream& s = streams_[c.dir];
  const Bytes data = s.feed(seq, pkt.payload);
  c.shared.counters.truncated_bytes += s.take_truncated();
  deliver(c, c.dir, data);
  // The capture cut this segment short (snaplen): its missing bytes never arrive, so a
  // parser still waiting for them cannot go on. The direction ends now instead of
  // buffering its later segments behind a hole that never fills. (Not for the probe of a
  // late start, which decides by itself.)
  if (pkt.payload.size() < pkt.payload_len && protocol != Protocol::unknown && !done &&
      !s.closed() && s.reads_before(seq, pkt.payload_len)) {
    end_direction(c.dir);
  }
}

void TcpSession::adopt(std::array<TcpStream, 2>&& streams, SessionContext& c) {
  streams_ = std::move(streams);
  for (int dir = 0; dir < 2; ++dir) {
    if (done || streams_[dir].closed()) continue;
    deliver(c, dir, streams_[dir].feed(0, {}));
  }
}

void TcpSession::deliver(SessionContext& c, int dir, Bytes data) {
  TcpStream& s = streams_[dir];
  const std::uint64_t at = s.read_offset();
  const std::size_t used = data.empty() ? 0 : on_data(c, dir, data);
  if (s.closed()) return;
  s.consume(std::min(used, data.size()));
  if (used > data.size()) s.skip_to(at + used);
}

bool TcpSession::at_cap(Bytes data, Shared& shared) {
  if (data.size() < shared.config.stream_cap) return false;
  ++shared.counters.truncated_streams;
  return true;
}

std::string display_text(std::string_view s, std::size_t max) {
  std::string out(s.substr(0, max));
  for (char& ch : out) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u > 0x7e) ch = '?';
  }
  return out;
}

}  // namespace netscope::dpi
