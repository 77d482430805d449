#pragma once
// Test support for the DPI unit tests: hex input, hand-built packets (PacketView the way
// decode fills it), and a TLS ClientHello writer.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.hpp"
#include "decode/packet_view.hpp"

namespace netscope::dpi::test {

using ByteVec = std::vector<std::uint8_t>;

// "16 03 01" or "160301": whitespace is ignored.
inline ByteVec hex(std::string_view text) {
  ByteVec out;
  int hi = -1;
  for (const char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

inline ByteVec bytes(std::string_view text) {
  return ByteVec(text.begin(), text.end());
}

inline void put16(ByteVec& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put24(ByteVec& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void append(ByteVec& b, const ByteVec& more) {
  b.insert(b.end(), more.begin(), more.end());
}

// One endpoint pair; packets are built from the client's or the server's side.
struct Conn {
  core::IpAddress client = core::IpAddress::from_v4(0x0a000001);  // 10.0.0.1
  core::IpAddress server = core::IpAddress::from_v4(0x0a000002);
  std::uint16_t client_port = 40000;
  std::uint16_t server_port = 443;
  std::int64_t t_ns = 1'700'000'000'000'000'000;

  decode::PacketView packet(bool from_client, std::uint8_t proto, const ByteVec& payload,
                            std::uint32_t seq = 0, std::uint8_t flags = decode::tcp_flag::ack) {
    decode::PacketView v;
    v.layers = decode::PacketView::kLink | decode::PacketView::kIp | decode::PacketView::kTransport;
    v.ts = core::Timestamp{t_ns};
    v.ip_version = 4;
    v.src = from_client ? client : server;
    v.dst = from_client ? server : client;
    v.sport = from_client ? client_port : server_port;
    v.dport = from_client ? server_port : client_port;
    v.ip_proto = proto;
    v.seq = seq;
    v.tcp_flags = proto == decode::ip_proto::tcp ? flags : 0;
    v.payload = payload;
    v.payload_len = static_cast<std::uint32_t>(payload.size());
    return v;
  }
  decode::PacketView tcp(bool from_client, const ByteVec& payload, std::uint32_t seq,
                         std::uint8_t flags = decode::tcp_flag::ack | decode::tcp_flag::psh) {
    return packet(from_client, decode::ip_proto::tcp, payload, seq, flags);
  }
  decode::PacketView udp(bool from_client, const ByteVec& payload) {
    return packet(from_client, decode::ip_proto::udp, payload);
  }
};

// Writes a ClientHello handshake message (type 1 + 24-bit length + body).
struct ClientHelloWriter {
  std::uint16_t version = 0x0303;
  std::vector<std::uint16_t> ciphers{0x1301, 0x1302, 0xc02f};
  std::string sni = "example.com";
  std::vector<std::string> alpn{"h2", "http/1.1"};
  std::vector<std::uint16_t> supported_versions{0x0304, 0x0303};
  std::vector<std::uint16_t> groups{0x001d, 0x0017};
  std::vector<std::uint8_t> point_formats{0};
  std::vector<std::uint16_t> sig_algs{0x0403, 0x0804};
  std::vector<std::uint16_t> extra_extensions;  // empty-bodied extensions, in order
  std::size_t padding = 0;                      // a padding extension (21) of this size

  ByteVec extension(std::uint16_t type, const ByteVec& body) const {
    ByteVec e;
    put16(e, type);
    put16(e, static_cast<std::uint16_t>(body.size()));
    append(e, body);
    return e;
  }

  ByteVec message() const {
    ByteVec body;
    put16(body, version);
    body.insert(body.end(), 32, 0x11);  // random
    body.push_back(32);                 // session id
    body.insert(body.end(), 32, 0x22);
    put16(body, static_cast<std::uint16_t>(ciphers.size() * 2));
    for (const auto c : ciphers) put16(body, c);
    body.push_back(1);  // compression methods: null
    body.push_back(0);
    ByteVec exts;
    if (!sni.empty()) {
      ByteVec b;
      put16(b, static_cast<std::uint16_t>(sni.size() + 3));
      b.push_back(0);
      put16(b, static_cast<std::uint16_t>(sni.size()));
      b.insert(b.end(), sni.begin(), sni.end());
      append(exts, extension(0, b));
    }
    for (const auto e : extra_extensions) append(exts, extension(e, {}));
    if (!groups.empty()) {
      ByteVec b;
      put16(b, static_cast<std::uint16_t>(groups.size() * 2));
      for (const auto g : groups) put16(b, g);
      append(exts, extension(10, b));
    }
    if (!point_formats.empty()) {
      ByteVec b{static_cast<std::uint8_t>(point_formats.size())};
      b.insert(b.end(), point_formats.begin(), point_formats.end());
      append(exts, extension(11, b));
    }
    if (!sig_algs.empty()) {
      ByteVec b;
      put16(b, static_cast<std::uint16_t>(sig_algs.size() * 2));
      for (const auto s : sig_algs) put16(b, s);
      append(exts, extension(13, b));
    }
    if (!alpn.empty()) {
      ByteVec list;
      for (const auto& a : alpn) {
        list.push_back(static_cast<std::uint8_t>(a.size()));
        list.insert(list.end(), a.begin(), a.end());
      }
      ByteVec b;
      put16(b, static_cast<std::uint16_t>(list.size()));
      append(b, list);
      append(exts, extension(16, b));
    }
    if (!supported_versions.empty()) {
      ByteVec b{static_cast<std::uint8_t>(supported_versions.size() * 2)};
      for (const auto v : supported_versions) put16(b, v);
      append(exts, extension(43, b));
    }
    if (padding > 0) append(exts, extension(21, ByteVec(padding, 0)));
    put16(body, static_cast<std::uint16_t>(exts.size()));
    append(body, exts);
    ByteVec msg{1};
    put24(msg, body.size());
    append(msg, body);
    return msg;
  }

  // The message in TLS records of at most `max_fragment` bytes each.
  ByteVec records(std::size_t max_fragment = 16384) const {
    const ByteVec msg = message();
    ByteVec out;
    for (std::size_t off = 0; off < msg.size(); off += max_fragment) {
      const std::size_t n = std::min(max_fragment, msg.size() - off);
      out.push_back(22);
      put16(out, 0x0301);
      put16(out, static_cast<std::uint16_t>(n));
      out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(off),
                 msg.begin() + static_cast<std::ptrdiff_t>(off + n));
    }
    return out;
  }
};

// A ServerHello record selecting `cipher`, with supported_versions when `tls13`.
inline ByteVec server_hello_record(std::uint16_t cipher, bool tls13) {
  ByteVec body;
  put16(body, 0x0303);
  body.insert(body.end(), 32, 0x33);
  body.push_back(0);  // empty session id
  put16(body, cipher);
  body.push_back(0);
  ByteVec exts;
  if (tls13) {
    put16(exts, 43);
    put16(exts, 2);
    put16(exts, 0x0304);
  }
  put16(body, static_cast<std::uint16_t>(exts.size()));
  append(body, exts);
  ByteVec msg{2};
  put24(msg, body.size());
  append(msg, body);
  ByteVec rec{22};
  put16(rec, 0x0303);
  put16(rec, static_cast<std::uint16_t>(msg.size()));
  append(rec, msg);
  return rec;
}

}  // namespace netscope::dpi::test
