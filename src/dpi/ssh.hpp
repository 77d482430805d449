#pragma once
// SSH transport layer (RFC 4253): the identification string each side sends first
// ("SSH-2.0-OpenSSH_9.2p1 Debian-2", §4.2), and the binary packet header (§6) of the
// packets exchanged in the clear until NEWKEYS (§7.3).

#include <cstdint>
#include <string_view>

#include "dpi/reader.hpp"

namespace netscope::dpi::ssh {

inline constexpr std::uint8_t kMsgKexInit = 20;  // RFC 4253 §12
inline constexpr std::uint8_t kMsgNewKeys = 21;

// RFC 4253 §4.2: the identification line is at most 255 characters with its CR LF.
inline constexpr std::size_t kMaxBanner = 255;
// A server may send other lines before it (§4.2); we look through this many bytes.
inline constexpr std::size_t kMaxPreBanner = 4096;
// §6.1: implementations must handle packets of 35000 bytes; KEXINIT and key exchange
// packets are far smaller. A larger length means we are not reading SSH.
inline constexpr std::uint32_t kMaxPacket = 35000;

enum class Status : std::uint8_t { ok, need_more, malformed };

struct Banner {
  std::string_view line;           // the whole identification string, without CR LF
  std::string_view proto_version;  // "2.0" (or "1.99": RFC 4253 §5.1)
  std::string_view software;       // "OpenSSH_9.2p1"
  std::string_view comments;       // "Debian-2", empty when absent
};

// Finds the identification line at the start of a direction. `used` is set to the bytes
// up to and including its line end.
Status parse_banner(std::string_view data, Banner& out, std::size_t& used);

// True when `data` starts with "SSH-" (or could, when `partial`).
bool starts_with_banner(std::string_view data, bool& partial);

struct PacketHeader {
  std::uint32_t packet_length = 0;  // excludes the length field itself and the MAC
  std::uint8_t padding_length = 0;
  std::uint8_t message = 0;  // first payload byte: the message number
  std::size_t total() const { return 4 + std::size_t{packet_length}; }
};

// Reads the header of an unencrypted binary packet (no MAC yet: §6 before NEWKEYS).
Status parse_packet_header(Bytes data, PacketHeader& out);

}  // namespace netscope::dpi::ssh
