#pragma once
// FragmentCache: remembers the transport ports of recent first fragments so that later
// fragments of the same datagram (which carry no transport header) are counted to the
// right flow. Fixed size, direct-mapped: a collision overwrites, which at worst counts a
// fragment to a port-less flow. No reassembly happens here.
//
// A datagram is identified as in RFC 791 §3.2 (source, destination, protocol, id) and,
// because the same addresses may be reused on another VLAN or inside another tunnel, by
// the VLAN and tunnel id too, the same context the flow key carries.

#include <array>
#include <cstdint>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"
#include "decode/packet_view.hpp"

namespace netscope::monitor {

class FragmentCache {
 public:
  // A first fragment (v.first_fragment, transport header decoded): keep its ports.
  void remember(const decode::PacketView& v);
  // A later fragment: fills v.sport and v.dport from its first fragment; false when that
  // was not seen within kMaxAgeSeconds of packet time.
  bool lookup(decode::PacketView& v) const;

 private:
  static constexpr std::size_t kEntries = 1024;
  static constexpr std::int64_t kMaxAgeSeconds = 30;  // RFC 791 reassembly timer magnitude
  struct Entry {
    core::IpAddress src;
    core::IpAddress dst;
    std::uint32_t id = 0;
    std::uint32_t tunnel_id = 0;
    std::uint16_t vlan = 0;
    std::uint8_t proto = 0;
    bool used = false;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    core::Timestamp ts;
  };
  static std::size_t slot(const decode::PacketView& v);
  std::array<Entry, kEntries> entries_{};
};

}  // namespace netscope::monitor
