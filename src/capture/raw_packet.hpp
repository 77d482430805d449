#pragma once
// RawPacket: one captured frame as handed from a PacketSource to the decoder. The bytes
// are borrowed: they stay valid until the next call to the source's next().

#include <cstdint>
#include <span>

#include "core/timestamp.hpp"

namespace netscope::capture {

struct RawPacket {
  core::Timestamp ts;
  std::span<const std::uint8_t> data;  // the captured bytes (caplen == data.size())
  std::uint32_t orig_len = 0;          // length on the wire
  int linktype = 0;                    // LINKTYPE_* value (pcap-linktype(7))
  std::uint32_t interface_id = 0;      // pcapng interface index, 0 for pcap and live
  std::uint64_t file_offset = 0;       // byte offset of the record in the (decompressed) file
};

}  // namespace netscope::capture
