#pragma once
// Builds TCP PacketViews for the tracker tests: one call per segment, times in µs.

#include <cstdint>

#include "decode/packet_view.hpp"
#include "flow/tcp_tracker.hpp"

namespace netscope::flow::test {

namespace f = decode::tcp_flag;
namespace ta = tcp_analysis;

inline constexpr std::uint8_t kAck = f::ack;
inline constexpr std::uint8_t kSyn = f::syn;
inline constexpr std::uint8_t kSynAck = f::syn | f::ack;
inline constexpr std::uint8_t kFinAck = f::fin | f::ack;
inline constexpr std::uint8_t kRst = f::rst;
inline constexpr std::uint8_t kRstAck = f::rst | f::ack;
inline constexpr std::uint8_t kPshAck = f::psh | f::ack;

struct Seg {
  std::int64_t t_us = 0;
  std::uint8_t flags = kAck;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t len = 0;
  std::uint16_t window = 1000;
  int wscale = -1;  // window-scale option value, -1 for none
};

inline decode::PacketView make_view(const Seg& s) {
  decode::PacketView v;
  v.layers = decode::PacketView::kLink | decode::PacketView::kIp | decode::PacketView::kTransport;
  v.ip_version = 4;
  v.ip_proto = decode::ip_proto::tcp;
  v.ts = core::Timestamp{s.t_us * 1000};
  v.sport = 40000;
  v.dport = 80;
  v.tcp_flags = s.flags;
  v.seq = s.seq;
  v.ack = s.ack;
  v.window = s.window;
  v.payload_len = s.len;
  if (s.wscale >= 0) {
    v.tcp_opts.has_wscale = true;
    v.tcp_opts.wscale = static_cast<std::uint8_t>(s.wscale);
  }
  return v;
}

// A tracker driven through a handshake: client ISN kC, server ISN kS, both at t=0/10/20 ms
// unless given otherwise.
class Conn {
 public:
  static constexpr std::uint32_t kC = 1000;
  static constexpr std::uint32_t kS = 5000;

  std::uint32_t send(int dir, Seg s) { return tracker.on_segment(dir, make_view(s)); }
  void handshake(int client_wscale = -1, int server_wscale = -1, std::int64_t rtt_us = 10'000,
                 std::uint32_t c_isn = kC, std::uint32_t s_isn = kS) {
    send(0, {.t_us = 0, .flags = kSyn, .seq = c_isn, .ack = 0, .wscale = client_wscale});
    send(1, {.t_us = rtt_us,
             .flags = kSynAck,
             .seq = s_isn,
             .ack = c_isn + 1,
             .wscale = server_wscale});
    send(0, {.t_us = 2 * rtt_us, .flags = kAck, .seq = c_isn + 1, .ack = s_isn + 1});
  }

  TcpTracker tracker;
};

}  // namespace netscope::flow::test
