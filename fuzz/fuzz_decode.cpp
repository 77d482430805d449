// libFuzzer target for decode_packet(). The first byte picks a supported link type, the
// second decides how many wire bytes the snaplen "cut" (so orig_len > cap_len paths run),
// and the rest is the frame. The frame is copied into an exactly-sized heap buffer so
// ASan sees any read past the captured bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "decode/decode.hpp"
#include "fuzz_linktypes.hpp"

namespace {
using netscope::fuzz::kLinkTypes;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int linktype = kLinkTypes[data[0] % kLinkTypes.size()];
  // 0..127: captured in full; otherwise that many extra (up to 32 Ki) wire bytes.
  const std::uint32_t missing = data[1] < 128 ? 0u : (data[1] - 127u) * 256u;
  const std::size_t len = size - 2;
  auto frame = std::make_unique<std::uint8_t[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(frame.get(), data + 2, len);

  netscope::decode::PacketView view;
  netscope::decode::AnomalyCounters anomalies;
  const bool ok =
      netscope::decode::decode_packet(linktype, std::span<const std::uint8_t>(frame.get(), len),
                                      static_cast<std::uint32_t>(len) + missing, view, anomalies);

  // Invariants every caller relies on.
  if (view.has_transport() && !view.payload.empty()) {
    const std::uint8_t* end = frame.get() + len;
    if (view.payload.data() < frame.get() || view.payload.data() + view.payload.size() > end) {
      __builtin_trap();
    }
  }
  if (view.payload.size() > view.payload_len) __builtin_trap();
  if (view.has_ip() && view.ip_bytes > view.orig_len) __builtin_trap();
  // Lengths derived from the wire never exceed it (an unsigned underflow would).
  if (view.payload_len > view.orig_len) __builtin_trap();
  if (view.missing_bytes != view.orig_len - view.cap_len) __builtin_trap();
  if (ok != ((view.layers &
              (netscope::decode::PacketView::kIp | netscope::decode::PacketView::kArp)) != 0)) {
    __builtin_trap();
  }
  return 0;
}
