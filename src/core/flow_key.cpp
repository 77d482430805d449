#include "core/flow_key.hpp"

#include <array>

namespace netscope::core {

OrientedKey make_flow_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                          std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan,
                          std::uint32_t tunnel_id) {
  OrientedKey out;
  const bool src_first = (src < dst) || (src == dst && sport <= dport);
  out.src_is_a = src_first;
  out.key.addr_a = src_first ? src : dst;
  out.key.addr_b = src_first ? dst : src;
  out.key.port_a = src_first ? sport : dport;
  out.key.port_b = src_first ? dport : sport;
  out.key.vlan = vlan;
  out.key.proto = proto;
  out.key.tunnel_id = tunnel_id;
  return out;
}

namespace {
constexpr std::uint64_t mix(std::uint64_t x) {
  // splitmix64 finaliser: full avalanche for a few cycles.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
}  // namespace

std::uint64_t hash_flow_key(const FlowKey& key) {
  static_assert(sizeof(FlowKey) == 44);
  std::array<std::uint64_t, 6> words{};
  std::memcpy(words.data(), &key, sizeof(FlowKey));
  std::uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (const std::uint64_t w : words) h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
  return h;
}

}  // namespace netscope::core
