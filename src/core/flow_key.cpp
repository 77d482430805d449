#include "core/flow_key.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>

namespace netscope::core {

namespace {

__extension__ typedef unsigned __int128 U128;

// Folded 64x64->128 multiply (the "mum" step of wyhash-style hashes): one multiply
// mixes every bit of both inputs into the result.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
  const U128 r = static_cast<U128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

constexpr std::uint64_t kSecret[7] = {
    0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL, 0x8ebc6af09c88c6e3ULL, 0x589965cc75374cc3ULL,
    0x1d8e4e27c47d124fULL, 0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL};

// The key as six little-endian words (the layout memcpy gives on this ABI: see FlowKey),
// hashed with three independent multiplies (they run in parallel), then one to finish:
// the packet path pays this on every packet, so it is kept to a short dependency chain.
std::uint64_t hash_words(const std::array<std::uint64_t, 6>& w) {
  const std::uint64_t h = mum(w[0] ^ kSecret[0], w[1] ^ kSecret[1]) ^
                          mum(w[2] ^ kSecret[2], w[3] ^ kSecret[3]) ^
                          mum(w[4] ^ kSecret[4], w[5] ^ kSecret[5]);
  return mum(h ^ kSecret[6], sizeof(FlowKey) ^ kSecret[5]);
}

}  // namespace

std::uint64_t hash_flow_key(const FlowKey& key) {
  static_assert(sizeof(FlowKey) == 44);
  std::array<std::uint64_t, 6> w{};
  std::memcpy(w.data(), &key, sizeof(FlowKey));
  return hash_words(w);
}

namespace {

// Both make_flow_key()s: `hash`, when not null, gets hash_flow_key() of the key. Inlined
// into each, so the one without a hash computes none.
inline OrientedKey build_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                             std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan,
                             std::uint32_t tunnel_id, std::uint64_t* hash) {
  static_assert(std::endian::native == std::endian::little, "hash_words() reads the key so");
  static_assert(offsetof(FlowKey, port_a) == 32 && offsetof(FlowKey, port_b) == 34 &&
                offsetof(FlowKey, vlan) == 36 && offsetof(FlowKey, proto) == 38 &&
                offsetof(FlowKey, tunnel_id) == 40);
  OrientedKey out;
  // Any consistent total order canonicalises the key; comparing the addresses as two
  // native 64-bit words avoids a memcmp() call per packet.
  std::uint64_t s[2];
  std::uint64_t d[2];
  std::memcpy(s, src.bytes().data(), 16);
  std::memcpy(d, dst.bytes().data(), 16);
  const bool same = s[0] == d[0] && s[1] == d[1];
  const bool src_first = same ? sport <= dport : (s[0] != d[0] ? s[0] < d[0] : s[1] < d[1]);
  out.src_is_a = src_first;
  out.key.addr_a = src_first ? src : dst;
  out.key.addr_b = src_first ? dst : src;
  out.key.port_a = src_first ? sport : dport;
  out.key.port_b = src_first ? dport : sport;
  out.key.vlan = vlan;
  out.key.proto = proto;
  out.key.tunnel_id = tunnel_id;
  if (hash != nullptr) {
    const std::uint64_t ports =
        src_first ? (std::uint64_t{dport} << 16 | sport) : (std::uint64_t{sport} << 16 | dport);
    *hash = hash_words({src_first ? s[0] : d[0], src_first ? s[1] : d[1], src_first ? d[0] : s[0],
                        src_first ? d[1] : s[1],
                        ports | std::uint64_t{vlan} << 32 | std::uint64_t{proto} << 48,
                        std::uint64_t{tunnel_id}});
  }
  return out;
}

}  // namespace

OrientedKey make_flow_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                          std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan,
                          std::uint32_t tunnel_id, std::uint64_t& hash) {
  return build_key(src, sport, dst, dport, proto, vlan, tunnel_id, &hash);
}

OrientedKey make_flow_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                          std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan,
                          std::uint32_t tunnel_id) {
  return build_key(src, sport, dst, dport, proto, vlan, tunnel_id, nullptr);
}

}  // namespace netscope::core
