// libFuzzer target for capture::FileReader: any bytes (pcap, pcapng, or gzip/zstd-wrapped)
// are read to the end twice — in place, and through a deliberately tiny streaming buffer
// so that every record crosses a refill — and the two runs must agree packet for packet.
// Every packet byte is read so that ASan sees any out-of-bounds span.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/bpf_filter.hpp"
#include "capture/file_reader.hpp"

namespace {

using netscope::capture::FileReader;
using netscope::capture::ReaderOptions;
using netscope::capture::ReadStatus;

struct Outcome {
  bool opened = false;
  std::string open_error;
  std::vector<std::uint64_t> packets;  // per packet: a hash of what the reader returned
  ReadStatus status = ReadStatus::ok;
  std::uint64_t offset = 0;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

std::uint64_t hash_packet(const netscope::capture::RawPacket& p) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (std::uint8_t b : p.data) mix(b);
  mix(static_cast<std::uint64_t>(p.ts.ns));
  mix(p.orig_len);
  mix(static_cast<std::uint64_t>(p.linktype));
  mix(p.interface_id);
  mix(p.file_offset);
  mix(p.data.size());
  return h;
}

Outcome read(std::span<const std::uint8_t> bytes, ReaderOptions options,
             netscope::capture::BpfFilter& filter) {
  Outcome o;
  FileReader reader(options);
  try {
    reader.open_memory(bytes, "fuzz");
  } catch (const std::runtime_error& e) {
    o.open_error = e.what();
    return o;
  }
  o.opened = true;
  netscope::capture::RawPacket pkt;
  while (reader.next(pkt)) {
    if (pkt.orig_len < pkt.data.size()) __builtin_trap();  // reader invariant
    o.packets.push_back(hash_packet(pkt));
    (void)filter.matches(pkt);
  }
  if (reader.status() == ReadStatus::ok) __builtin_trap();  // next() false means stopped
  if ((reader.status() == ReadStatus::end) != reader.error().empty()) __builtin_trap();
  o.status = reader.status();
  o.offset = reader.offset();
  o.error = reader.error();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static netscope::capture::BpfFilter filter("tcp or udp port 53");
  std::span<const std::uint8_t> bytes(data, size);
  Outcome in_place = read(bytes, ReaderOptions{}, filter);
  Outcome streamed =
      read(bytes, ReaderOptions{.use_mmap = false, .stream_buffer_bytes = 16}, filter);
  if (in_place == streamed) return 0;
  // With damaged compressed data, how much decodes before the error depends on buffer
  // sizes (zstd checks a frame's checksum before releasing a frame that fits the output
  // buffer whole). Then one run's packets must be a prefix of the other's; otherwise the
  // two paths must agree exactly.
  auto damaged = [](const Outcome& o) {
    return o.error.find(" data is corrupt: ") != std::string::npos ||
           o.open_error.find(" data is corrupt: ") != std::string::npos;
  };
  if (!damaged(in_place) && !damaged(streamed)) __builtin_trap();
  const auto& a = in_place.packets.size() <= streamed.packets.size() ? in_place : streamed;
  const auto& b = &a == &in_place ? streamed : in_place;
  if (!std::equal(a.packets.begin(), a.packets.end(), b.packets.begin())) __builtin_trap();
  return 0;
}
