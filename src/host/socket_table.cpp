#include "host/socket_table.hpp"

#include <netinet/in.h>

#include <array>
#include <utility>

namespace netscope::host {

namespace {

constexpr std::uint8_t kClose = static_cast<std::uint8_t>(TcpState::close);
constexpr std::uint8_t kListen = static_cast<std::uint8_t>(TcpState::listen);

// 0.0.0.0 (stored as ::ffff:0.0.0.0) or ::.
bool is_any(const core::IpAddress& addr) {
  return addr.is_unspecified() || (addr.is_v4() && addr.v4_host_order() == 0);
}

Owner owner_of(const SocketEntry& e, Quality quality, const core::Endpoint& local) {
  Owner o;
  o.pid = e.pid;
  o.start_time_ticks = e.start_time_ticks;
  o.quality = quality;
  o.kernel_state = e.record.state;
  o.tcp_info = e.record.tcp_info;
  o.uid = e.record.uid;
  o.inode = e.record.inode;
  o.netns = e.netns;
  o.local = local;
  return o;
}

// The flow's two orientations: (local, remote) = (a, b), then (b, a).
std::array<std::pair<core::Endpoint, core::Endpoint>, 2> sides(const FlowQuery& flow) {
  return {{{flow.a, flow.b}, {flow.b, flow.a}}};
}

core::FlowKey flow_key(const FlowQuery& flow) {
  return core::make_flow_key(flow.a.addr, flow.a.port, flow.b.addr, flow.b.port, flow.proto).key;
}

bool has_sockets(std::uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

// Keeps an insertion-ordered expiry queue and its map to at most `max` entries.
template <typename Map, typename Order>
void trim(Map& map, Order& order, std::size_t max) {
  while (map.size() > max && !order.empty()) {
    const auto it = map.find(order.front().first);
    if (it != map.end() && it->second.expires == order.front().second) map.erase(it);
    order.pop_front();
  }
}

template <typename Map, typename Order>
void expire_before(Map& map, Order& order, SocketTable::Clock::time_point now) {
  while (!order.empty() && order.front().second <= now) {
    const auto it = map.find(order.front().first);
    if (it != map.end() && it->second.expires == order.front().second) map.erase(it);
    order.pop_front();
  }
}

}  // namespace

std::string_view quality_name(Quality quality) {
  switch (quality) {
    case Quality::exact:
      return "exact";
    case Quality::listener:
      return "listener";
    case Quality::local_port:
      return "local_port";
  }
  return "exact";
}

std::string_view miss_name(Miss miss) {
  switch (miss) {
    case Miss::pending:
      return "pending";
    case Miss::no_socket:
      return "no_socket";
    case Miss::no_permission:
      return "no_permission";
    case Miss::closed:
      return "closed";
  }
  return "pending";
}

bool is_unconnected(const core::Endpoint& remote) {
  return remote.port == 0 && is_any(remote.addr);
}

core::FlowKey socket_key(std::uint8_t proto, const core::Endpoint& local,
                         const core::Endpoint& remote) {
  core::FlowKey key{};
  key.proto = proto;
  key.addr_a = local.addr;
  key.port_a = local.port;
  if (!is_unconnected(remote)) {
    key.addr_b = remote.addr;
    key.port_b = remote.port;
  }
  return key;
}

SocketTable::SocketTable(std::chrono::seconds remember, std::size_t max_remembered)
    : remember_(remember), max_remembered_(max_remembered) {}

bool SocketTable::insert_live(LiveMap& map, const SocketEntry& entry, Clock::time_point upserted) {
  const SocketRecord& r = entry.record;
  // A TCP socket without a peer matters only as a listener (bound-but-idle ones don't).
  if (r.protocol == IPPROTO_TCP && is_unconnected(r.remote) && r.state != kListen) return false;
  auto [it, inserted] =
      map.try_emplace(socket_key(r.protocol, r.local, r.remote), Live{entry, upserted});
  if (!inserted && it->second.entry.pid == 0 && entry.pid != 0) it->second = Live{entry, upserted};
  return true;
}

void SocketTable::remember(const core::FlowKey& key, SocketEntry entry, std::uint8_t state,
                           Clock::time_point now) {
  entry.record.state = state;
  const Clock::time_point expires = now + remember_;
  remembered_[key] = Remembered{std::move(entry), expires};
  remembered_order_.emplace_back(key, expires);
  trim(remembered_, remembered_order_, max_remembered_);
}

void SocketTable::replace(const std::vector<SocketEntry>& entries, Clock::time_point dumped,
                          Clock::time_point now) {
  LiveMap next;
  next.reserve(entries.size());
  for (const SocketEntry& e : entries) insert_live(next, e, Clock::time_point{});
  for (const auto& [key, old_live] : live_) {
    const SocketEntry& old = old_live.entry;
    const auto it = next.find(key);
    if (old_live.upserted >= dumped && old_live.upserted != Clock::time_point{}) {
      // Found after the dump began: fresher than what the dump says about this key.
      if (it == next.end() || it->second.entry.pid == 0 ||
          it->second.entry.record.inode != old.record.inode) {
        next.insert_or_assign(key, old_live);
      }
      continue;
    }
    if (old.pid == 0) {
      // A TIME_WAIT socket whose owner is remembered: keep the remembered state current.
      const auto mem = remembered_.find(key);
      if (old.record.inode == 0 && mem != remembered_.end()) {
        mem->second.entry.record.state = it == next.end() ? kClose : it->second.entry.record.state;
      }
      continue;
    }
    if (it == next.end()) {
      remember(key, old, kClose, now);
    } else if (it->second.entry.record.inode == old.record.inode) {
      // The same socket: its owner is the one found before, even when the dump's fd-table
      // side no longer finds it (its process exited, or was forgotten by a listing,
      // between the dump and now). Dropping it here lost short-lived owners.
      if (it->second.entry.pid == 0) {
        it->second.entry.pid = old.pid;
        it->second.entry.start_time_ticks = old.start_time_ticks;
      }
    } else if (it->second.entry.record.inode != old.record.inode) {
      remember(key, old, it->second.entry.record.state, now);  // TIME_WAIT, or a new socket
    }
  }
  live_.swap(next);
}

void SocketTable::upsert(const SocketEntry& entry, Clock::time_point now) {
  const SocketRecord& r = entry.record;
  const core::FlowKey key = socket_key(r.protocol, r.local, r.remote);
  const auto it = live_.find(key);
  if (it == live_.end()) {
    insert_live(live_, entry, now);
    return;
  }
  SocketEntry& old = it->second.entry;
  it->second.upserted = now;
  if (old.pid != 0 && old.record.inode != r.inode) {
    remember(key, old, r.state, now);
  } else if (old.pid != 0 && entry.pid == 0) {
    // Same socket, fresher state: keep the owner already found.
    const SocketEntry owned = old;
    old = entry;
    old.pid = owned.pid;
    old.start_time_ticks = owned.start_time_ticks;
    return;
  }
  old = entry;
}

void SocketTable::record_miss(const FlowQuery& flow, Miss miss, Clock::time_point now) {
  const core::FlowKey key = flow_key(flow);
  const Clock::time_point expires = now + remember_;
  misses_[key] = MissEntry{miss, expires};
  miss_order_.emplace_back(key, expires);
  trim(misses_, miss_order_, max_remembered_);
}

void SocketTable::expire(Clock::time_point now) {
  expire_before(remembered_, remembered_order_, now);
  expire_before(misses_, miss_order_, now);
}

const SocketEntry* SocketTable::owned(const core::FlowKey& key, Clock::time_point now) const {
  const auto live = live_.find(key);
  if (live != live_.end() && live->second.entry.pid != 0) return &live->second.entry;
  const auto mem = remembered_.find(key);
  if (mem == remembered_.end() || mem->second.expires <= now) return nullptr;
  // A different socket with the same 5-tuple (port reuse) is not the remembered owner's.
  if (live != live_.end() && live->second.entry.record.inode != 0 &&
      live->second.entry.record.inode != mem->second.entry.record.inode) {
    return nullptr;
  }
  return &mem->second.entry;
}

const SocketEntry* SocketTable::bound_owner(std::uint8_t proto, const core::Endpoint& local,
                                            Clock::time_point now) const {
  static const core::IpAddress kAny4 = core::IpAddress::from_v4(0u);
  static const core::IpAddress kAny6{};
  // A v6 socket bound to [::] without IPV6_V6ONLY takes IPv4 traffic too.
  const std::array<core::IpAddress, 3> addrs{local.addr, local.addr.is_v4() ? kAny4 : kAny6, kAny6};
  for (const core::IpAddress& addr : addrs) {
    if (const SocketEntry* e = owned(socket_key(proto, {addr, local.port}, {}), now)) return e;
  }
  return nullptr;
}

Miss SocketTable::exact_miss(const FlowQuery& flow, Clock::time_point now) const {
  for (const auto& [local, remote] : sides(flow)) {
    const auto it = live_.find(socket_key(flow.proto, local, remote));
    if (it != live_.end()) return it->second.entry.miss;
  }
  if (const auto it = misses_.find(flow_key(flow));
      it != misses_.end() && it->second.expires > now) {
    return it->second.miss;
  }
  return Miss::pending;
}

Lookup SocketTable::lookup(const FlowQuery& flow, Clock::time_point now) const {
  Lookup out;
  if (!has_sockets(flow.proto)) {
    out.miss = Miss::no_socket;
    return out;
  }
  const auto both = sides(flow);
  for (const auto& [local, remote] : both) {
    if (const SocketEntry* e = owned(socket_key(flow.proto, local, remote), now)) {
      out.owner = owner_of(*e, Quality::exact, e->record.local);
      return out;
    }
  }
  out.miss = exact_miss(flow, now);
  const Quality guess = flow.proto == IPPROTO_UDP ? Quality::local_port : Quality::listener;
  for (const auto& [local, remote] : both) {
    if (const SocketEntry* e = bound_owner(flow.proto, local, now)) {
      out.owner = owner_of(*e, guess, local);
      return out;
    }
  }
  return out;
}

bool SocketTable::settled(const FlowQuery& flow, Clock::time_point now) const {
  const Lookup found = lookup(flow, now);
  // Only an exact owner of side a settles it: an owner of side b may be the peer's
  // socket in another namespace while side a's socket is still to be found.
  if (found.owner) return found.owner->quality == Quality::exact && found.owner->local == flow.a;
  return found.miss != Miss::pending;
}

bool SocketTable::remembered_only(const FlowQuery& flow, Clock::time_point now) const {
  const core::FlowKey key = socket_key(flow.proto, flow.a, flow.b);
  const auto live = live_.find(key);
  if (live != live_.end() && live->second.entry.pid != 0) return false;
  const auto mem = remembered_.find(key);
  return mem != remembered_.end() && mem->second.expires > now;
}

}  // namespace netscope::host
