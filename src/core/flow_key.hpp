#pragma once
// FlowKey: the canonical, hole-free key of a bidirectional flow. The two endpoints are
// ordered (a <= b by address, then port) so both directions of a conversation map to the
// same key; make_flow_key() reports which side sent the packet. Every byte is
// significant (no padding), so the key can be hashed and compared as raw bytes, as
// Zeek's PackedConnTuple does.

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/ip_address.hpp"

namespace netscope::core {

struct FlowKey {
  IpAddress addr_a;
  IpAddress addr_b;
  std::uint16_t port_a = 0;
  std::uint16_t port_b = 0;
  std::uint16_t vlan = 0;       // 802.1Q VID of the innermost tag, 0 when untagged
  std::uint8_t proto = 0;       // IP protocol number
  std::uint8_t reserved = 0;    // always zero; keeps the layout free of padding
  std::uint32_t tunnel_id = 0;  // VXLAN VNI or GRE key of the enclosing tunnel, 0 if none

  // Word-wise: a 44-byte memcmp() is a library call on the packet path.
  bool operator==(const FlowKey& o) const {
    std::uint64_t a[5];
    std::uint64_t b[5];
    std::memcpy(a, this, 40);
    std::memcpy(b, &o, 40);
    std::uint32_t ta;
    std::uint32_t tb;
    std::memcpy(&ta, reinterpret_cast<const char*>(this) + 40, 4);
    std::memcpy(&tb, reinterpret_cast<const char*>(&o) + 40, 4);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
            (ta ^ tb)) == 0;
  }
};
static_assert(std::has_unique_object_representations_v<FlowKey>,
              "FlowKey must have no padding: it is hashed as bytes");

struct OrientedKey {
  FlowKey key;
  bool src_is_a = true;  // the packet's source is endpoint a
};

OrientedKey make_flow_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                          std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan = 0,
                          std::uint32_t tunnel_id = 0);

// 64-bit hash over the key bytes; strong enough for open addressing with linear probing.
std::uint64_t hash_flow_key(const FlowKey& key);

// make_flow_key() and hash_flow_key() of its key (`hash`) in one go, for the packet path:
// the hash is made from the values in registers instead of being read back from the key
// just written, a load spanning several smaller stores that the CPU cannot forward from
// them (it waits until they have retired).
OrientedKey make_flow_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                          std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan,
                          std::uint32_t tunnel_id, std::uint64_t& hash);

}  // namespace netscope::core
