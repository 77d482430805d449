// QUIC Initial keys and packet protection with OpenSSL (see quic_crypto.hpp).

#include "dpi/quic_crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace netscope::dpi::quic {
namespace {

// RFC 9001 §5.2 initial_salt; RFC 9369 §3.3.1 for version 2.
constexpr std::array<std::uint8_t, 20> kSaltV1{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                               0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                               0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr std::array<std::uint8_t, 20> kSaltV2{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6,
                                               0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
                                               0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

// OpenSSL 3 looks an algorithm up by name on every call that names it implicitly
// (EVP_aes_128_gcm(), HMAC()); that lookup costs more than the work on one packet. The
// algorithms are fetched once, and each packet thread keeps its own contexts.
const EVP_CIPHER* cipher(const char* name) {
  return EVP_CIPHER_fetch(nullptr, name, nullptr);
}
const EVP_CIPHER* aes_128_gcm() {
  static const EVP_CIPHER* const c = cipher("AES-128-GCM");
  return c;
}
const EVP_CIPHER* aes_128_ecb() {
  static const EVP_CIPHER* const c = cipher("AES-128-ECB");
  return c;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

EVP_CIPHER_CTX* cipher_ctx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

// An HMAC-SHA256 context with the digest already set; EVP_MAC_init() takes each key.
EVP_MAC_CTX* hmac_ctx() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx = [] {
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> c(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (c && EVP_MAC_CTX_set_params(c.get(), params) != 1) c.reset();
    return c;
  }();
  return ctx.get();
}

// HMAC-SHA256(key, data) into out[32]; false only when OpenSSL fails. HKDF calls it
// several times in a row with one key (a secret expanded into key, iv and hp): the
// context then keeps its keyed state (EVP_MAC_init without a key re-initialises it),
// which saves the key schedule, most of an HMAC's cost.
bool hmac_sha256(Bytes key, Bytes data, std::uint8_t* out) {
  thread_local std::array<std::uint8_t, 64> last_key{};
  thread_local std::size_t last_key_len = 0;  // 0: no key set yet (or the last init failed)
  EVP_MAC_CTX* ctx = hmac_ctx();
  if (ctx == nullptr) return false;
  const bool same = last_key_len != 0 && key.size() == last_key_len &&
                    std::equal(key.begin(), key.end(), last_key.begin());
  last_key_len = 0;
  if (EVP_MAC_init(ctx, same ? nullptr : key.data(), same ? 0 : key.size(), nullptr) != 1) {
    return false;
  }
  if (key.size() <= last_key.size() && !key.empty()) {
    std::copy(key.begin(), key.end(), last_key.begin());
    last_key_len = key.size();
  }
  std::size_t len = 0;
  return EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
         EVP_MAC_final(ctx, out, &len, 32) == 1 && len == 32;
}

std::array<std::uint8_t, 12> nonce_for(const PacketKeys& keys, std::uint64_t pn) {
  std::array<std::uint8_t, 12> nonce = keys.iv;
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
  return nonce;
}

PacketKeys packet_keys(const std::array<std::uint8_t, 32>& secret, bool v2) {
  // RFC 9369 §3.3.2: "quicv2 key", "quicv2 iv", "quicv2 hp" replace the v1 labels.
  PacketKeys k;
  hkdf_expand_label(secret, v2 ? "quicv2 key" : "quic key", k.key.data(), k.key.size());
  hkdf_expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k.iv.data(), k.iv.size());
  hkdf_expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k.hp.data(), k.hp.size());
  return k;
}

}  // namespace

std::array<std::uint8_t, 32> hkdf_extract(Bytes salt, Bytes ikm) {
  // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM).
  std::array<std::uint8_t, 32> prk{};
  hmac_sha256(salt, ikm, prk.data());
  return prk;
}

void hkdf_expand_label(Bytes secret, std::string_view label, std::uint8_t* out, std::size_t len) {
  // RFC 8446 §7.1: HkdfLabel = length (2) || "tls13 " + label (vec8) || context (vec8, empty).
  std::array<std::uint8_t, 2 + 1 + 255 + 1 + 1> info{};
  std::size_t n = 0;
  info[n++] = static_cast<std::uint8_t>(len >> 8);
  info[n++] = static_cast<std::uint8_t>(len);
  constexpr std::string_view kPrefix = "tls13 ";
  const std::size_t label_len = kPrefix.size() + label.size();
  info[n++] = static_cast<std::uint8_t>(label_len);
  for (const char c : kPrefix) info[n++] = static_cast<std::uint8_t>(c);
  for (const char c : label) info[n++] = static_cast<std::uint8_t>(c);
  info[n++] = 0;  // empty context
  // RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) || info || i); OKM = T(1) || T(2) ...
  std::array<std::uint8_t, 32 + sizeof info + 1> block{};
  std::array<std::uint8_t, 32> t{};
  std::size_t t_len = 0;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < len; ++i) {
    std::size_t m = 0;
    for (std::size_t j = 0; j < t_len; ++j) block[m++] = t[j];
    for (std::size_t j = 0; j < n; ++j) block[m++] = info[j];
    block[m++] = i;
    hmac_sha256(secret, Bytes(block.data(), m), t.data());
    t_len = t.size();
    for (std::size_t j = 0; j < t_len && done < len; ++j) out[done++] = t[j];
  }
}

