#include "capture/pcapng_parser.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "core/bytes.hpp"

namespace netscope::capture::detail {
namespace {

// pcapng §11.1 block type codes.
constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescription = 0x00000001;
constexpr std::uint32_t kObsoletePacket = 0x00000002;  // pcapng Appendix A
constexpr std::uint32_t kSimplePacket = 0x00000003;
constexpr std::uint32_t kEnhancedPacket = 0x00000006;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
// pcapng §4.2 option codes.
constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptIfName = 2;
constexpr std::uint16_t kOptIfTsresol = 9;
constexpr std::uint16_t kOptIfTsoffset = 14;
// Real files have a handful of interfaces (126 in the largest merged file we know of).
// The cap keeps a hostile file from growing the interface table without bound.
constexpr std::size_t kMaxInterfaces = 65536;
constexpr std::size_t kMaxIfName = 256;

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

std::string hex32(std::uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(v >> shift) & 0xf];
  return s;
}

bool bad_length(std::uint32_t len) {
  return len < 12 || len % 4 != 0;
}

}  // namespace

bool is_pcapng_magic(std::span<const std::uint8_t> head) {
  return head.size() >= 4 && core::load_le32(head.data()) == kSectionHeader;
}

std::int64_t InterfaceClock::to_ns(std::uint64_t units) const {
  UInt128 ns;
  if (power_of_two) {
    ns = (UInt128{units} * 1'000'000'000u) >> shift;
  } else {
    ns = UInt128{units} * multiplier;
    if (divisor != 1) ns /= divisor;
  }
  Int128 total = static_cast<Int128>(ns) + Int128{offset_seconds} * 1'000'000'000;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  if (total > kMax) return kMax;
  if (total < kMin) return kMin;
  return static_cast<std::int64_t>(total);
}

std::uint32_t PcapngParser::rd32(const std::uint8_t* p) const {
  std::uint32_t v = core::load_le32(p);
  return swapped_ ? __builtin_bswap32(v) : v;
}

std::uint16_t PcapngParser::rd16(const std::uint8_t* p) const {
  std::uint16_t v = core::load_le16(p);
  return swapped_ ? __builtin_bswap16(v) : v;
}

void PcapngParser::read_header(InputBuffer& in, ReadContext& ctx) {
  if (!section_header(in, ctx)) throw std::runtime_error(ctx.error);
  RawPacket unused;
  bool packet = false;
  // Stops at the first packet block (left for next()), at the end, or at damage, which
  // next() then reports: damage after a good section header is a read error, not an
  // open error.
  while (step(in, unused, ctx, packet, true) && !packet) {
  }
}

bool PcapngParser::next(InputBuffer& in, RawPacket& out, ReadContext& ctx) {
  bool packet = false;
  while (step(in, out, ctx, packet, false)) {
    if (packet) {
      ++ctx.packets;
      return true;
    }
  }
  return false;
}

bool PcapngParser::section_header(InputBuffer& in, ReadContext& ctx) {
  const std::uint64_t at = in.offset();
  const std::uint8_t* h = in.ensure(12);
  if (h == nullptr) return ctx.stopped(in, 12, "a section header block");
  // pcapng §4.1: the byte-order magic decides how every later field is read.
  const std::uint32_t bom = core::load_le32(h + 8);
  if (bom == kByteOrderMagic) {
    swapped_ = false;
  } else if (__builtin_bswap32(bom) == kByteOrderMagic) {
    swapped_ = true;
  } else {
    return ctx.corrupt(at, "section header has a bad byte-order magic " + hex32(bom));
  }
  const std::uint32_t len = rd32(h + 4);
  if (bad_length(len) || len < 28 || len > ctx.max_record) {
    return ctx.corrupt(at, "section header has an impossible total length " + std::to_string(len));
  }
  const std::uint8_t* b = in.ensure(len);
  if (b == nullptr) return ctx.stopped(in, len, "a section header block");
  if (rd32(b + len - 4) != len) {
    return ctx.corrupt(at, "section header's trailing length does not match its total length " +
                               std::to_string(len));
  }
  const unsigned major = rd16(b + 12);
  const unsigned minor = rd16(b + 14);
  // pcapng §4.1: readers must reject major versions they do not know. The section
  // length (b + 16) may be -1 ("unknown") and is not needed for sequential reading.
  if (major != 1) {
    return ctx.corrupt(
        at, "unsupported pcapng version " + std::to_string(major) + "." + std::to_string(minor));
  }
  // Interface ids are per section (pcapng §4.2).
  ctx.interfaces.clear();
  clocks_.clear();
  in.consume(len);
  return true;
}

bool PcapngParser::step(InputBuffer& in, RawPacket& out, ReadContext& ctx, bool& packet,
                        bool stop_before_packet) {
  packet = false;
  const std::uint8_t* h = in.ensure(8);
  if (h == nullptr) [[unlikely]]
    return ctx.stopped(in, 8, "a block header");
  const std::uint32_t type = rd32(h);
  if (type == kSectionHeader) [[unlikely]]
    return section_header(in, ctx);
  const std::uint32_t len = rd32(h + 4);
  const std::uint64_t at = in.offset();
  // pcapng §3.1: the total length counts the 12 bytes of framing and is a multiple of 4.
  if (bad_length(len) || len > ctx.max_record) [[unlikely]] {
    return ctx.corrupt(at, "block of type " + hex32(type) + " has an impossible total length " +
                               std::to_string(len));
  }
  const bool is_packet =
      type == kEnhancedPacket || type == kSimplePacket || type == kObsoletePacket;
  if (is_packet && stop_before_packet) {
    packet = true;
    return true;
  }
  const std::uint8_t* b = in.ensure(len);
  if (b == nullptr) [[unlikely]] {
    return ctx.stopped(in, len, is_packet ? ctx.packet_name() : "a block of type " + hex32(type));
  }
  if (rd32(b + len - 4) != len) [[unlikely]] {
    return ctx.corrupt(at, "block of type " + hex32(type) + " has trailing length " +
                               std::to_string(rd32(b + len - 4)) + ", total length " +
                               std::to_string(len));
  }
  const std::span<const std::uint8_t> body{b + 8, len - 12};
  if (is_packet) {
    if (!packet_block(type, body, at, out, ctx)) return false;
    packet = true;
  } else if (type == kInterfaceDescription) {
    if (!interface_block(body, at, ctx)) return false;
  }
  // Everything else (name resolution, statistics, decryption secrets, custom blocks,
  // pcapng §4.5–4.7, §5) carries nothing the engine needs, and is skipped.
  in.consume(len);
  return true;
}

bool PcapngParser::interface_block(std::span<const std::uint8_t> body, std::uint64_t at,
                                   ReadContext& ctx) {
  if (body.size() < 8) return ctx.corrupt(at, "interface description block is too short");
  if (ctx.interfaces.size() >= kMaxInterfaces) {
    return ctx.corrupt(at, "more than " + std::to_string(kMaxInterfaces) + " interfaces");
  }
  InterfaceInfo info{rd16(body.data()), rd32(body.data() + 4), {}};
  InterfaceClock clock;  // pcapng §4.2: the default resolution is microseconds
  // Options (pcapng §3.5): code, length, value padded to 32 bits. A malformed option list
  // ends the options but not the block: the fields above are what matters.
  std::size_t pos = 8;
  while (body.size() - pos >= 4) {
    const std::uint16_t code = rd16(body.data() + pos);
    const std::uint16_t olen = rd16(body.data() + pos + 2);
    pos += 4;
    if (code == kOptEnd || olen > body.size() - pos) break;
    const std::uint8_t* v = body.data() + pos;
    if (code == kOptIfName) {
      std::size_t n = std::min<std::size_t>(olen, kMaxIfName);
      while (n > 0 && v[n - 1] == 0) --n;
      info.name.assign(reinterpret_cast<const char*>(v), n);
    } else if (code == kOptIfTsresol && olen >= 1) {
      // pcapng §4.2 if_tsresol: high bit clear = 10^-k seconds, set = 2^-k seconds.
      const unsigned k = v[0] & 0x7fu;
      clock = InterfaceClock{0, 1, 0, false, clock.offset_seconds};
      if (v[0] & 0x80u) {
        clock.power_of_two = true;
        clock.shift = k;  // < 128, so the 128-bit shift in to_ns is defined
      } else if (k <= 9) {
        clock.multiplier = 1;
        for (unsigned i = k; i < 9; ++i) clock.multiplier *= 10;
      } else if (k <= 28) {
        clock.multiplier = 1;
        for (unsigned i = 9; i < k; ++i) clock.divisor *= 10;  // 10^19 still fits
      }  // finer than 10^-28 s: every 64-bit count is below 1 ns, multiplier stays 0
    } else if (code == kOptIfTsoffset && olen >= 8) {
      std::uint64_t raw = core::load_le64(v);
      if (swapped_) raw = __builtin_bswap64(raw);
      clock.offset_seconds = static_cast<std::int64_t>(raw);
    }
    pos += (std::size_t{olen} + 3) & ~std::size_t{3};
    if (pos > body.size()) break;
  }
  ctx.interfaces.push_back(std::move(info));
  clocks_.push_back(clock);
  return true;
}

bool PcapngParser::packet_block(std::uint32_t type, std::span<const std::uint8_t> body,
                                std::uint64_t at, RawPacket& out, ReadContext& ctx) {
  const std::uint8_t* p = body.data();
  std::uint32_t iface = 0;
  std::uint32_t caplen = 0;
  std::uint32_t origlen = 0;
  std::size_t data_at = 20;
  bool has_ts = true;
  if (type == kEnhancedPacket) {
    // pcapng §4.3: interface id, timestamp (high, low), captured and original length.
    if (body.size() < 20) return ctx.corrupt(at, "enhanced packet block is too short");
    iface = rd32(p);
    caplen = rd32(p + 12);
    origlen = rd32(p + 16);
  } else if (type == kObsoletePacket) {
    // pcapng Appendix A: like an EPB with a 16-bit interface id and a drops count.
    if (body.size() < 20) return ctx.corrupt(at, "packet block is too short");
    iface = rd16(p);
    caplen = rd32(p + 12);
    origlen = rd32(p + 16);
  } else {
    // pcapng §4.4: Simple Packet Block — interface 0, no timestamp, and the captured
    // length is implied: the original length cut to the snaplen and to the block.
    if (body.size() < 4) return ctx.corrupt(at, "simple packet block is too short");
    if (ctx.interfaces.empty()) {
      return ctx.corrupt(at, "simple packet block before any interface description block");
    }
    origlen = rd32(p);
    std::size_t room = body.size() - 4;
    std::uint32_t snaplen = ctx.interfaces[0].snaplen;
    std::size_t cap = std::min<std::size_t>(origlen, room);
    if (snaplen != 0) cap = std::min<std::size_t>(cap, snaplen);
    caplen = static_cast<std::uint32_t>(cap);
    data_at = 4;
    has_ts = false;
  }
  if (caplen > body.size() - data_at) {
    return ctx.corrupt(at, ctx.packet_name() + " has captured length " + std::to_string(caplen) +
                               " but its block holds only " +
                               std::to_string(body.size() - data_at));
  }
  if (iface >= ctx.interfaces.size()) {
    return ctx.corrupt(at, ctx.packet_name() + " refers to interface " + std::to_string(iface) +
                               " but the section has " + std::to_string(ctx.interfaces.size()));
  }
  if (has_ts) {
    const std::uint64_t units = (std::uint64_t{rd32(p + 4)} << 32) | rd32(p + 8);
    last_ts_.ns = clocks_[iface].to_ns(units);
  }
  // An SPB has no timestamp; repeating the previous one keeps packet time monotonic,
  // which the flow engine's clock relies on (STYLE.md §7).
  out.ts = last_ts_;
  out.data = {p + data_at, caplen};
  out.orig_len = std::max(origlen, caplen);  // see PcapParser: tolerate caplen > origlen
  out.linktype = ctx.interfaces[iface].linktype;
  out.interface_id = iface;
  out.file_offset = at;
  return true;
}

}  // namespace netscope::capture::detail
