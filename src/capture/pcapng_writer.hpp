#pragma once
// PcapngWriter: writes packets to a pcapng file (one Section Header Block, one Interface
// Description Block per add_interface(), an Enhanced Packet Block per packet) with
// nanosecond timestamps, in native byte order. Used to save captures and by tests.
// Write errors (a full disk) do not throw: write() returns false and ok() stays false.

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "capture/raw_packet.hpp"

namespace netscope::capture {

class PcapngWriter {
 public:
  // Creates or truncates `path` and writes the section header. Throws
  // std::runtime_error naming the file when it cannot be created.
  explicit PcapngWriter(const std::string& path);
  ~PcapngWriter();
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  // Returns the new interface's id. snaplen 0 means "no limit" (pcapng §4.2).
  std::uint32_t add_interface(int linktype, std::uint32_t snaplen = 262144,
                              const std::string& name = {});
  bool write(std::uint32_t interface_id, core::Timestamp ts, std::span<const std::uint8_t> data,
             std::uint32_t orig_len);
  bool write(const RawPacket& pkt) {
    return write(pkt.interface_id, pkt.ts, pkt.data, pkt.orig_len);
  }
  // Flushes and closes; returns false if any write failed. The destructor also closes.
  bool close();
  bool ok() const { return ok_; }

 private:
  void put(const void* bytes, std::size_t n);
  void put32(std::uint32_t v) { put(&v, 4); }
  void put16(std::uint16_t v) { put(&v, 2); }
  void pad(std::size_t n);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint32_t interfaces_ = 0;
  bool ok_ = true;
};

}  // namespace netscope::capture
