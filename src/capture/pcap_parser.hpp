#pragma once
// PcapParser: the classic libpcap savefile format (pcap-savefile(5), and
// draft-ietf-opsawg-pcap §4–5): a 24-byte file header, then 16-byte record headers
// each followed by the captured bytes. Handles µs and ns magic in either byte order, and
// the "modified" pcap of Alexey Kuznetsov's patches (0xa1b2cd34, 24-byte records).

#include <cstdint>
#include <span>

#include "capture/input_buffer.hpp"
#include "capture/raw_packet.hpp"
#include "capture/read_context.hpp"

namespace netscope::capture::detail {

// True if the first 4 bytes are a pcap magic number in either byte order.
bool is_pcap_magic(std::span<const std::uint8_t> head);

class PcapParser {
 public:
  // Reads the file header at the cursor. Throws std::runtime_error on a bad header.
  void read_header(InputBuffer& in, ReadContext& ctx);
  bool next(InputBuffer& in, RawPacket& out, ReadContext& ctx) {
    return swapped_ ? next_impl<true>(in, out, ctx) : next_impl<false>(in, out, ctx);
  }

 private:
  template <bool Swapped>
  bool next_impl(InputBuffer& in, RawPacket& out, ReadContext& ctx);
  bool bad_caplen(InputBuffer& in, ReadContext& ctx, std::uint32_t caplen);

  bool swapped_ = false;
  std::uint32_t record_header_ = 16;
  std::int64_t frac_to_ns_ = 1000;  // µs files; 1 for ns files
  std::uint32_t snaplen_ = 0;
  std::uint32_t max_caplen_ = 0;
  int linktype_ = 0;
};

}  // namespace netscope::capture::detail
