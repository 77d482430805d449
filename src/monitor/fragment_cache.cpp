#include "monitor/fragment_cache.hpp"

#include "core/flow_key.hpp"

namespace netscope::monitor {

std::size_t FragmentCache::slot(const core::IpAddress& src, const core::IpAddress& dst,
                                std::uint32_t id, std::uint8_t proto) {
  const core::OrientedKey k = core::make_flow_key(src, static_cast<std::uint16_t>(id >> 16), dst,
                                                  static_cast<std::uint16_t>(id), proto);
  return core::hash_flow_key(k.key) % kEntries;
}

void FragmentCache::remember(const core::IpAddress& src, const core::IpAddress& dst,
                             std::uint32_t id, std::uint8_t proto, std::uint16_t sport,
                             std::uint16_t dport, core::Timestamp ts) {
  entries_[slot(src, dst, id, proto)] = Entry{src, dst, id, proto, true, sport, dport, ts};
}

bool FragmentCache::lookup(const core::IpAddress& src, const core::IpAddress& dst, std::uint32_t id,
                           std::uint8_t proto, core::Timestamp ts, std::uint16_t& sport,
                           std::uint16_t& dport) const {
  const Entry& e = entries_[slot(src, dst, id, proto)];
  if (!e.used || e.id != id || e.proto != proto || e.src != src || e.dst != dst) return false;
  if (ts.ns - e.ts.ns > kMaxAgeSeconds * 1'000'000'000LL) return false;
  sport = e.sport;
  dport = e.dport;
  return true;
}

}  // namespace netscope::monitor
