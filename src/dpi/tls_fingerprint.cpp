// JA3 and JA4 (see tls_fingerprint.hpp). Hashes use OpenSSL's EVP one-shot digests.

#include "dpi/tls_fingerprint.hpp"

#include <openssl/evp.h>

#include <algorithm>
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

std::string hex_digest(const EVP_MD* algorithm, const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (algorithm == nullptr ||
      EVP_Digest(text.data(), text.size(), md, &len, algorithm, nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (std::size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0xf];
  }
  return out;
}

template <typename T>
void append_decimal_list(std::string& out, const std::vector<T>& values, bool skip_grease) {
  bool first = true;
  for (const T v : values) {
    if (skip_grease && is_grease(static_cast<std::uint16_t>(v))) continue;
    if (!first) out += '-';
    out += std::to_string(v);
    first = false;
  }
}

void append_hex4(std::string& out, std::uint16_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xf];
}

std::string join_hex4(const std::vector<std::uint16_t>& values) {
  std::string out;
  for (const std::uint16_t v : values) {
    if (!out.empty()) out += ',';
    append_hex4(out, v);
  }
  return out;
}

std::vector<std::uint16_t> without_grease(const std::vector<std::uint16_t>& values) {
  std::vector<std::uint16_t> out;
  out.reserve(values.size());
  for (const std::uint16_t v : values) {
    if (!is_grease(v)) out.push_back(v);
  }
  return out;
}

// JA4 §"TLS and DTLS Version": the highest supported_versions entry, else the
// ClientHello's version; the record (handshake header) version is ignored.
std::string ja4_version(const ClientHello& h) {
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
std::string ja4_alpn(const ClientHello& h) {
  if (h.alpn.empty() || h.alpn.front().empty()) return "00";
  const std::string& a = h.alpn.front();
  const auto first = static_cast<unsigned char>(a.front());
  const auto last = static_cast<unsigned char>(a.back());
  if (alnum(first) && alnum(last))
    return std::string{static_cast<char>(first), static_cast<char>(last)};
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[first >> 4], kHex[last & 0xf]};
}

std::string two_digits(std::size_t n) {
  n = std::min<std::size_t>(n, 99);
  return std::string{static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}

struct Ja4Parts {
  std::string a;        // t13d1516h2
  std::string ciphers;  // sorted, comma-joined
  std::string exts;     // sorted without SNI/ALPN, then "_" + signature algorithms
  bool no_ciphers = false;
  bool no_exts = false;
};

Ja4Parts ja4_parts(const ClientHello& h, char transport) {
  Ja4Parts p;
  std::vector<std::uint16_t> ciphers = without_grease(h.cipher_suites);
  std::vector<std::uint16_t> exts = without_grease(h.extensions);
  p.a = std::string(1, transport) + ja4_version(h) + (h.has_sni ? "d" : "i") +
        two_digits(ciphers.size()) + two_digits(exts.size()) + ja4_alpn(h);
  std::sort(ciphers.begin(), ciphers.end());
  p.no_ciphers = ciphers.empty();
  p.ciphers = join_hex4(ciphers);
  std::erase_if(exts, [](std::uint16_t e) { return e == ext::server_name || e == ext::alpn; });
  std::sort(exts.begin(), exts.end());
  p.no_exts = exts.empty();
  p.exts = join_hex4(exts);
  const std::vector<std::uint16_t> sigs = without_grease(h.signature_algorithms);
  if (!sigs.empty()) p.exts += "_" + join_hex4(sigs);
  return p;
}

}  // namespace

std::string ja3_string(const ClientHello& h) {
  std::string out = std::to_string(h.legacy_version);
  out += ',';
  append_decimal_list(out, h.cipher_suites, true);
  out += ',';
  append_decimal_list(out, h.extensions, true);
  out += ',';
  append_decimal_list(out, h.groups, true);
  out += ',';
  append_decimal_list(out, h.ec_point_formats, false);
  return out;
}

std::string ja3_hash(const ClientHello& h) {
  return hex_digest(md5(), ja3_string(h));
}

std::string ja4(const ClientHello& h, char transport) {
  const Ja4Parts p = ja4_parts(h, transport);
  // JA4 §"Cipher hash" / §"Extension hash": an empty list gives twelve zeros, not the
  // hash of an empty string.
  const std::string b =
      p.no_ciphers ? std::string(12, '0') : hex_digest(sha256(), p.ciphers).substr(0, 12);
  const std::string c =
      p.no_exts ? std::string(12, '0') : hex_digest(sha256(), p.exts).substr(0, 12);
  return p.a + "_" + b + "_" + c;
}

std::string ja4_raw(const ClientHello& h, char transport) {
  const Ja4Parts p = ja4_parts(h, transport);
  return p.a + "_" + p.ciphers + "_" + p.exts;
}

}  // namespace netscope::dpi::tls
