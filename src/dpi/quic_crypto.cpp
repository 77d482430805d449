// QUIC Initial keys and packet protection with OpenSSL (see quic_crypto.hpp).

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP_Digest*, but they
// are the only way to an HMAC without the EVP layer's allocations, parameter lookups by
// name and context copies, which cost more than the hashing of a QUIC key derivation
// (nine HMACs of one or two blocks per connection). They still use SHA-NI.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "dpi/quic_crypto.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

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
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// A context per cipher and thread, the cipher set once: switching a context between
// ciphers makes OpenSSL free and rebuild the provider's state on every packet. `key` is
// the key last set, so that packets of one flow in a row skip the key schedule.
struct CipherState {
  CipherCtx ctx;
  std::array<std::uint8_t, 16> key{};
  bool keyed = false;
};
// A context set up for `cipher` in one direction, with no key yet; no context when
// OpenSSL fails (the callers then fail each packet).
CipherState make_state(const EVP_CIPHER* cipher, bool encrypt) {
  CipherState st{CipherCtx(EVP_CIPHER_CTX_new())};
  if (!st.ctx) return st;
  const int rc = cipher == nullptr ? 0
                 : encrypt ? EVP_EncryptInit_ex2(st.ctx.get(), cipher, nullptr, nullptr, nullptr)
                           : EVP_DecryptInit_ex2(st.ctx.get(), cipher, nullptr, nullptr, nullptr);
  if (rc != 1) st.ctx.reset();
  return st;
}
CipherState& ecb_state() {
  thread_local CipherState s = [] {
    CipherState st = make_state(aes_128_ecb(), true);
    if (st.ctx && EVP_CIPHER_CTX_set_padding(st.ctx.get(), 0) != 1) st.ctx.reset();
    return st;
  }();
  return s;
}
// GCM, for aead_open() (decrypting) and aead_seal() (tests, fuzzing): one context each.
CipherState& gcm_state(bool encrypt) {
  thread_local CipherState open = make_state(aes_128_gcm(), false);
  thread_local CipherState seal = make_state(aes_128_gcm(), true);
  return encrypt ? seal : open;
}
// The key to pass to a re-initialisation: null when `s` already has it.
const std::uint8_t* new_key(CipherState& s, const std::array<std::uint8_t, 16>& key) {
  if (s.keyed && s.key == key) return nullptr;
  s.key = key;
  s.keyed = true;
  return key.data();
}

// HMAC-SHA256 (RFC 2104) with the key's padded blocks hashed once: HKDF expands one
// secret into several outputs (key, iv, hp), and each then costs two compressions.
class HmacSha256 {
 public:
  explicit HmacSha256(Bytes key) {
    std::array<std::uint8_t, 64> block{};
    if (key.size() > block.size()) {
      SHA256(key.data(), key.size(), block.data());
    } else {
      std::copy(key.begin(), key.end(), block.begin());
    }
    std::array<std::uint8_t, 64> pad{};
    for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x36;
    ok_ = SHA256_Init(&inner_) == 1 && SHA256_Update(&inner_, pad.data(), pad.size()) == 1;
    for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x5c;
    ok_ = ok_ && SHA256_Init(&outer_) == 1 && SHA256_Update(&outer_, pad.data(), pad.size()) == 1;
  }
  // HMAC(key, data) into out[32]; false only when OpenSSL fails.
  bool mac(Bytes data, std::uint8_t* out) const {
    std::array<std::uint8_t, 32> inner_hash{};
    SHA256_CTX c = inner_;
    if (!ok_ || SHA256_Update(&c, data.data(), data.size()) != 1 ||
        SHA256_Final(inner_hash.data(), &c) != 1) {
      return false;
    }
    c = outer_;
    return SHA256_Update(&c, inner_hash.data(), inner_hash.size()) == 1 &&
           SHA256_Final(out, &c) == 1;
  }

 private:
  SHA256_CTX inner_{};
  SHA256_CTX outer_{};
  bool ok_ = false;
};

// RFC 8446 §7.1 HKDF-Expand-Label with an empty context, for a secret already keyed.
void expand_label(const HmacSha256& secret, std::string_view label, std::uint8_t* out,
                  std::size_t len) {
  // HkdfLabel = length (2) || "tls13 " + label (vec8) || context (vec8, empty).
  std::array<std::uint8_t, 2 + 1 + 255 + 1 + 1> info{};
  std::size_t n = 0;
  info[n++] = static_cast<std::uint8_t>(len >> 8);
  info[n++] = static_cast<std::uint8_t>(len);
  constexpr std::string_view kPrefix = "tls13 ";
  const std::size_t label_len = std::min<std::size_t>(kPrefix.size() + label.size(), 255);
  info[n++] = static_cast<std::uint8_t>(label_len);
  for (const char c : kPrefix) info[n++] = static_cast<std::uint8_t>(c);
  for (std::size_t i = 0; i + kPrefix.size() < label_len; ++i) {
    info[n++] = static_cast<std::uint8_t>(label[i]);
  }
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
    if (!secret.mac(Bytes(block.data(), m), t.data())) t.fill(0);
    t_len = t.size();
    for (std::size_t j = 0; j < t_len && done < len; ++j) out[done++] = t[j];
  }
}

