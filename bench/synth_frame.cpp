#include "synth_frame.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "bench_rng.hpp"

namespace netscope::bench {

namespace {

constexpr std::array<std::uint8_t, 6> kClientMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr std::array<std::uint8_t, 6> kRouterMac{0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
constexpr std::string_view kHttpRequest =
    "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench\r\nX-Pad: ";
// Checksums are not computed (offload); any non-zero value will do, and 0 is not allowed
// for UDP over IPv6 (RFC 8200 §8.1).
constexpr std::uint16_t kOffloadedChecksum = 0x5a5a;

// A DNS query for an A record of a name derived from `id`, or its answer (RFC 1035 §4.1).
void dns_message(std::uint32_t id, bool response, std::vector<std::uint8_t>& m) {
  m.clear();
  const std::uint8_t header[12] = {static_cast<std::uint8_t>(id >> 8),
                                   static_cast<std::uint8_t>(id),
                                   static_cast<std::uint8_t>(response ? 0x81 : 0x01),
                                   static_cast<std::uint8_t>(response ? 0x80 : 0x00),
                                   0,
                                   1,
                                   0,
                                   static_cast<std::uint8_t>(response ? 1 : 0),
                                   0,
                                   0,
                                   0,
                                   0};
  m.insert(m.end(), header, header + 12);
  char label[16];
  const int n = std::snprintf(label, sizeof label, "host%u", id % 100000);
  m.push_back(static_cast<std::uint8_t>(n));
  m.insert(m.end(), label, label + n);
  for (const std::string_view l : {std::string_view("example"), std::string_view("com")}) {
    m.push_back(static_cast<std::uint8_t>(l.size()));
    m.insert(m.end(), l.begin(), l.end());
  }
  const std::uint8_t question_tail[5] = {0, 0, 1, 0, 1};  // root, type A, class IN
  m.insert(m.end(), question_tail, question_tail + 5);
  if (response) {  // name pointer to offset 12, A, IN, TTL 300, 4 bytes of address
    const std::uint8_t answer[16] = {0xc0, 12, 0, 1, 0,   1,  0,   0,
                                     1,    44, 0, 4, 198, 51, 100, static_cast<std::uint8_t>(id)};
    m.insert(m.end(), answer, answer + 16);
  }
}

class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void bytes(const std::uint8_t* p, std::size_t n) { out_.insert(out_.end(), p, p + n); }

 private:
  std::vector<std::uint8_t>& out_;
};

std::uint32_t ts_clock(const TcpParams& tcp, int dir, std::int64_t ns) {
  return tcp.ts_offset[dir] + static_cast<std::uint32_t>(std::max<std::int64_t>(ns, 0) / 1'000'000);
}

}  // namespace

std::uint32_t build_frame(const FlowAddress& a, const TcpParams& tcp, const Segment& s,
                          std::uint32_t snaplen, std::vector<std::uint8_t>& out) {
  out.clear();
  Writer w(out);
  const bool up = s.dir == 0;
  const bool syn = (s.flags & kSyn) != 0;
  const bool rst = (s.flags & kRst) != 0;
  const bool dns = a.udp && a.server_port == 53;
  thread_local std::vector<std::uint8_t> dns_payload;
  if (dns) dns_message(a.client_port * 31u + s.seq, !up, dns_payload);  // seq: query number
  const std::uint32_t payload_len = dns ? static_cast<std::uint32_t>(dns_payload.size()) : s.len;
  std::uint32_t l4_header = 8;
  if (!a.udp) l4_header = syn ? 40 : rst ? 20 : 32;
  const std::uint32_t l4_bytes = l4_header + payload_len;
  const std::uint32_t ip_header = a.v6 ? 40 : 20;
  const std::uint32_t wire = 14 + ip_header + l4_bytes;

  w.bytes(up ? kRouterMac.data() : kClientMac.data(), 6);
  w.bytes(up ? kClientMac.data() : kRouterMac.data(), 6);
  w.u16(a.v6 ? 0x86dd : 0x0800);
  const auto& src = up ? a.client : a.server;
  const auto& dst = up ? a.server : a.client;
  const std::uint8_t proto = a.udp ? 17 : 6;
  const std::uint8_t ttl = up ? 64 : 52;
  if (a.v6) {
    w.u32(0x60000000);
    w.u16(static_cast<std::uint16_t>(l4_bytes));
    w.u8(proto);
    w.u8(ttl);
    w.bytes(src.data(), 16);
    w.bytes(dst.data(), 16);
  } else {
    const std::size_t at = out.size();
    w.u8(0x45);
    w.u8(0);
    w.u16(static_cast<std::uint16_t>(ip_header + l4_bytes));
    w.u16(static_cast<std::uint16_t>(s.seq ^ s.ts_ns));  // IP ID: any value will do
    w.u16(0x4000);                                       // DF
    w.u8(ttl);
    w.u8(proto);
    w.u16(0);
    w.bytes(src.data(), 4);
    w.bytes(dst.data(), 4);
    const std::uint16_t sum = ipv4_checksum(out.data() + at);
    out[at + 10] = static_cast<std::uint8_t>(sum >> 8);
    out[at + 11] = static_cast<std::uint8_t>(sum);
  }
  w.u16(up ? a.client_port : a.server_port);
  w.u16(up ? a.server_port : a.client_port);
  if (a.udp) {
    w.u16(static_cast<std::uint16_t>(l4_bytes));
    w.u16(kOffloadedChecksum);
  } else {
    w.u32(s.seq);
    w.u32(s.ack);
    w.u8(static_cast<std::uint8_t>((l4_header / 4) << 4));
    w.u8(s.flags);
    w.u16(s.window);
    w.u16(kOffloadedChecksum);
    w.u16(0);  // urgent pointer
    const std::uint32_t tsval = ts_clock(tcp, s.dir, s.ts_ns);
    const std::uint32_t tsecr =
        (s.flags & kAck) != 0 ? ts_clock(tcp, 1 - s.dir, s.ts_ns - tcp.half_rtt_ns) : 0;
    if (syn) {  // Linux order: MSS, SACK-permitted, timestamps, NOP, window scale
      w.u8(2);
      w.u8(4);
      w.u16(tcp.mss);
      w.u8(4);
      w.u8(2);
      w.u8(8);
      w.u8(10);
      w.u32(tsval);
      w.u32(tsecr);
      w.u8(1);
      w.u8(3);
      w.u8(3);
      w.u8(tcp.wscale);
    } else if (!rst) {
      w.u8(1);
      w.u8(1);
      w.u8(8);
      w.u8(10);
      w.u32(tsval);
      w.u32(tsecr);
    }
  }
  // Payload: only what fits in the snaplen is materialised.
  const std::size_t room = snaplen > out.size() ? snaplen - out.size() : 0;
  const std::size_t n = std::min<std::size_t>(room, payload_len);
  const std::size_t start = out.size();
  out.resize(start + n);
  std::uint8_t* p = out.data() + start;
  if (dns) {
    std::memcpy(p, dns_payload.data(), n);
  } else if (up && !a.udp && a.server_port == 80 && s.len >= kHttpRequest.size() + 4) {
    // An HTTP request padded to the segment size with a header, ended by CRLF CRLF.
    const std::size_t text = std::min(n, kHttpRequest.size());
    std::memcpy(p, kHttpRequest.data(), text);
    for (std::size_t i = text; i < n; ++i) {
      p[i] = i + 4 < s.len ? 'a' : (s.len - i) % 2 == 0 ? '\r' : '\n';
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>((s.seq + i) * 131u >> 3);
  }
  if (out.size() > snaplen) out.resize(snaplen);
  return wire;
}

}  // namespace netscope::bench
