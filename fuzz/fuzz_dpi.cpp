// libFuzzer target for the DPI parsers and the Inspector. One target for all protocols
// keeps `make test` short (one 20 s smoke run); the first byte picks what runs:
//   0 TLS records + ClientHello/ServerHello + JA3/JA4   4 SSH banner + packet header
//   1 QUIC long header, Initial opening, frame walk     5 NTP/DHCP/SSDP/STUN recognisers
//   2 DNS message, names, TCP framing                   6+ a packet sequence through an Inspector
//   3 HTTP request and status line
// Mode 6 reads records [flags][len LE16][payload] and feeds them as one TCP or UDP flow
// (byte 1 picks the transport and the server port) with small caps, so reassembly, the
// caps, the dispatcher and every session run on hostile orderings.
//
// Inputs are copied into exactly-sized heap buffers so ASan sees any read past the end.
// The built-in seeds (valid messages of each protocol) are written into an empty seed
// directory at start-up: captures hold no such standalone messages.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_seeds.hpp"
#include "dpi/dns.hpp"
#include "dpi/http.hpp"
#include "dpi/inspector.hpp"
#include "dpi/others.hpp"
#include "dpi/quic.hpp"
#include "dpi/ssh.hpp"
#include "dpi/tls.hpp"
#include "dpi/tls_fingerprint.hpp"

namespace {

namespace dpi = netscope::dpi;
using dpi::Bytes;

void fuzz_tls(Bytes data) {
  std::vector<std::uint8_t> scratch;
  std::uint8_t type = 0;
  Bytes body;
  const auto st = dpi::tls::first_handshake_message(data, 1u << 17, scratch, type, body);
  // Also parse the input directly as a message body: the record layer filters a lot.
  for (const Bytes b : {st == dpi::tls::Status::ok ? body : Bytes{}, data}) {
    dpi::tls::ClientHello ch;
    if (dpi::tls::parse_client_hello(b, ch)) {
      (void)dpi::tls::ja3_hash(ch);
      (void)dpi::tls::ja4(ch, 't');
      (void)dpi::tls::version_name(ch.max_version());
    }
    dpi::tls::ServerHello sh;
    if (dpi::tls::parse_server_hello(b, sh)) (void)dpi::tls::cipher_name(sh.cipher_suite);
  }
}

void fuzz_quic(Bytes data) {
  dpi::quic::LongHeader h;
  if (dpi::quic::parse_long_header(data, h)) {
    if (h.packet_size > data.size()) __builtin_trap();
    dpi::quic::InitialKeys keys;
    if (h.type == dpi::quic::PacketType::initial &&
        dpi::quic::derive_initial_keys(h.version, h.dcid, keys)) {
      std::vector<std::uint8_t> scratch, plain;
      std::uint64_t pn = 0;
      (void)dpi::quic::open_packet(data.first(h.packet_size), h, keys.client, 0, scratch, plain,
                                   pn);
    }
  }
  dpi::quic::InitialFrames frames;
  (void)dpi::quic::walk_initial_frames(data, frames);
  for (std::size_t i = 0; i < frames.crypto_count; ++i) {
    const Bytes c = frames.crypto[i].data;
    if (c.data() < data.data() || c.data() + c.size() > data.data() + data.size()) __builtin_trap();
  }
}

void fuzz_dns(Bytes data) {
  dpi::dns::Message m;
  if (dpi::dns::parse_message(data, m)) {
    (void)dpi::dns::rcode_name(m.rcode);
    (void)dpi::dns::qtype_name(m.qtype);
  }
  (void)dpi::dns::strict_parse(data, m);
  std::string name;
  for (std::size_t pos = 0; pos < data.size() && pos < 64; ++pos) {
    std::size_t p = pos;
    if (dpi::dns::read_name(data, p, &name) && (p > data.size() || name.size() > 4 * 255)) {
      __builtin_trap();  // a name never outgrows its escaped 255 octets
    }
  }
  Bytes msg;
  std::size_t used = 0;
  (void)dpi::dns::next_tcp_message(data, msg, used);
}

void fuzz_text(Bytes data, bool http) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (http) {
    dpi::http::Request req;
    (void)dpi::http::parse_request(text, req);
    dpi::http::Response resp;
    (void)dpi::http::parse_response(text, resp);
    return;
  }
  dpi::ssh::Banner b;
  std::size_t used = 0;
  if (dpi::ssh::parse_banner(text, b, used) == dpi::ssh::Status::ok && used > text.size()) {
    __builtin_trap();
  }
  dpi::ssh::PacketHeader h;
  (void)dpi::ssh::parse_packet_header(data, h);
}

