#include "capture/pcap_parser.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/bytes.hpp"

namespace netscope::capture::detail {
namespace {

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;
constexpr std::uint32_t kMagicModified = 0xa1b2cd34;  // Kuznetsov's patched libpcap
constexpr std::uint32_t kFileHeader = 24;
// libpcap's MAXIMUM_SNAPLEN: the largest packet it will write or read for most link types.
constexpr std::uint32_t kLibpcapMaxSnaplen = 262144;
// pcap-linktype(7): the low 26 bits are the link type; the top bits carry FCS information.
constexpr std::uint32_t kLinktypeMask = 0x03ffffff;

template <bool Swapped>
std::uint32_t rd32(const std::uint8_t* p) {
  std::uint32_t v = core::load_le32(p);
  return Swapped ? __builtin_bswap32(v) : v;
}

bool is_magic(std::uint32_t m) {
  return m == kMagicMicro || m == kMagicNano || m == kMagicModified;
}

}  // namespace

bool is_pcap_magic(std::span<const std::uint8_t> head) {
  if (head.size() < 4) return false;
  std::uint32_t m = core::load_le32(head.data());
  return is_magic(m) || is_magic(__builtin_bswap32(m));
}

void PcapParser::read_header(InputBuffer& in, ReadContext& ctx) {
  const std::uint8_t* h = in.ensure(kFileHeader);
  if (h == nullptr) {
    throw std::runtime_error(ctx.path + ": pcap file header is truncated (" +
                             std::to_string(in.available()) + " of 24 bytes)");
  }
  std::uint32_t magic = core::load_le32(h);
  swapped_ = !is_magic(magic);
  if (swapped_) magic = __builtin_bswap32(magic);
  auto rd16 = [&](std::size_t off) {
    std::uint16_t v = core::load_le16(h + off);
    return swapped_ ? __builtin_bswap16(v) : v;
  };
  auto rd = [&](std::size_t off) { return swapped_ ? rd32<true>(h + off) : rd32<false>(h + off); };
  const unsigned major = rd16(4);
  const unsigned minor = rd16(6);
  // Every pcap writer since 1998 writes 2.4; libpcap still reads 2.x, and so do we.
  if (major != 2) {
    throw std::runtime_error(ctx.path + ": unsupported pcap version " + std::to_string(major) +
                             "." + std::to_string(minor) + " (expected 2.x)");
  }
  frac_to_ns_ = magic == kMagicNano ? 1 : 1000;
  record_header_ = magic == kMagicModified ? 24 : 16;
  snaplen_ = rd(16);
  linktype_ = static_cast<int>(rd(20) & kLinktypeMask);
  // A snaplen of 0 or one above libpcap's maximum is what broken writers produce; libpcap
  // reads such files using its maximum, so records up to 256 KiB are always accepted.
  // Records above both the snaplen and 256 KiB are corrupt (libpcap agrees), and nothing
  // is accepted above the streaming bound.
  max_caplen_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(ctx.max_record, std::max(snaplen_, kLibpcapMaxSnaplen)));
  ctx.interfaces.assign(1, InterfaceInfo{linktype_, snaplen_, {}});
  in.consume(kFileHeader);
}

bool PcapParser::bad_caplen(InputBuffer& in, ReadContext& ctx, std::uint32_t caplen) {
  return ctx.corrupt(in.offset(), ctx.packet_name() + " has captured length " +
                                      std::to_string(caplen) + ", above the snaplen " +
                                      std::to_string(snaplen_) + " and the limit " +
                                      std::to_string(max_caplen_));
}

template <bool Swapped>
bool PcapParser::next_impl(InputBuffer& in, RawPacket& out, ReadContext& ctx) {
  const std::uint8_t* h = in.ensure(record_header_);
  if (h == nullptr) [[unlikely]]
    return ctx.stopped(in, record_header_, ctx.packet_name());
  const std::uint32_t sec = rd32<Swapped>(h);
  const std::uint32_t frac = rd32<Swapped>(h + 4);
  const std::uint32_t caplen = rd32<Swapped>(h + 8);
  const std::uint32_t origlen = rd32<Swapped>(h + 12);
  if (caplen > max_caplen_) [[unlikely]]
    return bad_caplen(in, ctx, caplen);
  const std::size_t need = record_header_ + std::size_t{caplen};
  const std::uint8_t* p = in.ensure(need);
  if (p == nullptr) [[unlikely]]
    return ctx.stopped(in, need, ctx.packet_name());

  // Unsigned seconds reach 2106. A fraction ≥ 1 s (timestamp_invalid_micro.pcap) is
  // carried into the seconds rather than rejected: the packet itself is fine. Both terms
  // are below 2^63 together, so this cannot overflow.
  out.ts.ns = std::int64_t{sec} * 1'000'000'000 + std::int64_t{frac} * frac_to_ns_;
  out.data = {p + record_header_, caplen};
  // caplen > origlen breaks the format's promise, but tshark shows such packets; keep
  // them, and keep orig_len >= caplen so byte counts never undercount what we hold.
  out.orig_len = std::max(origlen, caplen);
  out.linktype = linktype_;
  out.interface_id = 0;
  out.file_offset = in.offset();
  in.consume(need);
  ++ctx.packets;
  return true;
}

template bool PcapParser::next_impl<true>(InputBuffer&, RawPacket&, ReadContext&);
template bool PcapParser::next_impl<false>(InputBuffer&, RawPacket&, ReadContext&);

}  // namespace netscope::capture::detail
