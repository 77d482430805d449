#pragma once
// Frame building for the synthetic benchmark capture and the micro-benchmarks: one
// Segment (a TCP segment or UDP datagram of a generated flow) becomes an Ethernet frame
// carrying IPv4 or IPv6, with the TCP options Linux sends (MSS, SACK-permitted,
// timestamps, window scale on SYNs; timestamps on every other segment). IPv4 header
// checksums are filled; TCP/UDP checksums are left 0, as in a capture taken on a host
// with checksum offload.

#include <array>
#include <cstdint>
#include <vector>

namespace netscope::bench {

// The two ends of a flow. IPv4 addresses use the first 4 bytes of the arrays.
struct FlowAddress {
  bool v6 = false;
  bool udp = false;
  std::array<std::uint8_t, 16> client{};
  std::array<std::uint8_t, 16> server{};
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
};

// One packet of a generated flow.
struct Segment {
  std::int64_t ts_ns = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t len = 0;  // transport payload bytes on the wire
  std::uint16_t window = 0;
  std::uint8_t flags = 0;  // TCP flags as on the wire; unused for UDP
  std::uint8_t dir = 0;    // 0 client -> server, 1 server -> client
};

inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;

// What a SYN announces; the TCP timestamp clock of each side.
struct TcpParams {
  std::uint16_t mss = 1460;
  std::uint8_t wscale = 7;
  std::array<std::uint32_t, 2> ts_offset{};  // per direction, added to the ms clock
  std::int64_t half_rtt_ns = 0;              // TSecr echoes the peer's clock this long ago
};

// Writes the frame of `s` into `out` (replacing its contents), cut to `snaplen` bytes.
// Returns the frame's length on the wire.
std::uint32_t build_frame(const FlowAddress& a, const TcpParams& tcp, const Segment& s,
                          std::uint32_t snaplen, std::vector<std::uint8_t>& out);

}  // namespace netscope::bench
