#pragma once
// TLS handshake messages (RFC 8446 §4, RFC 5246 §7.4): the record layer framing around
// them, the ClientHello with the extensions fingerprints and names come from, and the
// ServerHello with the version and cipher the server chose. The same ClientHello parser
// serves TLS over TCP and QUIC's CRYPTO stream (RFC 9001 §4), which carries handshake
// messages without records.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dpi/reader.hpp"

namespace netscope::dpi::tls {

inline constexpr std::uint8_t kContentHandshake = 22;  // RFC 8446 §5.1 ContentType
inline constexpr std::uint8_t kClientHello = 1;        // HandshakeType
inline constexpr std::uint8_t kServerHello = 2;

namespace ext {
inline constexpr std::uint16_t server_name = 0;        // RFC 6066 §3
inline constexpr std::uint16_t supported_groups = 10;  // RFC 8422 §5.1.1, RFC 8446 §4.2.7
inline constexpr std::uint16_t ec_point_formats = 11;
inline constexpr std::uint16_t signature_algorithms = 13;  // RFC 8446 §4.2.3
inline constexpr std::uint16_t alpn = 16;                  // RFC 7301 §3.1
inline constexpr std::uint16_t supported_versions = 43;    // RFC 8446 §4.2.1
}  // namespace ext

// GREASE values (RFC 8701 §2): 0x0a0a, 0x1a1a, ... 0xfafa. Fingerprints skip them.
constexpr bool is_grease(std::uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

struct ClientHello {
  std::uint16_t legacy_version = 0;          // client_version / legacy_version
  std::vector<std::uint16_t> cipher_suites;  // in order, GREASE included
  std::vector<std::uint16_t> extensions;     // types in order, GREASE included
  std::vector<std::uint16_t> supported_versions;
  std::vector<std::uint16_t> groups;
  std::vector<std::uint8_t> ec_point_formats;
  std::vector<std::uint16_t> signature_algorithms;
  std::vector<std::string> alpn;  // protocol names in order
  std::string sni;                // first host_name entry; empty when absent
  bool has_sni = false;           // the server_name extension is present

  // The highest version offered: supported_versions without GREASE, else legacy_version.
  std::uint16_t max_version() const;
  // Empties every field but keeps the vectors' capacity, so that a ClientHello reused
  // across parses does not allocate once warm.
  void clear();
};

struct ServerHello {
  std::uint16_t legacy_version = 0;
  std::uint16_t selected_version = 0;  // supported_versions extension (TLS 1.3), else 0
  std::uint16_t cipher_suite = 0;
  std::string alpn;  // selected protocol (TLS <= 1.2; TLS 1.3 moves it into encrypted extensions)
  bool hello_retry_request = false;  // RFC 8446 §4.1.3 special random value

  std::uint16_t version() const {
    return selected_version != 0 ? selected_version : legacy_version;
  }
};

// Bodies of handshake messages (after the 4-byte type + length header). False when the
// body is malformed; `out` then holds what was parsed before the fault.
bool parse_client_hello(Bytes body, ClientHello& out);
bool parse_server_hello(Bytes body, ServerHello& out);

enum class Status : std::uint8_t { ok, need_more, malformed, not_handshake };

// Finds the first handshake message of a TLS record stream (the start of one TCP
// direction): checks that records are handshake records of a plausible version, and
// joins the message's fragments when it spans several records (RFC 8446 §5.1). `type` and
// `body` describe the message. The body points into `stream` when the message lies in one
// record, else into `scratch`. `max_message` bounds the message length accepted.
Status first_handshake_message(Bytes stream, std::size_t max_message,
                               std::vector<std::uint8_t>& scratch, std::uint8_t& type, Bytes& body);

// True when `data` starts like a TLS handshake record (type 22, version 3.x, sane
// length). `partial`: too short to tell yet, but consistent so far.
bool looks_like_handshake_record(Bytes data, bool& partial);

// Names for display: "TLS 1.3", "TLS 1.2", ..., "0x7f1c" when unknown.
std::string version_name(std::uint16_t v);
// IANA cipher suite name ("TLS_AES_128_GCM_SHA256"), or "0xc0ff" when not in our table.
std::string cipher_name(std::uint16_t suite);

}  // namespace netscope::dpi::tls
