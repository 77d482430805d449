#pragma once
// FragmentCache: remembers the transport ports of recent first fragments so that later
// fragments of the same datagram (which carry no transport header) are counted to the
// right flow. Fixed size, direct-mapped: a collision overwrites, which at worst counts a
// fragment to a port-less flow. No reassembly happens here.

#include <array>
#include <cstdint>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"

namespace netscope::monitor {

class FragmentCache {
 public:
  void remember(const core::IpAddress& src, const core::IpAddress& dst, std::uint32_t id,
                std::uint8_t proto, std::uint16_t sport, std::uint16_t dport, core::Timestamp ts);
  // Fills the ports of a non-first fragment; false when its first fragment was not seen
  // within the last kMaxAgeSeconds.
  bool lookup(const core::IpAddress& src, const core::IpAddress& dst, std::uint32_t id,
              std::uint8_t proto, core::Timestamp ts, std::uint16_t& sport,
              std::uint16_t& dport) const;

 private:
  static constexpr std::size_t kEntries = 1024;
  static constexpr std::int64_t kMaxAgeSeconds = 30;  // RFC 791 reassembly timer magnitude
  struct Entry {
    core::IpAddress src;
    core::IpAddress dst;
    std::uint32_t id = 0;
    std::uint8_t proto = 0;
    bool used = false;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    core::Timestamp ts;
  };
  static std::size_t slot(const core::IpAddress& src, const core::IpAddress& dst, std::uint32_t id,
                          std::uint8_t proto);
  std::array<Entry, kEntries> entries_{};
};

}  // namespace netscope::monitor
