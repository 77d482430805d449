// JA3 and JA4 (see tls_fingerprint.hpp). Hashes use OpenSSL's EVP digests with a
// per-thread context; the texts hashed are built in per-thread buffers.

#include "dpi/tls_fingerprint.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <string_view>
#include <vector>

namespace netscope::dpi::tls {
namespace {

// Fetched once: naming an algorithm on every call makes OpenSSL 3 look it up each time.
const EVP_MD* md5() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}
const EVP_MD* sha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// Digests of texts already hashed on this thread. A client sends the same hello on every
// connection, so most fingerprints are found here: JA4 sorts its lists and stays the same
// across Chrome's shuffled extension order; JA3 does not. Direct-mapped and bounded
// (kSlots entries per cache); keyed by the whole text, so a hit is exact.
class DigestCache {
 public:
  static constexpr std::size_t kSlots = 256;

  // The digest's hex digits cached for `text`, or nullptr.
  const std::string* find(std::string_view text) const {
    const Entry& e = entries_[slot(text)];
    return e.used && e.text == text ? &e.hex : nullptr;
  }
  void put(std::string_view text, std::string_view hex) {
    Entry& e = entries_[slot(text)];
    e.text.assign(text);
    e.hex.assign(hex);
    e.used = true;
  }

 private:
  struct Entry {
    std::string text;
    std::string hex;
    bool used = false;
  };
  static std::size_t slot(std::string_view text) {
    return std::hash<std::string_view>{}(text) % kSlots;
  }
  std::array<Entry, kSlots> entries_;
};

// Reused by every fingerprint computed on this thread, so that the packet path does not
// allocate once warm: the text being hashed, a list of values, the digest context
// (EVP_Digest would allocate and free one per call), and the digests already computed.
struct Scratch {
  std::string text;
  std::vector<std::uint16_t> values;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  DigestCache ja3;  // MD5, 32 hex digits
  DigestCache ja4;  // SHA-256, 12 hex digits
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { EVP_MD_CTX_free(ctx); }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

constexpr char kHex[] = "0123456789abcdef";

// The first `hex_digits` lower-case hex digits of the digest of `text` appended to
// `out`; nothing when OpenSSL fails (no algorithm).
void append_digest(const EVP_MD* algorithm, std::string_view text, std::size_t hex_digits,
                   std::string& out) {
  EVP_MD_CTX* ctx = scratch().ctx;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (algorithm == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx, algorithm, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, md, &len) != 1) {
    return;
  }
  hex_digits = std::min<std::size_t>(hex_digits, 2 * std::size_t{len});
  for (std::size_t i = 0; i < hex_digits; ++i) {
    out += kHex[(md[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xf];
  }
}

// append_digest() through `cache`.
void append_cached_digest(DigestCache& cache, const EVP_MD* algorithm, std::string_view text,
                          std::size_t hex_digits, std::string& out) {
  if (const std::string* hex = cache.find(text)) {
    out += *hex;
    return;
  }
  const std::size_t at = out.size();
  append_digest(algorithm, text, hex_digits, out);
  if (out.size() == at + hex_digits) cache.put(text, std::string_view(out).substr(at));
}

void append_decimal(std::string& out, unsigned v) {
  char buf[12];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// The lists are written straight into the string, grown once to the longest the list
// can take (5 digits and a separator per value) and cut back after.
template <typename T>
void append_decimal_list(std::string& out, const std::vector<T>& values, bool skip_grease) {
  const std::size_t at = out.size();
  out.resize(at + 6 * values.size());
  char* p = out.data() + at;
  char* const end = out.data() + out.size();
  bool first = true;
  for (const T v : values) {
    if (skip_grease && is_grease(static_cast<std::uint16_t>(v))) continue;
    if (!first) *p++ = '-';
    p = std::to_chars(p, end, static_cast<unsigned>(v)).ptr;
    first = false;
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

void append_hex4_list(std::string& out, const std::vector<std::uint16_t>& values) {
  if (values.empty()) return;
  const std::size_t at = out.size();
  out.resize(at + 5 * values.size() - 1);
  char* p = out.data() + at;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) *p++ = ',';
    for (int shift = 12; shift >= 0; shift -= 4) *p++ = kHex[(values[i] >> shift) & 0xf];
  }
}

void assign_without_grease(const std::vector<std::uint16_t>& values,
                           std::vector<std::uint16_t>& out) {
  out.clear();
  for (const std::uint16_t v : values) {
    if (!is_grease(v)) out.push_back(v);
  }
}

std::size_t count_without_grease(const std::vector<std::uint16_t>& values) {
  return static_cast<std::size_t>(
      std::count_if(values.begin(), values.end(), [](std::uint16_t v) { return !is_grease(v); }));
}

// JA4 §"TLS and DTLS Version": the highest supported_versions entry, else the
// ClientHello's version; the record (handshake header) version is ignored.
const char* ja4_version(const ClientHello& h) {
  switch (h.max_version()) {
    case 0x0304:
      return "13";
    case 0x0303:
      return "12";
    case 0x0302:
      return "11";
    case 0x0301:
      return "10";
    case 0x0300:
      return "s3";
    case 0x0002:
      return "s2";
    case 0xfeff:
      return "d1";
    case 0xfefd:
      return "d2";
    case 0xfefc:
      return "d3";
    default:
      return "00";
  }
}

constexpr bool alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// JA4 §"ALPN Extension Value": first and last character of the first ALPN value; when
// either is not alphanumeric, the first and last hex digits of the value instead.
void append_ja4_alpn(std::string& out, const ClientHello& h) {
  if (h.alpn.empty() || h.alpn.front().empty()) {
    out += "00";
    return;
  }
  const std::string& a = h.alpn.front();
  const auto first = static_cast<unsigned char>(a.front());
  const auto last = static_cast<unsigned char>(a.back());
  if (alnum(first) && alnum(last)) {
    out += static_cast<char>(first);
    out += static_cast<char>(last);
  } else {
    out += kHex[first >> 4];
    out += kHex[last & 0xf];
  }
}

void append_two_digits(std::string& out, std::size_t n) {
  n = std::min<std::size_t>(n, 99);
  out += static_cast<char>('0' + n / 10);
  out += static_cast<char>('0' + n % 10);
}

// JA4 part a: "t13d1516h2".
void append_ja4_a(std::string& out, const ClientHello& h, char transport) {
  out += transport;
  out += ja4_version(h);
  out += h.has_sni ? 'd' : 'i';
  append_two_digits(out, count_without_grease(h.cipher_suites));
  append_two_digits(out, count_without_grease(h.extensions));
  append_ja4_alpn(out, h);
}

// The sorted cipher list of JA4 part b (raw form) into `text`; false when it is empty.
bool ja4_ciphers(const ClientHello& h, Scratch& s) {
  assign_without_grease(h.cipher_suites, s.values);
  std::sort(s.values.begin(), s.values.end());
  s.text.clear();
  append_hex4_list(s.text, s.values);
  return !s.values.empty();
}

// The sorted extensions without SNI and ALPN, then "_" and the signature algorithms in
// their order (JA4 part c, raw form) into `text`; false when there are no extensions.
bool ja4_extensions(const ClientHello& h, Scratch& s) {
  assign_without_grease(h.extensions, s.values);
  std::erase_if(s.values, [](std::uint16_t e) { return e == ext::server_name || e == ext::alpn; });
  std::sort(s.values.begin(), s.values.end());
  const bool any = !s.values.empty();
  s.text.clear();
  append_hex4_list(s.text, s.values);
  assign_without_grease(h.signature_algorithms, s.values);
  if (!s.values.empty()) {
    s.text += '_';
    append_hex4_list(s.text, s.values);
  }
  return any;
}

// "version,ciphers,extensions,groups,point_formats" (tls_fingerprint.hpp).
void append_ja3(std::string& out, const ClientHello& h) {
  append_decimal(out, h.legacy_version);
  out += ',';
  append_decimal_list(out, h.cipher_suites, true);
  out += ',';
  append_decimal_list(out, h.extensions, true);
  out += ',';
  append_decimal_list(out, h.groups, true);
  out += ',';
  append_decimal_list(out, h.ec_point_formats, false);
}

}  // namespace

std::string ja3_string(const ClientHello& h) {
  std::string out;
  append_ja3(out, h);
  return out;
}

std::string ja3_hash(const ClientHello& h) {
  Scratch& s = scratch();
  s.text.clear();
  append_ja3(s.text, h);
  std::string out;
  out.reserve(32);
  append_cached_digest(s.ja3, md5(), s.text, 32, out);
  return out;
}

std::string ja4(const ClientHello& h, char transport) {
  Scratch& s = scratch();
  std::string out;
  out.reserve(36);
  append_ja4_a(out, h, transport);
  // JA4 §"Cipher hash" / §"Extension hash": an empty list gives twelve zeros, not the
  // hash of an empty string.
  out += '_';
  if (ja4_ciphers(h, s)) {
    append_cached_digest(s.ja4, sha256(), s.text, 12, out);
  } else {
    out.append(12, '0');
  }
  out += '_';
  if (ja4_extensions(h, s)) {
    append_cached_digest(s.ja4, sha256(), s.text, 12, out);
  } else {
    out.append(12, '0');
  }
  return out;
}

std::string ja4_raw(const ClientHello& h, char transport) {
  Scratch& s = scratch();
  std::string out;
  append_ja4_a(out, h, transport);
  out += '_';
  ja4_ciphers(h, s);
  out += s.text;
  out += '_';
  ja4_extensions(h, s);
  out += s.text;
  return out;
}

}  // namespace netscope::dpi::tls
