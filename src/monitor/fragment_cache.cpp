#include "monitor/fragment_cache.hpp"

#include "core/flow_key.hpp"

namespace netscope::monitor {

std::size_t FragmentCache::slot(const decode::PacketView& v) {
  // The flow-key hash over (addresses, id as the two "ports", protocol, VLAN, tunnel).
  const core::OrientedKey k =
      core::make_flow_key(v.src, static_cast<std::uint16_t>(v.frag_id >> 16), v.dst,
                          static_cast<std::uint16_t>(v.frag_id), v.ip_proto, v.vlan, v.tunnel_id);
  return core::hash_flow_key(k.key) % kEntries;
}

void FragmentCache::remember(const decode::PacketView& v) {
  entries_[slot(v)] =
      Entry{v.src, v.dst, v.frag_id, v.tunnel_id, v.vlan, v.ip_proto, true, v.sport, v.dport, v.ts};
}

bool FragmentCache::lookup(decode::PacketView& v) const {
  const Entry& e = entries_[slot(v)];
  if (!e.used || e.id != v.frag_id || e.proto != v.ip_proto || e.vlan != v.vlan ||
      e.tunnel_id != v.tunnel_id || e.src != v.src || e.dst != v.dst) {
    return false;
  }
  // Either way: a merged capture may put a later fragment before its first one in time.
  const std::int64_t age = v.ts.ns - e.ts.ns;
  constexpr std::int64_t kMaxAgeNs = kMaxAgeSeconds * 1'000'000'000LL;
  if (age > kMaxAgeNs || age < -kMaxAgeNs) return false;
  v.sport = e.sport;
  v.dport = e.dport;
  return true;
}

}  // namespace netscope::monitor