void fuzz_others(Bytes data) {
  (void)dpi::others::is_ntp(data);
  (void)dpi::others::is_dhcp(data);
  (void)dpi::others::is_ssdp(data);
  (void)dpi::others::is_stun(data);
}

void fuzz_inspector(Bytes data) {
  if (data.empty()) return;
  static constexpr std::array<std::uint16_t, 8> kPorts{443, 80, 22, 53, 123, 5353, 4433, 9999};
  const bool tcp = (data[0] & 1) != 0;
  const std::uint16_t port = kPorts[(data[0] >> 1) % kPorts.size()];
  data = data.subspan(1);
  dpi::InspectorConfig cfg;
  cfg.stream_cap = 2048;
  cfg.total_cap = 6144;
  cfg.dns_max_pending = 4;
  dpi::Inspector inspector(cfg);
  dpi::FlowState flow;
  dpi::InspectResult out;
  std::array<std::uint32_t, 2> seq{1000, 50000};
  std::int64_t t = 1'700'000'000'000'000'000;
  while (data.size() >= 3) {
    const std::uint8_t flags = data[0];
    const std::size_t len =
        std::min<std::size_t>(data[1] | (std::size_t{data[2]} << 8), data.size() - 3);
    auto payload = std::make_unique<std::uint8_t[]>(len == 0 ? 1 : len);
    if (len != 0) std::memcpy(payload.get(), data.data() + 3, len);
    data = data.subspan(3 + len);
    const int dir = flags & 1;
    netscope::decode::PacketView v;
    v.layers = netscope::decode::PacketView::kIp | netscope::decode::PacketView::kTransport;
    t += (flags >> 5) * 300'000'000;
    v.ts = netscope::core::Timestamp{t};
    v.src = netscope::core::IpAddress::from_v4(dir == 0 ? 0x0a000001 : 0x0a000002);
    v.dst = netscope::core::IpAddress::from_v4(dir == 0 ? 0x0a000002 : 0x0a000001);
    v.sport = dir == 0 ? 40000 : port;
    v.dport = dir == 0 ? port : 40000;
    v.ip_proto = tcp ? netscope::decode::ip_proto::tcp : netscope::decode::ip_proto::udp;
    if (tcp) {
      if ((flags & 2) != 0) v.tcp_flags |= netscope::decode::tcp_flag::syn;
      if ((flags & 4) != 0) seq[dir] -= static_cast<std::uint32_t>(len);  // retransmit
      if ((flags & 8) != 0) seq[dir] += 700;                              // leave a hole
      if ((flags & 16) != 0) seq[dir] -= 1500;                            // reorder back
      v.seq = seq[dir];
      seq[dir] += static_cast<std::uint32_t>(len) + ((flags & 2) != 0 ? 1 : 0);
    }
    v.payload = Bytes(payload.get(), len);
    v.payload_len = static_cast<std::uint32_t>(len);
    out.clear();
    inspector.inspect(flow, v, dir, out);
    if (inspector.buffered_bytes() > cfg.total_cap) __builtin_trap();
  }
  out.clear();
  inspector.finish(flow, out);
  dpi::DpiInfo info;
  dpi::Inspector::describe(flow, info);
}

std::string seed(std::uint8_t selector, std::string_view body) {
  return std::string(1, static_cast<char>(selector)) + std::string(body);
}