bool derive_initial_keys(std::uint32_t version, Bytes client_dcid, InitialKeys& out) {
  if (!supported_version(version)) return false;
  const bool v2 = version == kVersion2;
  const auto initial = hkdf_extract(v2 ? Bytes(kSaltV2) : Bytes(kSaltV1), client_dcid);
  std::array<std::uint8_t, 32> client{};
  std::array<std::uint8_t, 32> server{};
  // RFC 9001 §5.2: the labels "client in" / "server in" are the same in version 2.
  hkdf_expand_label(initial, "client in", client.data(), client.size());
  hkdf_expand_label(initial, "server in", server.data(), server.size());
  out.client = packet_keys(client, v2);
  out.server = packet_keys(server, v2);
  return true;
}

bool header_protection_mask(const std::array<std::uint8_t, 16>& hp, Bytes sample,
                            std::array<std::uint8_t, 5>& mask) {
  if (sample.size() < 16) return false;
  EVP_CIPHER_CTX* ctx = cipher_ctx();
  std::array<std::uint8_t, 32> block{};
  int len = 0;
  if (ctx == nullptr || aes_128_ecb() == nullptr ||
      EVP_EncryptInit_ex2(ctx, aes_128_ecb(), hp.data(), nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
      EVP_EncryptUpdate(ctx, block.data(), &len, sample.data(), 16) != 1 || len != 16) {
    return false;
  }
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = block[i];
  return true;
}

bool aead_open(const PacketKeys& keys, std::uint64_t packet_number, Bytes header, Bytes sealed,
               std::vector<std::uint8_t>& plaintext) {
  constexpr std::size_t kTag = 16;
  if (sealed.size() < kTag) return false;
  const std::size_t body = sealed.size() - kTag;
  const auto nonce = nonce_for(keys, packet_number);
  EVP_CIPHER_CTX* ctx = cipher_ctx();
  plaintext.resize(body + 16);
  int len = 0;
  int fin = 0;
  std::array<std::uint8_t, kTag> tag{};
  for (std::size_t i = 0; i < kTag; ++i) tag[i] = sealed[body + i];
  // AES-128-GCM's default IV length is the 12 bytes QUIC uses (RFC 9001 §5.3).
  const bool ok =
      ctx != nullptr && aes_128_gcm() != nullptr &&
      EVP_DecryptInit_ex2(ctx, aes_128_gcm(), keys.key.data(), nonce.data(), nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, header.data(), static_cast<int>(header.size())) == 1 &&
      EVP_DecryptUpdate(ctx, plaintext.data(), &len, sealed.data(), static_cast<int>(body)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, plaintext.data() + len, &fin) == 1;
  plaintext.resize(ok ? static_cast<std::size_t>(len + fin) : 0);
  return ok;
}

bool aead_seal(const PacketKeys& keys, std::uint64_t packet_number, Bytes header, Bytes plaintext,
               std::vector<std::uint8_t>& out) {
  const auto nonce = nonce_for(keys, packet_number);
  EVP_CIPHER_CTX* ctx = cipher_ctx();
  const std::size_t at = out.size();
  out.resize(at + plaintext.size() + 16 + 16);
  int len = 0;
  int fin = 0;
  const bool ok =
      ctx != nullptr && aes_128_gcm() != nullptr &&
      EVP_EncryptInit_ex2(ctx, aes_128_gcm(), keys.key.data(), nonce.data(), nullptr) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, header.data(), static_cast<int>(header.size())) == 1 &&
      EVP_EncryptUpdate(ctx, out.data() + at, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, out.data() + at + len, &fin) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + at + len + fin) == 1;
  out.resize(ok ? at + static_cast<std::size_t>(len + fin) + 16 : at);
  return ok;
}

}  // namespace netscope::dpi::quic
