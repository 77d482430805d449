#pragma once
// The DPI parsers' fuzz bodies, shared by the per-parser libFuzzer targets
// (fuzz_dpi_<parser>.cpp, one per parser as issue 5 asks) and their seed builders. Each
// body checks the invariants its callers rely on and traps when one breaks.
//
// fuzz_inspector reads records [flags][len LE16][payload] after one byte that picks the
// transport (bit 0: TCP) and the server port (kInspectorPorts[(byte >> 1) % 8]) and feeds
// them as one flow with small caps, so reassembly, the caps, the dispatcher and every
// session run on hostile orderings. Record flags: bit 0 direction (1: from the server),
// bit 1 SYN, bit 2 a retransmission, bit 3 a hole, bit 4 a step back, bits 5-7 time step.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dpi/dns.hpp"
#include "dpi/http.hpp"
#include "dpi/inspector.hpp"
#include "dpi/others.hpp"
#include "dpi/quic.hpp"
#include "dpi/ssh.hpp"
#include "dpi/tls.hpp"
#include "dpi/tls_fingerprint.hpp"

namespace netscope::fuzz {

namespace dpi = netscope::dpi;
using dpi::Bytes;

inline constexpr std::array<std::uint16_t, 8> kInspectorPorts{443, 80,   22,   53,
                                                              123, 5353, 4433, 9999};

// Runs `body` on a copy of the input in an exactly-sized heap buffer, so that ASan sees
// any read past its end.
template <typename Body>
void on_exact_copy(const std::uint8_t* data, std::size_t size, Body body) {
  auto buf = std::make_unique<std::uint8_t[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(buf.get(), data, size);
  body(Bytes(buf.get(), size));
}

inline void fuzz_tls(Bytes data) {
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

inline void fuzz_quic(Bytes data) {
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

inline void fuzz_dns(Bytes data) {
  dpi::dns::Message m;
  // analyze parses without keeping records: everything else must come out the same.
  dpi::dns::Message lean;
  lean.keep_records = false;
  const auto alike = [&](bool a, bool b) {
    if (a != b || m.rcode != lean.rcode || m.qname != lean.qname || m.qtype != lean.qtype ||
        m.record_count != lean.record_count || !lean.records.empty() ||
        m.records.size() != m.record_count) {
      __builtin_trap();
    }
  };
  const bool parsed = dpi::dns::parse_message(data, m);
  alike(parsed, dpi::dns::parse_message(data, lean));
  if (parsed) {
    (void)dpi::dns::rcode_name(m.rcode);
    (void)dpi::dns::qtype_name(m.qtype);
  }
  alike(dpi::dns::strict_parse(data, m), dpi::dns::strict_parse(data, lean));
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

inline void fuzz_http(Bytes data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  dpi::http::Request req;
  (void)dpi::http::parse_request(text, req);
  dpi::http::Response resp;
  (void)dpi::http::parse_response(text, resp);
}

inline void fuzz_ssh(Bytes data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  dpi::ssh::Banner b;
  std::size_t used = 0;
  if (dpi::ssh::parse_banner(text, b, used) == dpi::ssh::Status::ok && used > text.size()) {
    __builtin_trap();
  }
  dpi::ssh::PacketHeader h;
  (void)dpi::ssh::parse_packet_header(data, h);
}

inline void fuzz_others(Bytes data) {
  (void)dpi::others::is_ntp(data);
  (void)dpi::others::is_dhcp(data);
  (void)dpi::others::is_ssdp(data);
  (void)dpi::others::is_stun(data);
}

inline void fuzz_inspector(Bytes data) {
  if (data.empty()) return;
  const bool tcp = (data[0] & 1) != 0;
  const std::uint16_t port = kInspectorPorts[(data[0] >> 1) % kInspectorPorts.size()];
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

inline std::string u16(std::size_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

// A TLS 1.3 ClientHello record: SNI example.com, ALPN h2, supported_versions 1.3.
inline std::string client_hello_record() {
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
inline std::string dns_message(bool response) {
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
inline std::string record(std::uint8_t flags, const std::string& payload) {
  return std::string{static_cast<char>(flags), static_cast<char>(payload.size() & 0xff),
                     static_cast<char>(payload.size() >> 8)} +
         payload;
}

}  // namespace netscope::fuzz