std::string u16(std::size_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

// A TLS 1.3 ClientHello record: SNI example.com, ALPN h2, supported_versions 1.3.
std::string client_hello_record() {
  using namespace std::string_literals;
  const std::string sni = "\x00\x00"s + u16(16) + u16(14) + "\x00"s + u16(11) + "example.com";
  const std::string alpn = "\x00\x10"s + u16(5) + u16(3) + "\x02h2";
  const std::string versions = "\x00\x2b"s + u16(3) + "\x02\x03\x04"s;
  const std::string exts = sni + alpn + versions;
  const std::string body = "\x03\x03"s + std::string(32, 'A') + "\x00"s + u16(4) +
                           "\x13\x01\x13\x02\x01\x00"s + u16(exts.size()) + exts;
  const std::string msg = "\x01\x00"s + u16(body.size()) + body;
  return "\x16\x03\x01"s + u16(msg.size()) + msg;
}

// A DNS message for example.com A: a query, or a response with one answer.
std::string dns_message(bool response) {
  using namespace std::string_literals;
  std::string m = "\x12\x34"s + (response ? "\x81\x80"s : "\x01\x00"s) + u16(1) +
                  u16(response ? 1 : 0) + u16(0) + u16(0) +
                  "\x07"
                  "example"
                  "\x03"
                  "com"s +
                  "\x00"s + u16(1) + u16(1);
  if (response)
    m += "\xc0\x0c"s + u16(1) + u16(1) + "\x00\x00\x00\x3c"s + u16(4) + "\xc0\x00\x02\x01"s;
  return m;
}

// One Inspector record: flags, little-endian length, payload.
std::string record(std::uint8_t flags, const std::string& payload) {
  return std::string{static_cast<char>(flags), static_cast<char>(payload.size() & 0xff),
                     static_cast<char>(payload.size() >> 8)} +
         payload;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  using namespace std::string_literals;
  const std::string hello = client_hello_record();
  // A (not protected) QUIC v1 Initial header with a CRYPTO and a PING frame.
  const std::string quic = "\xc3\x00\x00\x00\x01\x08\x83\x94\xc8\xf0\x3e\x51\x57\x08"s +
                           "\x00\x00\x40\x20"s + "\x00\x00\x00\x02"s +
                           "\x06\x00\x04"
                           "abcd"
                           "\x01"s +
                           std::string(20, '\0');
  const std::vector<std::string> seeds{
      seed(0, hello),
      seed(1, quic),
      seed(2, dns_message(true)),
      seed(3, "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\n\r\n"),
      seed(4, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x00\x00\x0c\x0a\x14"s),
      seed(5, "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"),
      // TCP to port 443: SYN, then the ClientHello in two segments.
      seed(6,
           "\x01"s + record(2, "") + record(0, hello.substr(0, 40)) + record(0, hello.substr(40))),
      // UDP to port 53: a query, then its answer.
      seed(6, "\x06"s + record(0, dns_message(false)) + record(1, dns_message(true))),
      // TCP to port 22: both banners and a KEXINIT header.
      seed(6, "\x05"s + record(3, "") + record(1, "SSH-2.0-srv\r\n") +
                  record(0, "SSH-2.0-cli\r\n") +
                  record(0, "\x00\x00\x00\x0c\x0a\x14"s + std::string(10, '\0'))),
  };
  netscope::fuzz::write_builtin_seeds(*argc, *argv, seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t len = size - 1;
  auto buf = std::make_unique<std::uint8_t[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(buf.get(), data + 1, len);
  const Bytes input(buf.get(), len);
  switch (data[0]) {
    case 0:
      fuzz_tls(input);
      break;
    case 1:
      fuzz_quic(input);
      break;
    case 2:
      fuzz_dns(input);
      break;
    case 3:
      fuzz_text(input, true);
      break;
    case 4:
      fuzz_text(input, false);
      break;
    case 5:
      fuzz_others(input);
      break;
    default:
      fuzz_inspector(input);
      break;
  }
  return 0;
}
