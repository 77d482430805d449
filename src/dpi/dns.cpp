// DNS message parsing (RFC 1035 §4.1). Every read is bounds-checked; names are bounded
// by kMaxName/kMaxLabel and compression chains by strictly decreasing pointer targets, so
// a hostile message (the "zlip" pointer loop, absurd counts) ends in a few steps.

#include "dpi/dns.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace netscope::dpi::dns {
namespace {

// Records kept per message: enough for any real answer, bounded for hostile ones.
constexpr std::size_t kMaxRecords = 64;

constexpr bool plain(std::uint8_t c) {
  return c > 0x20 && c < 0x7f && c != '.' && c != '\\';
}

// How each byte of a label is shown: itself, after a backslash ('.' and '\\'), or as
// "\\ddd" (RFC 4343 §2.1 presentation format).
enum class Shown : std::uint8_t { plain, escaped, decimal };
constexpr std::array<Shown, 256> kShown = [] {
  std::array<Shown, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const auto b = static_cast<std::uint8_t>(c);
    t[b] = plain(b) ? Shown::plain : (b == '.' || b == '\\') ? Shown::escaped : Shown::decimal;
  }
  return t;
}();

// A name's text is at most 4 characters per label octet plus the dots: with its wire
// form bounded by kMaxName octets (lengths included), 4 * kMaxName.
constexpr std::size_t kMaxText = 4 * kMaxName;

// Appends `label` in presentation form at text[n], returning the new length. Host names
// are plain characters: those are copied whole, the rest byte by byte.
std::size_t put_label(char* text, std::size_t n, Bytes label) {
  const auto is_plain = [](std::uint8_t c) { return kShown[c] == Shown::plain; };
  if (std::all_of(label.begin(), label.end(), is_plain)) {
    std::memcpy(text + n, label.data(), label.size());
    return n + label.size();
  }
  for (const std::uint8_t c : label) {
    if (kShown[c] == Shown::plain) {
      text[n++] = static_cast<char>(c);
    } else if (kShown[c] == Shown::escaped) {
      text[n++] = '\\';
      text[n++] = static_cast<char>(c);
    } else {
      text[n++] = '\\';
      text[n++] = static_cast<char>('0' + c / 100);
      text[n++] = static_cast<char>('0' + c / 10 % 10);
      text[n++] = static_cast<char>('0' + c % 10);
    }
  }
  return n;
}

bool parse_record(Bytes msg, ByteReader& r, Section section, Message& out) {
  std::size_t pos = r.offset();
  if (!read_name(msg, pos, nullptr)) return false;  // the owner name: checked, not kept
  r = ByteReader(msg);
  r.skip(pos);
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  Bytes rdata;
  if (!r.u16(type) || !r.u16(klass) || !r.u32(ttl) || !r.vec16(rdata)) return false;
  if (type == rr::opt) {
    // RFC 6891 §6.1.3: the TTL's top byte holds the upper 8 bits of a 12-bit RCODE.
    out.rcode = static_cast<std::uint16_t>(((ttl >> 24) << 4) | (out.rcode & 0xf));
    return true;
  }
  // Past kMaxRecords records of the kinds we keep, the rest are not looked into; the
  // count is the same whether they are stored or not (keep_records), so that what a
  // message is accepted as does not depend on it.
  if (out.record_count >= kMaxRecords) return true;
  Record rec;
  rec.section = section;
  rec.answer.type = type;
  if (type == rr::a && rdata.size() == 4) {
    rec.answer.address =
        core::IpAddress::from_v4(std::span<const std::uint8_t, 4>(rdata.data(), 4));
  } else if (type == rr::aaaa && rdata.size() == 16) {
    rec.answer.address =
        core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(rdata.data(), 16));
  } else if (type == rr::cname) {
    // Not kept: checked all the same (strict_parse tells DNS from other payloads with it).
    std::size_t at = static_cast<std::size_t>(rdata.data() - msg.data());
    if (!read_name(msg, at, out.keep_records ? &rec.answer.target : nullptr)) return false;
  } else {
    return true;  // a type we do not keep
  }
  ++out.record_count;
  if (out.keep_records) out.records.push_back(std::move(rec));
  return true;
}

bool parse(Bytes msg, Message& out, bool strict) {
  out.clear();
  ByteReader r(msg);
  std::uint16_t flags = 0;
  if (!r.u16(out.id) || !r.u16(flags) || !r.u16(out.qdcount) || !r.u16(out.ancount) ||
      !r.u16(out.nscount) || !r.u16(out.arcount)) {
    return false;
  }
  out.response = (flags & 0x8000) != 0;
  out.opcode = static_cast<std::uint8_t>((flags >> 11) & 0xf);
  out.rcode = flags & 0xf;
  if (strict) {
    // One question, a defined opcode (RFC 6895 §2.2), the reserved Z bit clear.
    if (out.qdcount != 1 || out.opcode == 3 || out.opcode > 6 || (flags & 0x0040) != 0) {
      return false;
    }
  }
  for (std::uint16_t i = 0; i < out.qdcount; ++i) {
    std::size_t pos = r.offset();
    // The first question is kept (read straight into qname); the others are checked.
    if (!read_name(msg, pos, i == 0 ? &out.qname : nullptr)) return false;
    r = ByteReader(msg);
    r.skip(pos);
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    if (!r.u16(qtype) || !r.u16(qclass)) return false;
    if (i == 0) {
      out.has_question = true;
      out.qtype = qtype;
      out.qclass = qclass;
    }
  }
  const std::array<std::pair<std::uint16_t, Section>, 3> sections{{
      {out.ancount, Section::answer},
      {out.nscount, Section::authority},
      {out.arcount, Section::additional},
  }};
  for (const auto& [count, section] : sections) {
    for (std::uint16_t i = 0; i < count; ++i) {
      if (!parse_record(msg, r, section, out)) return !strict;
    }
  }
  return !strict || r.empty();
}

}  // namespace

