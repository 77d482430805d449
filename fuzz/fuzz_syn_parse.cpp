// libFuzzer target for capture::parse_syn(), SynWatch's own header reader: the first byte
// picks a link type (fuzz_linktypes.hpp, which includes types parse_syn() does not read),
// the rest is the frame. The frame is copied into an exactly-sized heap buffer so ASan
// sees any read past the captured bytes.
//
// Besides memory safety it checks parse_syn() against decode_packet(), the main path's
// decoder: when both read a complete, untunnelled TCP header from the same frame, they
// must agree on the addresses and ports, and the segment must carry SYN. A disagreement
// would attribute a connection to the wrong socket.
//
// make_seeds cannot tell which captured packets are SYNs in this target's format, so it
// carries its own seeds (SYN and SYN-ACK over each link layer parse_syn() reads, IPv4
// options, VLAN tags, IPv6 extension headers): LLVMFuzzerInitialize writes them into a
// seed directory named on the command line that is missing or empty, as `make test` and
// fuzz/run.sh pass <build>/fuzz/seeds/syn_parse.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "builtin_seeds.hpp"
#include "capture/syn_watch.hpp"
#include "decode/decode.hpp"
#include "fuzz_linktypes.hpp"

namespace {

namespace lt = netscope::decode::linktype;
using netscope::fuzz::kLinkTypes;
using netscope::fuzz::linktype_selector;

constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kAck = 0x10;

void put16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v >> 8);
  s += static_cast<char>(v & 0xff);
}

// A 20-byte TCP header (RFC 9293 §3.1), checksum 0.
std::string tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags) {
  std::string s;
  put16(s, sport);
  put16(s, dport);
  s.append("\x11\x22\x33\x44\x00\x00\x00\x00", 8);  // seq, ack
  s += static_cast<char>(5 << 4);                   // data offset
  s += static_cast<char>(flags);
  put16(s, 64240);  // window
  s.append(4, '\0');
  return s;
}

// IPv4 (RFC 791) carrying `payload`; `options` 4-byte words of NOP options.
std::string ipv4(const std::string& payload, int options = 0, std::uint16_t frag = 0x4000) {
  std::string s;
  s += static_cast<char>(0x40 | (5 + options));
  s += '\0';
  put16(s, static_cast<std::uint16_t>(20 + options * 4 + payload.size()));
  put16(s, 0x1234);
  put16(s, frag);
  s += '\x40';                                      // TTL
  s += '\x06';                                      // TCP
  put16(s, 0);                                      // checksum: neither parser checks it
  s.append("\xc0\x00\x02\x01\xc6\x33\x64\x02", 8);  // 192.0.2.1 -> 198.51.100.2
  s.append(static_cast<std::size_t>(options) * 4, '\x01');
  return s + payload;
}

// IPv6 (RFC 8200) with `next` as the first next header; `payload` holds the rest.
std::string ipv6(const std::string& payload, std::uint8_t next = 6) {
  std::string s("\x60\x00\x00\x00", 4);
  put16(s, static_cast<std::uint16_t>(payload.size()));
  s += static_cast<char>(next);
  s += '\x40';
  s.append("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
  s.append("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 16);
  return s + payload;
}

std::string ethernet(std::uint16_t type, const std::string& payload, int vlans = 0) {
  std::string s("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
  for (int i = 0; i < vlans; ++i) {
    put16(s, i == 0 && vlans > 1 ? 0x88a8 : 0x8100);
    put16(s, static_cast<std::uint16_t>(100 + i));
  }
  put16(s, type);
  return s + payload;
}

std::string seed(int linktype, const std::string& frame) {
  return std::string(1, static_cast<char>(linktype_selector(linktype))) + frame;
}

std::vector<std::string> builtin_seeds() {
  const std::string syn = tcp(40000, 443, kSyn);
  const std::string syn_ack = tcp(443, 40000, kSyn | kAck);
  const std::string v4 = ipv4(syn);
  const std::string v6 = ipv6(syn_ack);
  // Hop-by-hop (8 bytes, PadN) then a fragment header at offset 0 with M set.
  const std::string v6_ext = ipv6(std::string("\x2c\x00\x01\x04\x00\x00\x00\x00", 8) +
                                      std::string("\x06\x00\x00\x01\x00\x00\x00\x2a", 8) + syn,
                                  0);
  std::string sll("\x00\x00\x00\x01\x00\x06\x02\x00\x00\x00\x00\x01\x00\x00", 14);
  std::string sll2("\x86\xdd\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06", 12);
  sll2.append("\x02\x00\x00\x00\x00\x01\x00\x00", 8);
  return {
      seed(lt::ethernet, ethernet(0x0800, v4)),
      seed(lt::ethernet, ethernet(0x86dd, v6)),
      seed(lt::ethernet, ethernet(0x0800, ipv4(syn_ack, 2), 2)),  // QinQ, IP options
      seed(lt::ethernet, ethernet(0x86dd, v6_ext, 1)),
      seed(lt::ethernet, ethernet(0x0800, ipv4(syn, 0, 0x0010))),  // a later fragment
      seed(lt::linux_sll, sll + std::string("\x08\x00", 2) + v4),
      seed(lt::linux_sll2, sll2 + v6),
      seed(lt::raw, v4),
      seed(lt::raw_dlt, v6_ext),
      seed(lt::ipv4, ipv4(tcp(1, 2, kAck))),  // no SYN
      seed(lt::ipv6, v6),
  };
}

bool same_as_decoder(int linktype, std::span<const std::uint8_t> frame,
                     const netscope::capture::SynEvent& ev) {
  namespace decode = netscope::decode;
  decode::PacketView view;
  decode::AnomalyCounters anomalies;
  const auto len = static_cast<std::uint32_t>(frame.size());
  if (!decode::decode_packet(linktype, frame, len, view, anomalies)) return true;
  // Only a complete TCP header read at the same layer is comparable: the decoder may
  // reject what parse_syn() accepts (it checks more), and it looks inside tunnels.
  if (!view.has_transport() || view.ip_proto != 6 || view.tunnel != decode::Tunnel::none ||
      (view.is_fragment && !view.first_fragment)) {
    return true;
  }
  return view.src == ev.src && view.dst == ev.dst && view.sport == ev.sport &&
         view.dport == ev.dport && (view.tcp_flags & kSyn) != 0 &&
         ((view.tcp_flags & kAck) != 0) == ev.ack;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  netscope::fuzz::write_builtin_seeds(*argc, *argv, builtin_seeds());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int linktype = kLinkTypes[data[0] % kLinkTypes.size()];
  const std::size_t len = size - 1;
  auto bytes = std::make_unique<std::uint8_t[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(bytes.get(), data + 1, len);
  const std::span<const std::uint8_t> frame(bytes.get(), len);

  const auto ev = netscope::capture::parse_syn(linktype, frame);
  if (!ev) return 0;
  // Fields parse_syn() must leave to its caller. (No address-family check: an IPv6
  // packet may carry a v4-mapped address, which core::IpAddress stores as IPv4.)
  if (ev->interface_id != 0 || ev->ts.ns != 0) __builtin_trap();
  if (!same_as_decoder(linktype, frame, *ev)) __builtin_trap();
  return 0;
}
