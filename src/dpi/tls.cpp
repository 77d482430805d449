// TLS record framing and hello messages. Layouts: RFC 8446 §4.1.2 (ClientHello), §4.1.3
// (ServerHello), §5.1 (records); extensions from RFC 6066 §3 (SNI), RFC 7301 §3.1 (ALPN),
// RFC 8446 §4.2.1 (supported_versions), §4.2.3 (signature_algorithms), §4.2.7
// (supported_groups), RFC 8422 §5.1.2 (ec_point_formats).
//
// A malformed extension body is skipped (its type is still listed, as tshark lists it)
// while the outer framing stays trustworthy; a broken outer framing fails the message.

#include "dpi/tls.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace netscope::dpi::tls {
namespace {

// RFC 8446 §5.1: a record fragment is at most 2^14 bytes, plus up to 2048 of expansion in
// TLS 1.2 ciphertext records. Anything longer is not TLS.
constexpr std::size_t kMaxRecord = (1u << 14) + 2048;

void parse_sni(Bytes data, ClientHello& out) {
  ByteReader r(data);
  Bytes list;
  if (!r.vec16(list)) return;
  ByteReader l(list);
  while (!l.empty()) {
    std::uint8_t type = 0;
    Bytes name;
    if (!l.u8(type) || !l.vec16(name)) return;
    if (type == 0 && out.sni.empty()) {  // host_name
      out.sni.assign(as_text(name));
      return;
    }
  }
}

void parse_alpn(Bytes data, std::vector<std::string>& out) {
  ByteReader r(data);
  Bytes list;
  if (!r.vec16(list)) return;
  ByteReader l(list);
  Bytes name;
  while (l.vec8(name)) out.emplace_back(as_text(name));
}

// A vec8/vec16 of 16-bit values.
void parse_u16_list(Bytes data, bool len8, std::vector<std::uint16_t>& out) {
  ByteReader r(data);
  Bytes list;
  if (!(len8 ? r.vec8(list) : r.vec16(list)) || list.size() % 2 != 0) return;
  ByteReader l(list);
  std::uint16_t v = 0;
  while (l.u16(v)) out.push_back(v);
}

// Calls fn(type, data) for each extension of a hello's extensions block at the reader's
// position. The block is optional before TLS 1.3 (RFC 5246 §7.4.1.2); false when its
// framing is broken.
template <typename Fn>
bool for_each_extension(ByteReader& r, Fn fn) {
  if (r.empty()) return true;
  Bytes exts;
  if (!r.vec16(exts)) return false;
  ByteReader e(exts);
  while (!e.empty()) {
    std::uint16_t type = 0;
    Bytes data;
    if (!e.u16(type) || !e.vec16(data)) return false;
    fn(type, data);
  }
  return true;
}

}  // namespace

std::uint16_t ClientHello::max_version() const {
  std::uint16_t best = 0;
  for (const std::uint16_t v : supported_versions) {
    if (!is_grease(v)) best = std::max(best, v);
  }
  return best != 0 ? best : legacy_version;
}

void ClientHello::clear() {
  legacy_version = 0;
  cipher_suites.clear();
  extensions.clear();
  supported_versions.clear();
  groups.clear();
  ec_point_formats.clear();
  signature_algorithms.clear();
  alpn.clear();
  sni.clear();
  has_sni = false;
}

bool parse_client_hello(Bytes body, ClientHello& out) {
  out.clear();
  ByteReader r(body);
  Bytes session_id;
  Bytes suites;
  Bytes compression;
  if (!r.u16(out.legacy_version) || !r.skip(32) || !r.vec8(session_id) || !r.vec16(suites) ||
      suites.size() % 2 != 0 || !r.vec8(compression)) {
    return false;
  }
  ByteReader s(suites);
  out.cipher_suites.reserve(suites.size() / 2);
  std::uint16_t suite = 0;
  while (s.u16(suite)) out.cipher_suites.push_back(suite);
  return for_each_extension(r, [&](std::uint16_t type, Bytes data) {
    out.extensions.push_back(type);
    switch (type) {
      case ext::server_name:
        out.has_sni = true;
        parse_sni(data, out);
        break;
      case ext::supported_groups:
        parse_u16_list(data, false, out.groups);
        break;
      case ext::ec_point_formats: {
        ByteReader p(data);
        Bytes list;
        if (p.vec8(list)) out.ec_point_formats.assign(list.begin(), list.end());
        break;
      }
      case ext::signature_algorithms:
        parse_u16_list(data, false, out.signature_algorithms);
        break;
      case ext::alpn:
        parse_alpn(data, out.alpn);
        break;
      case ext::supported_versions:
        parse_u16_list(data, true, out.supported_versions);
        break;
      default:
        break;
    }
  });
}

