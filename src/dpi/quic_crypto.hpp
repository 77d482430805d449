#pragma once
// QUIC Initial packet protection (RFC 9001 §5; RFC 9369 §3.3 for version 2). Initial
// keys derive from the client's Destination Connection ID and a public per-version salt,
// so any observer can remove the protection: that is what lets us read the ClientHello,
// and a successful AEAD open is our proof that a UDP flow really is QUIC.
// OpenSSL provides HMAC-SHA256 (for HKDF), AES-128-ECB (header protection) and
// AES-128-GCM (the AEAD of every Initial packet).

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dpi/reader.hpp"

namespace netscope::dpi::quic {

inline constexpr std::uint32_t kVersion1 = 0x00000001;  // RFC 9000
inline constexpr std::uint32_t kVersion2 = 0x6b3343cf;  // RFC 9369 §3.1

constexpr bool supported_version(std::uint32_t v) {
  return v == kVersion1 || v == kVersion2;
}

struct PacketKeys {
  std::array<std::uint8_t, 16> key{};
  std::array<std::uint8_t, 12> iv{};
  std::array<std::uint8_t, 16> hp{};
};

struct InitialKeys {
  PacketKeys client;  // protects packets the client sends
  PacketKeys server;
};

// HKDF (RFC 5869) with SHA-256 and the TLS 1.3 label format (RFC 8446 §7.1), empty
// context. Exposed for the RFC 9001 Appendix A tests.
std::array<std::uint8_t, 32> hkdf_extract(Bytes salt, Bytes ikm);
void hkdf_expand_label(Bytes secret, std::string_view label, std::uint8_t* out, std::size_t len);

// RFC 9001 §5.2, RFC 9369 §3.3.1-2. False for versions other than 1 and 2.
bool derive_initial_keys(std::uint32_t version, Bytes client_dcid, InitialKeys& out);

// RFC 9001 §5.4.3: the header protection mask, AES-ECB(hp, sample)[0..5).
bool header_protection_mask(const std::array<std::uint8_t, 16>& hp, Bytes sample,
                            std::array<std::uint8_t, 5>& mask);

// RFC 9001 §5.3: AEAD_AES_128_GCM with nonce = iv XOR packet number, the unprotected
// header as associated data. `sealed` is ciphertext followed by the 16-byte tag.
// Returns false when the tag does not verify.
bool aead_open(const PacketKeys& keys, std::uint64_t packet_number, Bytes header, Bytes sealed,
               std::vector<std::uint8_t>& plaintext);

// The inverse, used by the tests to build packets: appends ciphertext and tag to `out`.
bool aead_seal(const PacketKeys& keys, std::uint64_t packet_number, Bytes header, Bytes plaintext,
               std::vector<std::uint8_t>& out);

}  // namespace netscope::dpi::quic
