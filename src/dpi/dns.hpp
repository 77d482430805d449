#pragma once
// DNS messages (RFC 1035 §4.1): the header, the first question, and the A, AAAA and
// CNAME records of every section, with name compression (§4.1.4) bounded against loops
// and overlong names. Over TCP each message carries a 2-byte length prefix (RFC 1035
// §4.2.2, RFC 7766 §8); next_tcp_message() takes them apart.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dpi/dns_answer.hpp"
#include "dpi/reader.hpp"

namespace netscope::dpi::dns {

namespace rr {
inline constexpr std::uint16_t a = 1;
inline constexpr std::uint16_t cname = 5;
inline constexpr std::uint16_t aaaa = 28;
inline constexpr std::uint16_t opt = 41;  // RFC 6891 §6.1
}  // namespace rr

enum class Section : std::uint8_t { answer, authority, additional };

struct Record {
  Section section = Section::answer;
  DnsAnswer answer;
};

struct Message {
  std::uint16_t id = 0;
  bool response = false;
  std::uint8_t opcode = 0;
  std::uint16_t rcode = 0;  // header RCODE, extended by the OPT record when present
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  std::uint16_t nscount = 0;
  std::uint16_t arcount = 0;
  bool has_question = false;
  std::string qname;  // "." for the root
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::vector<Record> records;  // A, AAAA and CNAME records, in message order
  // Set by the owner, kept by clear(): false leaves `records` empty (the records are still
  // read and checked, and an OPT record still extends `rcode`).
  bool keep_records = true;
  // Records of the kinds above read so far, stored or not (past 64 the rest are skipped).
  std::uint16_t record_count = 0;

  // Empties every field but keeps the capacity of qname and records, so that a Message
  // reused across parses does not allocate once warm.
  void clear();
};

// Name limits (RFC 1035 §2.3.4): labels up to 63 octets, names up to 255 octets on the
// wire. Compression pointers must point before the label they replace, so a chain of
// them always ends; we cap the chain anyway.
inline constexpr std::size_t kMaxName = 255;
inline constexpr std::size_t kMaxLabel = 63;
inline constexpr std::size_t kMaxPointers = 32;

// Reads the (possibly compressed) name at `pos` in `msg`; `pos` moves past its encoding
// in place. With `out` null the name is only checked and skipped. Dots separate labels; a '.' or
// '\\' inside a label is escaped with a backslash, and bytes outside visible ASCII as \DDD (the
// presentation form of RFC 4343 §2.1). Returns false when malformed.
bool read_name(Bytes msg, std::size_t& pos, std::string* out);

// Parses a whole message. Returns false when the header or the question is malformed;
// records after a malformed one are not read (the header fields stay valid).
bool parse_message(Bytes msg, Message& out);

// A message with nothing past its last record and a plausible header: how DNS is told
// from other UDP payloads on ports that do not say DNS.
bool strict_parse(Bytes msg, Message& out);

// The first length-prefixed message at the start of a TCP stream: true and `msg` set
// (with `used` = 2 + its length) when all of it is present.
bool next_tcp_message(Bytes stream, Bytes& msg, std::size_t& used);

// RCODE names (RFC 6895 §2.3, IANA DNS RCODEs): "NOERROR", "FORMERR", "SERVFAIL",
// "NXDOMAIN", "NOTIMP", "REFUSED", ...; "RCODE<n>" for unassigned values.
std::string rcode_name(std::uint16_t rcode);
// RR type mnemonics ("A", "AAAA", "MX", ...), "TYPE<n>" when unknown (RFC 3597 §5).
std::string qtype_name(std::uint16_t type);

}  // namespace netscope::dpi::dns
