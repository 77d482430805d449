#pragma once
// ReadContext: what the pcap and pcapng parsers share with FileReader — where reading
// stopped and why, the interfaces seen, and the limits. Internal to capture/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/file_reader.hpp"
#include "capture/input_buffer.hpp"

namespace netscope::capture::detail {

struct ReadContext {
  std::string path;
  ReadStatus status = ReadStatus::ok;
  std::string error;
  std::uint64_t stop_offset = 0;
  std::uint64_t packets = 0;  // packets returned so far
  std::size_t max_record = kDefaultMaxRecordBytes;
  std::vector<InterfaceInfo> interfaces;

  // Records damage and returns false, for `return ctx.fail(...)` in parsers.
  bool fail(ReadStatus s, std::uint64_t offset, std::string message) {
    status = s;
    stop_offset = offset;
    error = path + ": " + std::move(message);
    return false;
  }
  bool corrupt(std::uint64_t offset, std::string_view what) {
    return fail(ReadStatus::corrupt, offset,
                std::string(what) + " (record at byte offset " + std::to_string(offset) + ")");
  }

  // Called when `in.ensure(need)` failed for a record starting at the cursor: a clean
  // end, a cut record, or a decompression error.
  bool stopped(const InputBuffer& in, std::size_t need, std::string_view record) {
    const std::uint64_t at = in.offset();
    if (!in.error().empty()) {
      return fail(ReadStatus::corrupt, at,
                  in.error() + " (decoded stream offset " + std::to_string(at) + ")");
    }
    if (in.available() == 0 && in.cut_short()) {
      return fail(ReadStatus::truncated, at,
                  "compressed data ends in the middle of a gzip member or zstd frame (decoded "
                  "stream offset " +
                      std::to_string(at) + ")");
    }
    if (in.available() == 0) {
      status = ReadStatus::end;
      stop_offset = at;
      return false;
    }
    return fail(ReadStatus::truncated, at,
                "file ends in the middle of " + std::string(record) + " (record at byte offset " +
                    std::to_string(at) + " needs " + std::to_string(need) + " bytes, " +
                    std::to_string(in.available()) + " remain)");
  }

  std::string packet_name() const { return "packet " + std::to_string(packets + 1); }
};

}  // namespace netscope::capture::detail
