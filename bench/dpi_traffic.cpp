#include "dpi_traffic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "bench_rng.hpp"

namespace netscope::bench {

namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::uint32_t kMss = 1448;  // 1500-byte MTU, 20 + 20 + 12 bytes of headers
constexpr std::array<std::uint8_t, 6> kClientMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr std::array<std::uint8_t, 6> kRouterMac{0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

using Buf = std::vector<std::uint8_t>;

Rng flow_rng(const DpiModelConfig& cfg, std::uint64_t id, std::uint64_t stream) {
  Rng mix(cfg.seed * 0x100000001b3ull ^ id * 0x9e3779b97f4a7c15ull ^ stream ^
          0xd1b54a32d192ed03ull);
  return Rng(mix.next());
}

// A name index out of `n`, most of them popular (log-uniform: index 1 is drawn as often
// as 2-3, 4-7, ...), as a few hosts take most connections in real traffic.
unsigned popular(Rng& rng, unsigned n) {
  return static_cast<unsigned>(rng.log_range(1, n));
}

std::int64_t ns(double seconds) {
  return static_cast<std::int64_t>(seconds * 1e9);
}

void u8(Buf& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
}
void u16(Buf& b, std::uint32_t v) {
  u8(b, v >> 8);
  u8(b, v);
}
void u24(Buf& b, std::uint32_t v) {
  u8(b, v >> 16);
  u16(b, v);
}
void u32(Buf& b, std::uint32_t v) {
  u16(b, v >> 16);
  u16(b, v);
}
void text(Buf& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}
// Writes the big-endian length of what was appended since `at` into the `width` bytes
// that precede it (TLS vectors and records).
void patch_len(Buf& b, std::size_t at, int width) {
  const std::size_t n = b.size() - at;
  for (int i = 0; i < width; ++i) {
    b[at - 1 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  }
}

// ---- Frames ---------------------------------------------------------------------------

// Ethernet + IPv4/IPv6 + the transport header; checksums of TCP/UDP left as offloaded.
struct Frame {
  const FlowAddress& a;

  void ip(Buf& out, bool up, std::uint32_t l4_bytes, std::uint16_t ip_id) const {
    out.insert(out.end(), (up ? kRouterMac : kClientMac).begin(),
               (up ? kRouterMac : kClientMac).end());
    out.insert(out.end(), (up ? kClientMac : kRouterMac).begin(),
               (up ? kClientMac : kRouterMac).end());
    u16(out, a.v6 ? 0x86dd : 0x0800);
    const auto& src = up ? a.client : a.server;
    const auto& dst = up ? a.server : a.client;
    const std::uint8_t proto = a.udp ? 17 : 6;
    const std::uint8_t ttl = up ? 64 : 52;
    if (a.v6) {
      u32(out, 0x60000000);
      u16(out, l4_bytes);
      u8(out, proto);
      u8(out, ttl);
      out.insert(out.end(), src.begin(), src.end());
      out.insert(out.end(), dst.begin(), dst.end());
      return;
    }
    const std::size_t at = out.size();
    u8(out, 0x45);
    u8(out, 0);
    u16(out, 20 + l4_bytes);
    u16(out, ip_id);
    u16(out, 0x4000);  // DF
    u8(out, ttl);
    u8(out, proto);
    u16(out, 0);
    out.insert(out.end(), src.begin(), src.begin() + 4);
    out.insert(out.end(), dst.begin(), dst.begin() + 4);
    const std::uint16_t sum = ipv4_checksum(out.data() + at);
    out[at + 10] = static_cast<std::uint8_t>(sum >> 8);
    out[at + 11] = static_cast<std::uint8_t>(sum);
  }

  void udp(Buf& out, bool up, const Buf& payload, std::uint16_t ip_id) const {
    out.clear();
    const auto l4 = static_cast<std::uint32_t>(8 + payload.size());
    ip(out, up, l4, ip_id);
    u16(out, up ? a.client_port : a.server_port);
    u16(out, up ? a.server_port : a.client_port);
    u16(out, l4);
    u16(out, 0x5a5a);  // offloaded; never 0 over IPv6 (RFC 8200 §8.1)
    out.insert(out.end(), payload.begin(), payload.end());
  }

  // A segment with Linux's options: MSS, SACK-permitted, timestamps, window scale on a
  // SYN; timestamps on the others.
  void tcp(Buf& out, bool up, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
           std::uint16_t window, std::uint32_t tsval, std::uint32_t tsecr,
           const std::uint8_t* payload, std::size_t n) const {
    out.clear();
    const bool syn = (flags & kSyn) != 0;
    const std::uint32_t header = syn ? 40 : 32;
    ip(out, up, header + static_cast<std::uint32_t>(n), static_cast<std::uint16_t>(seq ^ tsval));
    u16(out, up ? a.client_port : a.server_port);
    u16(out, up ? a.server_port : a.client_port);
    u32(out, seq);
    u32(out, ack);
    u8(out, (header / 4) << 4);
    u8(out, flags);
    u16(out, window);
    u16(out, 0x5a5a);
    u16(out, 0);
    if (syn) {
      const std::uint8_t opts[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};  // MSS 1460
      out.insert(out.end(), opts, opts + sizeof opts);
      u32(out, tsval);
      u32(out, tsecr);
      const std::uint8_t tail[] = {1, 3, 3, 7};
      out.insert(out.end(), tail, tail + sizeof tail);
    } else {
      const std::uint8_t opts[] = {1, 1, 8, 10};
      out.insert(out.end(), opts, opts + sizeof opts);
      u32(out, tsval);
      u32(out, tsecr);
    }
    out.insert(out.end(), payload, payload + n);
  }
};

// ---- A TCP connection ----------------------------------------------------------------

// Both ends of one connection seen from the middle of the path: a packet seen at t
// reaches its receiver, whose answer is seen at t + RTT/2. No loss: the DPI mix is about
// payloads; synth_traffic.hpp models loss and reordering.
class TcpConn {
 public:
  TcpConn(const FlowAddress& a, Rng& rng, std::int64_t start, std::vector<DpiPacket>& out)
      : frame_{a}, rng_(rng), out_(out), t_(start) {
    half_rtt_ = ns(rng_.log_range(0.0005, 0.12));
    gap_ = ns(rng_.log_range(1e-5, 2e-4));  // between back-to-back segments
    for (Side& s : side_) {
      s.seq = static_cast<std::uint32_t>(rng_.next());
      s.ts_offset = static_cast<std::uint32_t>(rng_.next());
      s.window = static_cast<std::uint16_t>(rng_.range(500, 3000));
    }
  }

  void handshake() {
    emit(t_, 0, kSyn, nullptr, 0, 64240);
    ++side_[0].seq;
    emit(t_ + half_rtt_, 1, kSyn | kAck, nullptr, 0, 65160);
    ++side_[1].seq;
    t_ += 2 * half_rtt_;
    emit(t_, 0, kAck);
  }

  // `dir` sends `data`, cut into MSS-sized segments; the receiver ACKs every second one
  // and the last. Afterwards t_ is when the receiver's answer could be seen.
  void send(int dir, const Buf& data) {
    std::size_t off = 0;
    int unacked = 0;
    std::int64_t at = t_;
    while (off < data.size()) {
      const std::size_t n = std::min<std::size_t>(kMss, data.size() - off);
      const bool last = off + n == data.size();
      emit(at, dir, kAck | (last ? kPsh : 0), data.data() + off, n);
      off += n;
      if (++unacked == 2 || last) {
        emit(at + half_rtt_, 1 - dir, kAck);
        unacked = 0;
      }
      at += gap_;
    }
    t_ = at - gap_ + half_rtt_;
  }

  void think(double seconds) { t_ += ns(seconds); }

  void close(int dir) {
    emit(t_, dir, kFin | kAck);
    ++side_[dir].seq;
    emit(t_ + half_rtt_, 1 - dir, kFin | kAck);
    ++side_[1 - dir].seq;
    emit(t_ + 2 * half_rtt_, dir, kAck);
  }

 private:
  struct Side {
    std::uint32_t seq = 0;
    std::uint32_t ts_offset = 0;
    std::uint16_t window = 0;
  };

  void emit(std::int64_t ts, int dir, std::uint8_t flags, const std::uint8_t* p = nullptr,
            std::size_t n = 0, std::uint16_t window = 0) {
    Side& s = side_[dir];
    const std::uint32_t ack = (flags & kAck) != 0 ? side_[1 - dir].seq : 0;
    const auto clock = [&](const Side& x, std::int64_t t) {
      return x.ts_offset + static_cast<std::uint32_t>(std::max<std::int64_t>(t, 0) / kMs);
    };
    const std::uint32_t tsecr = (flags & kAck) != 0 ? clock(side_[1 - dir], ts - half_rtt_) : 0;
    out_.push_back(DpiPacket{ts, {}});
    frame_.tcp(out_.back().frame, dir == 0, s.seq, ack, flags, window != 0 ? window : s.window,
               clock(s, ts), tsecr, p, n);
    s.seq += static_cast<std::uint32_t>(n);
  }

  Frame frame_;
  Rng& rng_;
  std::vector<DpiPacket>& out_;
  Side side_[2];
  std::int64_t t_ = 0;
  std::int64_t half_rtt_ = 0;
  std::int64_t gap_ = 0;
};

// ---- TLS ------------------------------------------------------------------------------

std::uint16_t grease(Rng& rng) {
  const auto g = static_cast<std::uint16_t>(rng.below(16));
  return static_cast<std::uint16_t>((g << 12) | 0x0a00 | (g << 4) | 0x0a);
}

void extension(Buf& b, std::uint16_t type, const Buf& body) {
  u16(b, type);
  u16(b, static_cast<std::uint32_t>(body.size()));
  b.insert(b.end(), body.begin(), body.end());
}

// A Chromium-like ClientHello record (BoringSSL's extension set, shuffled order as since
// Chrome 110, GREASE in ciphers, groups, key shares, versions and two extensions).
Buf client_hello(Rng& rng, bool kyber) {
  char sni[64];
  std::snprintf(sni, sizeof sni, "www.site%u.example", popular(rng, 5000));
  const std::string_view host(sni);
  std::vector<Buf> exts;
  Buf e;
  // server_name (RFC 6066 §3)
  u16(e, static_cast<std::uint32_t>(host.size() + 3));
  u8(e, 0);
  u16(e, static_cast<std::uint32_t>(host.size()));
  text(e, host);
  exts.push_back(e);
  const std::uint16_t g = grease(rng);
  auto ext = [&](std::uint16_t type, const Buf& body) {
    Buf x;
    extension(x, type, body);
    return x;
  };
  exts[0] = ext(0, exts[0]);
  exts.push_back(ext(23, {}));       // extended_master_secret
  exts.push_back(ext(0xff01, {0}));  // renegotiation_info
  {
    Buf b;
    u16(b, kyber ? 10 : 8);
    u16(b, g);
    if (kyber) u16(b, 0x6399);  // X25519Kyber768Draft00
    u16(b, 0x001d);
    u16(b, 0x0017);
    u16(b, 0x0018);
    exts.push_back(ext(10, b));  // supported_groups
  }
  exts.push_back(ext(11, {1, 0}));  // ec_point_formats
  exts.push_back(ext(35, {}));      // session_ticket
  {
    Buf b;
    u16(b, 0x0c);
    u8(b, 2);
    text(b, "h2");
    u8(b, 8);
    text(b, "http/1.1");
    exts.push_back(ext(16, b));  // ALPN
  }
  exts.push_back(ext(5, {1, 0, 0, 0, 0}));  // status_request
  {
    Buf b;
    const std::uint16_t algs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
    u16(b, sizeof algs);
    for (const auto a : algs) u16(b, a);
    exts.push_back(ext(13, b));  // signature_algorithms
  }
  exts.push_back(ext(18, {}));  // signed_certificate_timestamp
  {
    Buf b;
    const std::size_t at = b.size() + 2;
    u16(b, 0);
    u16(b, g);
    u16(b, 1);
    u8(b, 0);
    if (kyber) {
      u16(b, 0x6399);
      u16(b, 1216);
      rng.fill(b, 1216);
    }
    u16(b, 0x001d);
    u16(b, 32);
    rng.fill(b, 32);
    patch_len(b, at, 2);
    exts.push_back(ext(51, b));  // key_share
  }
  exts.push_back(ext(45, {1, 1}));  // psk_key_exchange_modes
  {
    Buf b;
    u8(b, 6);
    u16(b, grease(rng));
    u16(b, 0x0304);
    u16(b, 0x0303);
    exts.push_back(ext(43, b));  // supported_versions
  }
  exts.push_back(ext(27, {2, 0, 2}));               // compress_certificate
  exts.push_back(ext(17513, {0, 3, 2, 'h', '2'}));  // application_settings
  // Chrome permutes the extensions (except GREASE, padding and pre_shared_key).
  for (std::size_t i = exts.size() - 1; i > 0; --i) std::swap(exts[i], exts[rng.below(i + 1)]);

  Buf rec;
  u8(rec, 22);
  u16(rec, 0x0301);
  u16(rec, 0);
  const std::size_t rec_at = rec.size();
  u8(rec, 1);  // ClientHello
  u24(rec, 0);
  const std::size_t msg_at = rec.size();
  u16(rec, 0x0303);
  rng.fill(rec, 32);  // random
  u8(rec, 32);
  rng.fill(rec, 32);  // legacy_session_id
  const std::uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                   0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  u16(rec, 2 * (1 + sizeof ciphers / 2));
  u16(rec, grease(rng));
  for (const auto c : ciphers) u16(rec, c);
  u8(rec, 1);
  u8(rec, 0);
  u16(rec, 0);
  const std::size_t exts_at = rec.size();
  extension(rec, g, {});
  for (const Buf& x : exts) rec.insert(rec.end(), x.begin(), x.end());
  extension(rec, static_cast<std::uint16_t>(g ^ 0x1010), {0});
  // BoringSSL pads a ClientHello of 256..511 bytes to 512 (RFC 7685).
  const std::size_t hello_len = rec.size() - msg_at + 4;
  if (hello_len >= 256 && hello_len < 512) {
    const std::size_t pad = std::max<std::size_t>(512 - hello_len, 5) - 4;
    extension(rec, 21, Buf(pad, 0));
  }
  patch_len(rec, exts_at, 2);
  patch_len(rec, msg_at, 3);
  patch_len(rec, rec_at, 2);
  return rec;
}

// The server's first flight of TLS 1.3: ServerHello, ChangeCipherSpec, and the encrypted
// EncryptedExtensions/Certificate/CertificateVerify/Finished as application data.
Buf server_flight(Rng& rng) {
  Buf b;
  u8(b, 22);
  u16(b, 0x0303);
  u16(b, 0);
  const std::size_t rec_at = b.size();
  u8(b, 2);
  u24(b, 0);
  const std::size_t msg_at = b.size();
  u16(b, 0x0303);
  rng.fill(b, 32);
  u8(b, 32);
  rng.fill(b, 32);
  u16(b, rng.chance(0.7) ? 0x1301 : 0x1302);
  u8(b, 0);
  u16(b, 46);
  u16(b, 43);  // supported_versions: TLS 1.3
  u16(b, 2);
  u16(b, 0x0304);
  u16(b, 51);  // key_share: x25519
  u16(b, 36);
  u16(b, 0x001d);
  u16(b, 32);
  rng.fill(b, 32);
  patch_len(b, msg_at, 3);
  patch_len(b, rec_at, 2);
  const std::uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
  b.insert(b.end(), ccs, ccs + sizeof ccs);
  const auto encrypted = static_cast<std::uint32_t>(rng.log_range(1800, 5000));
  u8(b, 23);
  u16(b, 0x0303);
  u16(b, encrypted);
  rng.fill(b, encrypted);
  return b;
}

// Application data records carrying `n` bytes of ciphertext in all.
Buf app_data(Rng& rng, std::size_t n) {
  Buf b;
  while (n > 0) {
    const std::size_t len = std::min<std::size_t>(n, 16384 + 256);
    u8(b, 23);
    u16(b, 0x0303);
    u16(b, static_cast<std::uint32_t>(len));
    rng.fill(b, len);
    n -= len;
  }
  return b;
}

void tls_flow(const DpiFlowPlan& p, Rng& rng, std::vector<DpiPacket>& out) {
  TcpConn c(p.addr, rng, p.start_ns, out);
  c.handshake();
  c.send(0, client_hello(rng, rng.chance(0.35)));
  c.think(rng.log_range(0.0002, 0.01));
  c.send(1, server_flight(rng));
  Buf fin{20, 3, 3, 0, 1, 1};
  const Buf finished = app_data(rng, 53);
  fin.insert(fin.end(), finished.begin(), finished.end());
  const int exchanges = 1 + static_cast<int>(rng.exponential(1.5));
  for (int e = 0; e < exchanges; ++e) {
    Buf req = e == 0 ? fin : Buf{};
    const Buf r = app_data(rng, static_cast<std::size_t>(rng.log_range(60, 900)));
    req.insert(req.end(), r.begin(), r.end());
    c.send(0, req);
    c.think(rng.log_range(0.0005, 0.03));
    c.send(1, app_data(rng, static_cast<std::size_t>(rng.log_range(300, 40000))));
    c.think(rng.exponential(0.5));
  }
  c.close(rng.chance(0.6) ? 0 : 1);
}

// ---- HTTP/1.1 -------------------------------------------------------------------------

void http_flow(const DpiFlowPlan& p, Rng& rng, std::vector<DpiPacket>& out) {
  TcpConn c(p.addr, rng, p.start_ns, out);
  c.handshake();
  const int requests = 1 + static_cast<int>(rng.exponential(2.5));
  static constexpr std::string_view kAgents[] = {
      "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
      "curl/7.88.1",
      "Debian APT-HTTP/1.3 (2.6.1)",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36",
  };
  const std::string_view agent = kAgents[rng.below(4)];
  const unsigned host = popular(rng, 3000);
  char line[256];
  for (int r = 0; r < requests; ++r) {
    Buf req;
    std::snprintf(line, sizeof line, "GET /assets/%u/item%u.%s HTTP/1.1\r\n",
                  static_cast<unsigned>(rng.below(1000)), static_cast<unsigned>(rng.below(100000)),
                  rng.chance(0.5) ? "js" : "png");
    text(req, line);
    std::snprintf(line, sizeof line, "Host: static%u.example.org\r\n", host);
    text(req, line);
    text(req, "User-Agent: ");
    text(req, agent);
    text(req,
         "\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
         "Connection: keep-alive\r\n\r\n");
    c.send(0, req);
    c.think(rng.log_range(0.0002, 0.02));
    const auto body = static_cast<std::size_t>(rng.log_range(200, 60000));
    const bool missing = rng.chance(0.05);
    Buf resp;
    std::snprintf(line, sizeof line,
                  "HTTP/1.1 %s\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 22:00:00 GMT\r\n"
                  "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                  "Connection: keep-alive\r\n\r\n",
                  missing ? "404 Not Found" : "200 OK", body);
    text(resp, line);
    rng.fill(resp, body);
    c.send(1, resp);
    c.think(rng.exponential(0.3));
  }
  c.close(rng.chance(0.5) ? 0 : 1);
}

// ---- DNS ------------------------------------------------------------------------------

void dns_name(Buf& m, std::string_view name) {
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    u8(m, static_cast<std::uint32_t>(label.size()));
    text(m, label);
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  u8(m, 0);
}

// A query (RFC 1035 §4.1) for `qtype` of `name`, or its response: a CNAME then one to
// three addresses, or NXDOMAIN with the zone's SOA in the authority section.
Buf dns_message(Rng& rng, std::uint16_t id, std::string_view name, std::uint16_t qtype,
                bool response, bool nxdomain, bool cname) {
  Buf m;
  u16(m, id);
  u16(m, response ? (nxdomain ? 0x8183 : 0x8180) : 0x0100);
  u16(m, 1);
  const int addresses = response && !nxdomain ? 1 + static_cast<int>(rng.below(3)) : 0;
  u16(m, static_cast<std::uint32_t>(addresses + (addresses > 0 && cname ? 1 : 0)));
  u16(m, response && nxdomain ? 1 : 0);
  u16(m, 0);
  dns_name(m, name);
  u16(m, qtype);
  u16(m, 1);
  if (!response) return m;
  std::uint16_t owner = 0xc00c;  // the question name
  if (addresses > 0 && cname) {
    u16(m, owner);
    u16(m, 5);
    u16(m, 1);
    u32(m, 300);
    const std::size_t at = m.size() + 2;
    u16(m, 0);
    owner = static_cast<std::uint16_t>(0xc000 | m.size());
    text(m,
         "\x04"
         "edge"
         "\x03"
         "cdn");
    u16(m, 0xc00c);  // ...followed by the question name
    patch_len(m, at, 2);
  }
  for (int i = 0; i < addresses; ++i) {
    u16(m, owner);
    u16(m, qtype);
    u16(m, 1);
    u32(m, 60);
    const std::uint32_t len = qtype == 28 ? 16 : 4;
    u16(m, len);
    rng.fill(m, len);
  }
  if (nxdomain) {
    u16(m, 0xc000 | (12 + name.find('.') + 1));  // the parent zone in the question
    u16(m, 6);
    u16(m, 1);
    u32(m, 900);
    const std::size_t at = m.size() + 2;
    u16(m, 0);
    text(m,
         "\x02"
         "ns"
         "\xc0\x0c");
    text(m,
         "\x0a"
         "hostmaster"
         "\xc0\x0c");
    for (const std::uint32_t v : {2026120601u, 7200u, 3600u, 1209600u, 300u}) u32(m, v);
    patch_len(m, at, 2);
  }
  return m;
}

void dns_flow(const DpiFlowPlan& p, Rng& rng, std::vector<DpiPacket>& out, int lookups) {
  const Frame frame{p.addr};
  const std::int64_t half_rtt = ns(rng.log_range(0.0003, 0.05));
  std::int64_t t = p.start_ns;
  char name[96];
  for (int l = 0; l < lookups; ++l) {
    std::snprintf(name, sizeof name, "%s%u.%s.example.%s", rng.chance(0.5) ? "api" : "img",
                  popular(rng, 50000), rng.chance(0.3) ? "eu" : "global",
                  rng.chance(0.5) ? "com" : "net");
    const bool nx = rng.chance(0.08);
    const bool cname = rng.chance(0.4);
    const int types = rng.chance(0.6) ? 2 : 1;  // A, then AAAA
    for (int q = 0; q < types; ++q) {
      const std::uint16_t qtype = q == 0 ? 1 : 28;
      const auto id = static_cast<std::uint16_t>(rng.next());
      const std::int64_t sent = t + q * ns(0.0002);
      out.push_back(DpiPacket{sent, {}});
      frame.udp(out.back().frame, true, dns_message(rng, id, name, qtype, false, nx, cname),
                static_cast<std::uint16_t>(id ^ 0x55));
      if (rng.chance(0.01)) continue;  // unanswered
      out.push_back(DpiPacket{sent + 2 * half_rtt + ns(rng.log_range(0.0001, 0.05)), {}});
      frame.udp(out.back().frame, false, dns_message(rng, id, name, qtype, true, nx, cname),
                static_cast<std::uint16_t>(id ^ 0xaa));
    }
    t += ns(rng.exponential(0.5));
  }
}

// ---- Opaque TCP -----------------------------------------------------------------------

void opaque_flow(const DpiFlowPlan& p, Rng& rng, std::vector<DpiPacket>& out) {
  TcpConn c(p.addr, rng, p.start_ns, out);
  c.handshake();
  const int exchanges = 2 + static_cast<int>(rng.below(12));
  for (int e = 0; e < exchanges; ++e) {
    Buf b;
    rng.fill(b, static_cast<std::size_t>(rng.log_range(20, 400)));
    b[0] = 'Q';  // not a method, a record header, a banner or a DNS length
    c.send(0, b);
    c.think(rng.log_range(0.0001, 0.005));
    b.clear();
    rng.fill(b, static_cast<std::size_t>(rng.log_range(40, 8000)));
    b[0] = 'T';
    c.send(1, b);
    c.think(rng.exponential(0.2));
  }
  c.close(0);
}

}  // namespace

DpiFlowPlan plan_dpi_flow(const DpiModelConfig& cfg, std::uint64_t id) {
  Rng rng = flow_rng(cfg, id, 1);
  DpiFlowPlan p;
  p.id = id;
  p.start_ns = ns(rng.range(0, cfg.duration_s));
  const double k = rng.uniform();
  if (k < 0.50) {
    p.kind = DpiFlowKind::tls;
  } else if (k < 0.65) {
    p.kind = DpiFlowKind::http;
  } else if (k < 0.87) {
    p.kind = DpiFlowKind::dns;
  } else if (k < 0.88) {
    p.kind = DpiFlowKind::dns_resolver;
  } else {
    p.kind = DpiFlowKind::opaque;
  }
  FlowAddress& a = p.addr;
  a.udp = p.kind == DpiFlowKind::dns || p.kind == DpiFlowKind::dns_resolver;
  a.v6 = rng.chance(0.12);
  const std::uint64_t host = id % 4096;
  a.client_port = static_cast<std::uint16_t>(32768 + (id / 4096) % 28000);
  const auto server = static_cast<std::uint32_t>(rng.below(a.udp ? 8 : 2000));
  if (a.v6) {
    a.client = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    a.server = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
    a.client[14] = static_cast<std::uint8_t>(host >> 8);
    a.client[15] = static_cast<std::uint8_t>(host);
    a.server[14] = static_cast<std::uint8_t>(server >> 8);
    a.server[15] = static_cast<std::uint8_t>(server);
  } else {
    a.client = {10, 1, static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
    // 198.18.0.0/15 is reserved for benchmarking (RFC 2544 §C.2.2).
    a.server = {198, 18, static_cast<std::uint8_t>(server >> 8), static_cast<std::uint8_t>(server)};
  }
  switch (p.kind) {
    case DpiFlowKind::tls:
      a.server_port = 443;
      break;
    case DpiFlowKind::http:
      a.server_port = 80;
      break;
    case DpiFlowKind::opaque:
      a.server_port = 5432;
      break;
    default:
      a.server_port = 53;
      break;
  }
  return p;
}

void generate_dpi_flow(const DpiModelConfig& cfg, const DpiFlowPlan& plan,
                       std::vector<DpiPacket>& out) {
  out.clear();
  Rng rng = flow_rng(cfg, plan.id, 2);
  switch (plan.kind) {
    case DpiFlowKind::tls:
      tls_flow(plan, rng, out);
      break;
    case DpiFlowKind::http:
      http_flow(plan, rng, out);
      break;
    case DpiFlowKind::dns:
      dns_flow(plan, rng, out, 1);
      break;
    case DpiFlowKind::dns_resolver:
      dns_flow(plan, rng, out, static_cast<int>(rng.range(20, 120)));
      break;
    case DpiFlowKind::opaque:
      opaque_flow(plan, rng, out);
      break;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const DpiPacket& a, const DpiPacket& b) { return a.ts_ns < b.ts_ns; });
}

}  // namespace netscope::bench
