#pragma once
// PcapngParser: the pcapng format (draft-ietf-opsawg-pcapng, "pcapng" below). Reads
// Section Header Blocks in either byte order (a new section resets the interfaces),
// Interface Description Blocks with their link type, snaplen, if_name, if_tsresol and
// if_tsoffset, and packets from Enhanced, Simple and obsolete Packet Blocks. Every other
// block type is skipped. Each interface keeps its own link type, snaplen and clock,
// which is why files libpcap refuses (mixed link types) read fine here.

#include <cstdint>
#include <span>
#include <vector>

#include "capture/input_buffer.hpp"
#include "capture/raw_packet.hpp"
#include "capture/read_context.hpp"

namespace netscope::capture::detail {

// True if the first 4 bytes are a Section Header Block type (pcapng §4.1).
bool is_pcapng_magic(std::span<const std::uint8_t> head);

// Converts an interface's 64-bit timestamp units to Unix nanoseconds (pcapng §4.2
// if_tsresol and if_tsoffset). Saturates instead of overflowing past year 2262.
struct InterfaceClock {
  std::uint64_t multiplier = 1000;  // units -> ns when resolution is 10^-k, k <= 9
  std::uint64_t divisor = 1;        // units -> ns when resolution is 10^-k, k > 9
  unsigned shift = 0;               // resolution 2^-shift
  bool power_of_two = false;
  std::int64_t offset_seconds = 0;
  std::int64_t to_ns(std::uint64_t units) const;
};

class PcapngParser {
 public:
  // Reads the first Section Header Block and the blocks up to the first packet, so that
  // interfaces() is known after open(). Throws std::runtime_error if the SHB is bad.
  void read_header(InputBuffer& in, ReadContext& ctx);
  bool next(InputBuffer& in, RawPacket& out, ReadContext& ctx);

 private:
  std::uint32_t rd32(const std::uint8_t* p) const;
  std::uint16_t rd16(const std::uint8_t* p) const;
  // Processes the block at the cursor. Returns false on damage; sets `packet` when it
  // filled `out`. `stop_before_packet` leaves packet blocks unconsumed (used by open).
  bool step(InputBuffer& in, RawPacket& out, ReadContext& ctx, bool& packet,
            bool stop_before_packet);
  bool section_header(InputBuffer& in, ReadContext& ctx);
  bool interface_block(std::span<const std::uint8_t> body, std::uint64_t at, ReadContext& ctx);
  bool packet_block(std::uint32_t type, std::span<const std::uint8_t> body, std::uint64_t at,
                    RawPacket& out, ReadContext& ctx);

  bool swapped_ = false;
  std::vector<InterfaceClock> clocks_;  // parallel to ctx.interfaces
  core::Timestamp last_ts_{};
};

}  // namespace netscope::capture::detail
