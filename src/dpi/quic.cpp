// QUIC long headers, Initial packet opening and the Initial frame walk (see quic.hpp).

#include "dpi/quic.hpp"

#include <cstring>

namespace netscope::dpi::quic {
namespace {

// RFC 9000 §17.2 Table 5 and RFC 9369 §3.2: the two type bits by version.
PacketType long_type(std::uint32_t version, std::uint8_t first) {
  const unsigned bits = (first >> 4) & 0x3u;
  if (version == kVersion2) {
    static constexpr PacketType kV2[4] = {PacketType::retry, PacketType::initial,
                                          PacketType::zero_rtt, PacketType::handshake};
    return kV2[bits];
  }
  static constexpr PacketType kV1[4] = {PacketType::initial, PacketType::zero_rtt,
                                        PacketType::handshake, PacketType::retry};
  return kV1[bits];
}

// RFC 9000 §17.2: connection IDs are at most 20 bytes in version 1 (and 2); RFC 8999
// allows up to 255 in other versions.
constexpr std::size_t kMaxCid = 20;

bool skip_ack(ByteReader& r, bool ecn) {
  std::uint64_t largest = 0;
  std::uint64_t delay = 0;
  std::uint64_t ranges = 0;
  std::uint64_t first = 0;
  if (!r.varint(largest) || !r.varint(delay) || !r.varint(ranges) || !r.varint(first)) return false;
  // Each further range is two varints of at least one byte: the count is bounded by the
  // bytes left, so a huge count fails on the reads, not in a long loop.
  if (ranges > r.remaining() / 2) return false;
  for (std::uint64_t i = 0; i < ranges; ++i) {
    std::uint64_t gap = 0;
    std::uint64_t len = 0;
    if (!r.varint(gap) || !r.varint(len)) return false;
  }
  if (ecn) {
    std::uint64_t c = 0;
    if (!r.varint(c) || !r.varint(c) || !r.varint(c)) return false;
  }
  return true;
}

}  // namespace

bool parse_long_header(Bytes datagram, LongHeader& out) {
  out = LongHeader{};
  ByteReader r(datagram);
  if (!r.u8(out.first) || !is_long_header(out.first) || !r.u32(out.version) || !r.vec8(out.dcid) ||
      !r.vec8(out.scid)) {
    return false;
  }
  if (out.version == 0) {  // RFC 9000 §17.2.1: the rest lists versions
    out.type = PacketType::version_negotiation;
    out.packet_size = datagram.size();
    return r.remaining() % 4 == 0;
  }
  if (!supported_version(out.version)) {
    out.type = PacketType::unknown_version;
    out.packet_size = datagram.size();
    return true;
  }
  if (out.dcid.size() > kMaxCid || out.scid.size() > kMaxCid || (out.first & 0x40) == 0)
    return false;
  out.type = long_type(out.version, out.first);
  if (out.type == PacketType::retry) {  // §17.2.5: token, then a 16-byte integrity tag
    out.packet_size = datagram.size();
    return r.remaining() >= 16;
  }
  if (out.type == PacketType::initial) {
    std::uint64_t token_len = 0;
    if (!r.varint(token_len) || token_len > r.remaining() ||
        !r.take(static_cast<std::size_t>(token_len), out.token)) {
      return false;
    }
  }
  std::uint64_t length = 0;  // packet number + payload
  if (!r.varint(length) || length > r.remaining()) return false;
  out.pn_offset = r.offset();
  out.packet_size = out.pn_offset + static_cast<std::size_t>(length);
  return true;
}

std::uint64_t decode_packet_number(std::uint64_t expected, std::uint64_t truncated, unsigned bits) {
  const std::uint64_t win = std::uint64_t{1} << bits;
  const std::uint64_t hwin = win / 2;
  const std::uint64_t mask = win - 1;
  const std::uint64_t candidate = (expected & ~mask) | truncated;
  if (candidate + hwin <= expected && candidate < (std::uint64_t{1} << 62) - win)
    return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

bool open_packet(Bytes packet, const LongHeader& h, const PacketKeys& keys,
                 std::uint64_t expected_pn, std::vector<std::uint8_t>& scratch,
                 std::vector<std::uint8_t>& plaintext, std::uint64_t& packet_number) {
  // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number's start,
  // whatever the packet number's real length.
  const std::size_t sample_at = h.pn_offset + 4;
  if (h.pn_offset == 0 || packet.size() < sample_at + 16) return false;
  std::array<std::uint8_t, 5> mask{};
  if (!header_protection_mask(keys.hp, packet.subspan(sample_at, 16), mask)) return false;
  const std::uint8_t first = packet[0] ^ (mask[0] & 0x0f);  // §5.4.1: 4 bits in long headers
  const std::size_t pn_len = (first & 0x03u) + 1;
  const std::size_t header_len = h.pn_offset + pn_len;
  scratch.assign(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(header_len));
  scratch[0] = first;
  std::uint64_t truncated = 0;
  for (std::size_t i = 0; i < pn_len; ++i) {
    scratch[h.pn_offset + i] ^= mask[1 + i];
    truncated = (truncated << 8) | scratch[h.pn_offset + i];
  }
  packet_number = decode_packet_number(expected_pn, truncated, static_cast<unsigned>(8 * pn_len));
  return aead_open(keys, packet_number, scratch, packet.subspan(header_len), plaintext);
}

namespace {

// The number of zero bytes `b` starts with.
std::size_t zero_run(Bytes b) {
  std::size_t n = 0;
  while (n + 8 <= b.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, b.data() + n, 8);
    if (w != 0) break;
    n += 8;
  }
  while (n < b.size() && b[n] == 0) ++n;
  return n;
}

}  // namespace

bool walk_initial_frames(Bytes payload, InitialFrames& out) {
  ByteReader r(payload);
  while (!r.empty()) {
    std::uint64_t type = 0;
    if (!r.varint(type)) return false;
    switch (type) {
      case 0x00:  // PADDING (§19.1): a client pads its Initials to 1,200 bytes, so a run
        // of hundreds of these is the rule. Skipped a word at a time, not frame by frame.
        r.skip(zero_run(r.rest()));
        break;
      case 0x01:  // PING (§19.2)
        out.ping = true;
        break;
      case 0x02:  // ACK (§19.3)
      case 0x03:
        if (!skip_ack(r, type == 0x03)) return false;
        out.ack = true;
        break;
      case 0x06: {  // CRYPTO (§19.6)
        std::uint64_t offset = 0;
        std::uint64_t len = 0;
        Bytes data;
        if (!r.varint(offset) || !r.varint(len) || len > r.remaining() ||
            !r.take(static_cast<std::size_t>(len), data)) {
          return false;
        }
        if (out.crypto_count < out.crypto.size()) {
          out.crypto[out.crypto_count++] = CryptoChunk{offset, data};
        } else {
          out.crypto_overflow = true;
        }
        break;
      }
      case 0x1c:    // CONNECTION_CLOSE (§19.19), transport error
      case 0x1d: {  // application error: not allowed in Initial, but a peer may still send it
        std::uint64_t error = 0;
        std::uint64_t frame_type = 0;
        std::uint64_t reason_len = 0;
        if (!r.varint(error) || (type == 0x1c && !r.varint(frame_type)) || !r.varint(reason_len) ||
            reason_len > r.remaining() || !r.skip(static_cast<std::size_t>(reason_len))) {
          return false;
        }
        out.connection_close = true;
        out.close_error = error;
        break;
      }
      default:
        return false;  // §12.4: no other frame may appear in an Initial packet
    }
  }
  return true;
}

}  // namespace netscope::dpi::quic
