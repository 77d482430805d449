#pragma once
// PcapngWriter: writes packets to a pcapng file (one Section Header Block, one Interface
// Description Block per add_interface(), an Enhanced Packet Block per packet) with
// nanosecond timestamps, in native byte order. Used to save captures, by the per-process
// recorder (monitor/recorder.hpp) and by tests. The section header can carry the
// pcapng §4.1 options (comment, hardware, OS, application) and each packet a comment
// (§4.3 opt_comment). Write errors (a full disk) do not throw: write() returns false and
// ok() stays false.

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/raw_packet.hpp"

namespace netscope::capture {

struct PcapngWriterOptions {
  // Section header options (pcapng §4.1); empty ones are left out.
  std::string comment;      // opt_comment
  std::string hardware;     // shb_hardware
  std::string os;           // shb_os
  std::string application;  // shb_userappl
  // The file: created with this mode; with `exclusive` an existing file is an error
  // (EEXIST) rather than truncated.
  unsigned mode = 0644;
  bool exclusive = false;
};

class PcapngWriter {
 public:
  // Creates or truncates `path` and writes the section header. Throws
  // std::runtime_error naming the file when it cannot be created.
  explicit PcapngWriter(const std::string& path);
  // The same with section header options, file mode and exclusive creation. The
  // exception's message names the file and the reason; errno_value() of a failed
  // exclusive creation is not available, so callers test for the file first if they care.
  PcapngWriter(const std::string& path, const PcapngWriterOptions& options);
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
  // The same with an opt_comment on the packet (empty: none), such as the process name.
  bool write(std::uint32_t interface_id, core::Timestamp ts, std::span<const std::uint8_t> data,
             std::uint32_t orig_len, std::string_view comment);
  // Hands buffered blocks to the kernel; false when that (or an earlier write) failed,
  // e.g. ENOSPC. last_errno() then says why.
  bool flush();
  // Flushes and closes; returns false if any write failed. The destructor also closes.
  bool close();
  bool ok() const { return ok_; }
  int last_errno() const { return errno_; }
  // Bytes written so far (all blocks), for size caps.
  std::uint64_t bytes() const { return bytes_; }

 private:
  void put(const void* bytes, std::size_t n);
  void put32(std::uint32_t v) { put(&v, 4); }
  void put16(std::uint16_t v) { put(&v, 2); }
  void pad(std::size_t n);
  void put_option(std::uint16_t code, std::string_view value);
  void write_section_header(const PcapngWriterOptions& options);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint32_t interfaces_ = 0;
  bool ok_ = true;
  int errno_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace netscope::capture