std::array<std::uint8_t, 12> nonce_for(const PacketKeys& keys, std::uint64_t pn) {
  std::array<std::uint8_t, 12> nonce = keys.iv;
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
  return nonce;
}

PacketKeys packet_keys(const std::array<std::uint8_t, 32>& secret, bool v2) {
  // RFC 9369 §3.3.2: "quicv2 key", "quicv2 iv", "quicv2 hp" replace the v1 labels.
  PacketKeys k;
  const HmacSha256 keyed(secret);
  expand_label(keyed, v2 ? "quicv2 key" : "quic key", k.key.data(), k.key.size());
  expand_label(keyed, v2 ? "quicv2 iv" : "quic iv", k.iv.data(), k.iv.size());
  expand_label(keyed, v2 ? "quicv2 hp" : "quic hp", k.hp.data(), k.hp.size());
  return k;
}

}  // namespace

std::array<std::uint8_t, 32> hkdf_extract(Bytes salt, Bytes ikm) {
  // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM).
  std::array<std::uint8_t, 32> prk{};
  HmacSha256(salt).mac(ikm, prk.data());
  return prk;
}

void hkdf_expand_label(Bytes secret, std::string_view label, std::uint8_t* out, std::size_t len) {
  expand_label(HmacSha256(secret), label, out, len);
}

bool derive_initial_keys(std::uint32_t version, Bytes client_dcid, InitialKeys& out) {
  if (!supported_version(version)) return false;
  const bool v2 = version == kVersion2;
  // The salts are fixed: their padded blocks are hashed once.
  static const HmacSha256 salt_v1{Bytes(kSaltV1)};
  static const HmacSha256 salt_v2{Bytes(kSaltV2)};
  std::array<std::uint8_t, 32> initial{};
  if (!(v2 ? salt_v2 : salt_v1).mac(client_dcid, initial.data())) return false;
  std::array<std::uint8_t, 32> client{};
  std::array<std::uint8_t, 32> server{};
  // RFC 9001 §5.2: the labels "client in" / "server in" are the same in version 2.
  const HmacSha256 keyed(initial);
  expand_label(keyed, "client in", client.data(), client.size());
  expand_label(keyed, "server in", server.data(), server.size());
  out.client = packet_keys(client, v2);
  out.server = packet_keys(server, v2);
  return true;
}

bool header_protection_mask(const std::array<std::uint8_t, 16>& hp, Bytes sample,
                            std::array<std::uint8_t, 5>& mask) {
  if (sample.size() < 16) return false;
  CipherState& s = ecb_state();
  std::array<std::uint8_t, 32> block{};
  int len = 0;
  if (!s.ctx) return false;
  const std::uint8_t* key = new_key(s, hp);
  if ((key != nullptr && EVP_EncryptInit_ex2(s.ctx.get(), nullptr, key, nullptr, nullptr) != 1) ||
      EVP_EncryptUpdate(s.ctx.get(), block.data(), &len, sample.data(), 16) != 1 || len != 16) {
    s.keyed = false;
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
  CipherState& s = gcm_state(false);
  EVP_CIPHER_CTX* ctx = s.ctx.get();
  plaintext.resize(body + 16);
  int len = 0;
  int fin = 0;
  std::array<std::uint8_t, kTag> tag{};
  for (std::size_t i = 0; i < kTag; ++i) tag[i] = sealed[body + i];
  // AES-128-GCM's default IV length is the 12 bytes QUIC uses (RFC 9001 §5.3).
  const bool ok =
      ctx != nullptr &&
      EVP_DecryptInit_ex2(ctx, nullptr, new_key(s, keys.key), nonce.data(), nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, header.data(), static_cast<int>(header.size())) == 1 &&
      EVP_DecryptUpdate(ctx, plaintext.data(), &len, sealed.data(), static_cast<int>(body)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, plaintext.data() + len, &fin) == 1;
  plaintext.resize(ok ? static_cast<std::size_t>(len + fin) : 0);
  if (ctx != nullptr && !ok) s.keyed = false;  // a failure may leave the key unset
  return ok;
}

bool aead_seal(const PacketKeys& keys, std::uint64_t packet_number, Bytes header, Bytes plaintext,
               std::vector<std::uint8_t>& out) {
  const auto nonce = nonce_for(keys, packet_number);
  CipherState& s = gcm_state(true);
  EVP_CIPHER_CTX* ctx = s.ctx.get();
  const std::size_t at = out.size();
  out.resize(at + plaintext.size() + 16 + 16);
  int len = 0;
  int fin = 0;
  const bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex2(ctx, nullptr, new_key(s, keys.key), nonce.data(), nullptr) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, header.data(), static_cast<int>(header.size())) == 1 &&
      EVP_EncryptUpdate(ctx, out.data() + at, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, out.data() + at + len, &fin) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + at + len + fin) == 1;
  out.resize(ok ? at + static_cast<std::size_t>(len + fin) + 16 : at);
  if (ctx != nullptr && !ok) s.keyed = false;
  return ok;
}

}  // namespace netscope::dpi::quic
