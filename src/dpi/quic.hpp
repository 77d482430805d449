#pragma once
// QUIC packets as an observer sees them (RFC 9000 §17, RFC 9369 §3.2): long headers,
// Initial packets opened with the Initial keys (quic_crypto.hpp), and the frames an
// Initial packet may carry (RFC 9000 §12.4: PADDING, PING, ACK, CRYPTO,
// CONNECTION_CLOSE).

#include <array>
#include <cstdint>
#include <vector>

#include "dpi/quic_crypto.hpp"
#include "dpi/reader.hpp"

namespace netscope::dpi::quic {

enum class PacketType : std::uint8_t {
  initial,
  zero_rtt,
  handshake,
  retry,
  version_negotiation,
  unknown_version,  // a long header of a version we do not know: invariants only (RFC 8999)
};

struct LongHeader {
  std::uint8_t first = 0;  // first byte, still protected
  std::uint32_t version = 0;
  PacketType type = PacketType::unknown_version;
  Bytes dcid;
  Bytes scid;
  Bytes token;                  // Initial only
  std::size_t pn_offset = 0;    // Initial, 0-RTT, Handshake: where the packet number starts
  std::size_t packet_size = 0;  // bytes of this packet in the datagram (coalescing, §12.2)
};

constexpr bool is_long_header(std::uint8_t first) {
  return (first & 0x80) != 0;
}

// Parses the long header packet at the start of `datagram`. False when it is not a
// well-formed long header (or claims more bytes than the datagram holds).
bool parse_long_header(Bytes datagram, LongHeader& out);

// RFC 9000 §A.3: the full packet number closest to `expected` with these low bits.
std::uint64_t decode_packet_number(std::uint64_t expected, std::uint64_t truncated, unsigned bits);

// Removes header protection and opens an Initial (or any long header) packet
// `packet` (exactly packet_size bytes) with `keys`. `expected_pn` is one more than the
// largest packet number seen from that side (0 at first). On success `plaintext` holds
// the frames and `packet_number` the decoded number. False when the packet is too short
// or the AEAD tag does not verify.
bool open_packet(Bytes packet, const LongHeader& h, const PacketKeys& keys,
                 std::uint64_t expected_pn, std::vector<std::uint8_t>& scratch,
                 std::vector<std::uint8_t>& plaintext, std::uint64_t& packet_number);

struct CryptoChunk {
  std::uint64_t offset = 0;
  Bytes data;
};

struct InitialFrames {
  static constexpr std::size_t kMaxCrypto = 32;
  std::array<CryptoChunk, kMaxCrypto> crypto{};
  std::size_t crypto_count = 0;
  bool crypto_overflow = false;  // more CRYPTO frames than kMaxCrypto
  bool connection_close = false;
  std::uint64_t close_error = 0;
  bool ack = false;
  bool ping = false;
};

// Walks the frames of an opened Initial packet. False on a malformed frame or a frame
// type an Initial packet may not carry; frames before it are kept in `out`.
bool walk_initial_frames(Bytes payload, InitialFrames& out);

}  // namespace netscope::dpi::quic
