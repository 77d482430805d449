#pragma once
// TLS client fingerprints computed from a parsed ClientHello.
//
// JA3 (Salesforce, 2017): "version,ciphers,extensions,groups,point_formats", decimal
// values joined by '-', GREASE values left out, then MD5 in lower-case hex. This is what
// tshark 4.0 prints as tls.handshake.ja3_full and tls.handshake.ja3.
//
// JA4 (FoxIO, technical_details/JA4.md): "t13d1516h2_8daaf6152771_e5627efa2ab1" —
// transport, version, SNI, cipher and extension counts, ALPN, then truncated SHA-256 of
// the sorted ciphers and of the sorted extensions followed by the signature algorithms.

#include <string>

#include "dpi/tls.hpp"

namespace netscope::dpi::tls {

std::string ja3_string(const ClientHello& hello);
std::string ja3_hash(const ClientHello& hello);  // MD5 of ja3_string, 32 hex digits

// `transport`: 't' for TLS over TCP, 'q' for QUIC, 'd' for DTLS.
std::string ja4(const ClientHello& hello, char transport);
// JA4_r: the same with the raw lists instead of their hashes (for tests and debugging).
std::string ja4_raw(const ClientHello& hello, char transport);

}  // namespace netscope::dpi::tls