bool parse_server_hello(Bytes body, ServerHello& out) {
  // RFC 8446 §4.1.3: SHA-256("HelloRetryRequest") marks a HelloRetryRequest.
  static constexpr std::array<std::uint8_t, 32> kHrrRandom{
      0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
      0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
      0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  out = ServerHello{};
  ByteReader r(body);
  Bytes random;
  Bytes session_id;
  std::uint8_t compression = 0;
  if (!r.u16(out.legacy_version) || !r.take(32, random) || !r.vec8(session_id) ||
      !r.u16(out.cipher_suite) || !r.u8(compression)) {
    return false;
  }
  out.hello_retry_request = std::memcmp(random.data(), kHrrRandom.data(), 32) == 0;
  return for_each_extension(r, [&](std::uint16_t type, Bytes data) {
    if (type == ext::supported_versions && data.size() == 2) {
      out.selected_version = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
    } else if (type == ext::alpn) {
      std::vector<std::string> names;
      parse_alpn(data, names);
      if (!names.empty()) out.alpn = names.front();
    }
  });
}

bool looks_like_handshake_record(Bytes data, bool& partial) {
  // type 22, version major 3 and minor 0..4 (SSL 3.0 .. TLS 1.3 legacy_record_version).
  partial = false;
  const std::size_t n = std::min<std::size_t>(data.size(), 5);
  if (n >= 1 && data[0] != kContentHandshake) return false;
  if (n >= 2 && data[1] != 3) return false;
  if (n >= 3 && data[2] > 4) return false;
  if (n < 5) {
    partial = true;
    return false;
  }
  const std::size_t len = (std::size_t{data[3]} << 8) | data[4];
  return len >= 4 && len <= kMaxRecord;
}

Status first_handshake_message(Bytes stream, std::size_t max_message,
                               std::vector<std::uint8_t>& scratch, std::uint8_t& type,
                               Bytes& body) {
  ByteReader r(stream);
  std::size_t need = 0;  // 4 + message length, once the handshake header is known
  bool joined = false;
  scratch.clear();
  while (true) {
    bool partial = false;
    if (!looks_like_handshake_record(r.rest(), partial)) {
      if (partial || r.empty()) return Status::need_more;
      return joined || scratch.size() > 0 ? Status::malformed : Status::not_handshake;
    }
    std::uint8_t content = 0;
    std::uint16_t version = 0;
    Bytes fragment;
    r.u8(content);
    r.u16(version);
    if (!r.vec16(fragment)) {
      // The record is incomplete: enough when the message already fits in what arrived.
      Bytes avail = r.rest().subspan(2);
      if (scratch.empty() && avail.size() >= 4) {
        const std::size_t len =
            (std::size_t{avail[1]} << 16) | (std::size_t{avail[2]} << 8) | avail[3];
        if (len > max_message) return Status::malformed;
        if (4 + len <= avail.size()) {
          type = avail[0];
          body = avail.subspan(4, len);
          return Status::ok;
        }
      }
      return Status::need_more;
    }
    if (!joined && fragment.size() >= 4) {
      const std::size_t len =
          (std::size_t{fragment[1]} << 16) | (std::size_t{fragment[2]} << 8) | fragment[3];
      if (len > max_message) return Status::malformed;
      if (4 + len <= fragment.size()) {  // the whole message is in this record
        type = fragment[0];
        body = fragment.subspan(4, len);
        return Status::ok;
      }
    }
    // The message spans records: join the fragments.
    joined = true;
    scratch.insert(scratch.end(), fragment.begin(), fragment.end());
    if (need == 0 && scratch.size() >= 4) {
      need = 4 + ((std::size_t{scratch[1]} << 16) | (std::size_t{scratch[2]} << 8) | scratch[3]);
      if (need - 4 > max_message) return Status::malformed;
    }
    if (need != 0 && scratch.size() >= need) {
      type = scratch[0];
      body = Bytes(scratch.data() + 4, need - 4);
      return Status::ok;
    }
  }
}

std::string version_name(std::uint16_t v) {
  switch (v) {
    case 0x0304:
      return "TLS 1.3";
    case 0x0303:
      return "TLS 1.2";
    case 0x0302:
      return "TLS 1.1";
    case 0x0301:
      return "TLS 1.0";
    case 0x0300:
      return "SSL 3.0";
    case 0x0002:
      return "SSL 2.0";
    case 0xfeff:
      return "DTLS 1.0";
    case 0xfefd:
      return "DTLS 1.2";
    case 0xfefc:
      return "DTLS 1.3";
    default:
      break;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

std::string cipher_name(std::uint16_t suite) {
  struct Entry {
    std::uint16_t id;
    const char* name;
  };
  // The suites current clients offer and servers pick (IANA TLS Cipher Suites registry).
  static constexpr Entry kSuites[] = {
      {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
      {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
      {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
      {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
      {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
      {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
      {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
      {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
      {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
      {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
      {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
      {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
      {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
      {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
      {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
      {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
      {0x1301, "TLS_AES_128_GCM_SHA256"},
      {0x1302, "TLS_AES_256_GCM_SHA384"},
      {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
      {0x1304, "TLS_AES_128_CCM_SHA256"},
      {0x1305, "TLS_AES_128_CCM_8_SHA256"},
      {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
      {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
      {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
      {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
      {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
      {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
      {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
      {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
      {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
      {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
      {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
      {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
      {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
      {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
      {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
  };
  const auto* it = std::lower_bound(std::begin(kSuites), std::end(kSuites), suite,
                                    [](const Entry& e, std::uint16_t id) { return e.id < id; });
  if (it != std::end(kSuites) && it->id == suite) return it->name;
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", suite);
  return buf;
}

}  // namespace netscope::dpi::tls