bool read_name(Bytes msg, std::size_t& pos, std::string* out) {
  // Decoded into a buffer on the stack and assigned once: most names are kept (the
  // question, CNAME targets), and appending label by label to the string cost a capacity
  // check per piece.
  std::array<char, kMaxText> text;
  std::size_t n = 0;
  bool empty = true;
  std::size_t p = pos;
  std::size_t limit = pos;  // a pointer must point before this (RFC 1035 §4.1.4: prior occurrence)
  std::size_t wire = 0;     // octets of the uncompressed name
  std::size_t pointers = 0;
  bool jumped = false;
  while (true) {
    if (p >= msg.size()) return false;
    const std::uint8_t len = msg[p];
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= msg.size()) return false;
      const std::size_t target = (std::size_t{len & 0x3fu} << 8) | msg[p + 1];
      if (target >= limit || ++pointers > kMaxPointers) return false;
      if (!jumped) pos = p + 2;
      jumped = true;
      limit = target;
      p = target;
      continue;
    }
    if ((len & 0xc0) != 0) return false;  // 0x40/0x80: extended label types (RFC 6891 §5)
    wire += 1 + len;
    if (wire > kMaxName) return false;
    if (len == 0) {
      if (!jumped) pos = p + 1;
      if (out != nullptr) {
        if (empty) {
          *out = ".";
        } else {
          out->assign(text.data(), n);
        }
      }
      return true;
    }
    if (p + 1 + len > msg.size()) return false;
    if (out != nullptr) {
      if (!empty) text[n++] = '.';
      n = put_label(text.data(), n, msg.subspan(p + 1, len));
    }
    empty = false;
    p += 1 + len;
  }
}

}  // namespace netscope::dpi::dns

namespace netscope::dpi {

std::string DnsAnswer::text() const {
  if (type == dns::rr::cname) return target;
  // An IPv4-mapped AAAA must still read as IPv6.
  if (type == dns::rr::aaaa && address.is_v4()) return "::ffff:" + address.to_string();
  return address.to_string();
}

}  // namespace netscope::dpi

namespace netscope::dpi::dns {

void Message::clear() {
  id = 0;
  response = false;
  opcode = 0;
  rcode = 0;
  qdcount = ancount = nscount = arcount = 0;
  has_question = false;
  qname.clear();
  qtype = 0;
  qclass = 0;
  records.clear();
  record_count = 0;
}

bool parse_message(Bytes msg, Message& out) {
  return parse(msg, out, false);
}

bool strict_parse(Bytes msg, Message& out) {
  return parse(msg, out, true);
}

bool next_tcp_message(Bytes stream, Bytes& msg, std::size_t& used) {
  ByteReader r(stream);
  if (!r.vec16(msg)) return false;
  used = r.offset();
  return true;
}

std::string rcode_name(std::uint16_t rcode) {
  static constexpr std::array<std::string_view, 12> kNames{
      "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
      "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI"};
  if (rcode < kNames.size()) return std::string(kNames[rcode]);
  switch (rcode) {
    case 16:
      return "BADVERS";
    case 17:
      return "BADKEY";
    case 18:
      return "BADTIME";
    case 19:
      return "BADMODE";
    case 20:
      return "BADNAME";
    case 21:
      return "BADALG";
    case 22:
      return "BADTRUNC";
    case 23:
      return "BADCOOKIE";
    default:
      return "RCODE" + std::to_string(rcode);
  }
}

std::string qtype_name(std::uint16_t type) {
  struct Entry {
    std::uint16_t type;
    std::string_view name;
  };
  static constexpr Entry kTypes[] = {
      {1, "A"},           {2, "NS"},      {5, "CNAME"},   {6, "SOA"},       {12, "PTR"},
      {13, "HINFO"},      {15, "MX"},     {16, "TXT"},    {17, "RP"},       {18, "AFSDB"},
      {24, "SIG"},        {25, "KEY"},    {28, "AAAA"},   {29, "LOC"},      {33, "SRV"},
      {35, "NAPTR"},      {36, "KX"},     {37, "CERT"},   {39, "DNAME"},    {41, "OPT"},
      {42, "APL"},        {43, "DS"},     {44, "SSHFP"},  {45, "IPSECKEY"}, {46, "RRSIG"},
      {47, "NSEC"},       {48, "DNSKEY"}, {49, "DHCID"},  {50, "NSEC3"},    {51, "NSEC3PARAM"},
      {52, "TLSA"},       {53, "SMIMEA"}, {55, "HIP"},    {59, "CDS"},      {60, "CDNSKEY"},
      {61, "OPENPGPKEY"}, {62, "CSYNC"},  {63, "ZONEMD"}, {64, "SVCB"},     {65, "HTTPS"},
      {99, "SPF"},        {249, "TKEY"},  {250, "TSIG"},  {251, "IXFR"},    {252, "AXFR"},
      {255, "ANY"},       {256, "URI"},   {257, "CAA"},
  };
  for (const Entry& e : kTypes) {
    if (e.type == type) return std::string(e.name);
  }
  return "TYPE" + std::to_string(type);
}

}  // namespace netscope::dpi::dns
