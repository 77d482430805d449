#pragma once
// SocketTable: the sockets the attribution thread knows, with their owners, and the rules
// that match a flow against them. Kept free of I/O and threads so that the matching order
// and the memory of closed sockets can be tested on hand-made entries; Attributor guards
// it with a lock and feeds it from sock_diag and ProcScanner.
//
// Matching order for a flow (both orientations each time, a as local first):
//  1. the socket with the full 5-tuple and a known owner (exact);
//  2. a remembered owner of that 5-tuple, kept for `remember` after its socket closed or
//     fell to TIME_WAIT (exact), unless a different socket now has the 5-tuple;
//  3. UDP: an unconnected socket bound to the local ip:port, 0.0.0.0:port or [::]:port
//     (local_port), live or remembered;
//  4. TCP: a listener on the local ip:port or a wildcard (listener), live or remembered.
// Without an exact owner the reason comes from the exact socket when there is one, else
// from the last targeted lookup of that flow, else it is `pending`; it comes with a
// listener or local_port guess too, for a caller that rejects the guess (the listener of
// the peer, in another namespace of this host).

#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "core/flow_key.hpp"
#include "host/attribution.hpp"

namespace netscope::host {

// One socket from sock_diag, with its owner when known.
struct SocketEntry {
  SocketRecord record;
  std::uint64_t netns = 0;
  pid_t pid = 0;  // 0: no owner known
  std::uint64_t start_time_ticks = 0;
  Miss miss = Miss::pending;  // why there is no owner (when pid is 0)
};

class SocketTable {
 public:
  using Clock = std::chrono::steady_clock;

  SocketTable(std::chrono::seconds remember, std::size_t max_remembered);

  // Replaces the live sockets with a complete dump that started at `dumped`. Owners of
  // sockets that closed, fell to TIME_WAIT (inode 0) or were replaced are remembered.
  // Earlier entries win a key collision (sockets of the own namespace come first), unless
  // only a later one has an owner. A socket upserted at or after `dumped` is newer than
  // the dump and stays as it is: a targeted lookup served while the dump ran.
  void replace(const std::vector<SocketEntry>& entries, Clock::time_point dumped,
               Clock::time_point now);
  // Adds or updates one socket, e.g. found by a targeted lookup.
  void upsert(const SocketEntry& entry, Clock::time_point now);
  // The outcome of a targeted lookup that found no usable socket for the flow.
  void record_miss(const FlowQuery& flow, Miss miss, Clock::time_point now);
  // Forgets remembered owners and misses older than `remember`.
  void expire(Clock::time_point now);

  Lookup lookup(const FlowQuery& flow, Clock::time_point now) const;
  // True when lookup() has an exact owner of side a, or a settled miss (not pending): a
  // targeted lookup cannot improve on it. A listener or bound-UDP guess is not settled
  // (the kernel may have the flow's own socket), nor is side b's socket (it may be the
  // peer's, in another namespace, while side a's is still to be found).
  bool settled(const FlowQuery& flow, Clock::time_point now) const;
  // True when side a's exact owner is only remembered: its socket is gone or lingers
  // without an inode. A new connection that reuses the 5-tuple (the same client port to
  // the same server within `remember`) looks the same until the kernel is asked.
  bool remembered_only(const FlowQuery& flow, Clock::time_point now) const;

  std::size_t live() const { return live_.size(); }
  std::size_t remembered() const { return remembered_.size(); }
  std::size_t misses() const { return misses_.size(); }

 private:
  struct KeyHash {
    std::size_t operator()(const core::FlowKey& key) const { return core::hash_flow_key(key); }
  };
  struct Remembered {
    SocketEntry entry;
    Clock::time_point expires;
  };
  struct Live {
    SocketEntry entry;
    Clock::time_point upserted;  // epoch for sockets from a dump
  };
  struct MissEntry {
    Miss miss = Miss::pending;
    Clock::time_point expires;
  };
  using LiveMap = std::unordered_map<core::FlowKey, Live, KeyHash>;

  static bool insert_live(LiveMap& map, const SocketEntry& entry, Clock::time_point upserted);
  Miss exact_miss(const FlowQuery& flow, Clock::time_point now) const;
  void remember(const core::FlowKey& key, SocketEntry entry, std::uint8_t state,
                Clock::time_point now);
  const SocketEntry* owned(const core::FlowKey& key, Clock::time_point now) const;
  const SocketEntry* bound_owner(std::uint8_t proto, const core::Endpoint& local,
                                 Clock::time_point now) const;

  std::chrono::seconds remember_;
  std::size_t max_remembered_;
  LiveMap live_;
  std::unordered_map<core::FlowKey, Remembered, KeyHash> remembered_;
  std::deque<std::pair<core::FlowKey, Clock::time_point>> remembered_order_;
  std::unordered_map<core::FlowKey, MissEntry, KeyHash> misses_;
  std::deque<std::pair<core::FlowKey, Clock::time_point>> miss_order_;
};

// A socket's remote end when it has no peer: 0.0.0.0:0 or [::]:0.
bool is_unconnected(const core::Endpoint& remote);

// The key of a socket: (proto, local, remote) in that orientation, the remote zeroed for
// an unconnected socket, so a listener or bound UDP socket is found by its local end.
core::FlowKey socket_key(std::uint8_t proto, const core::Endpoint& local,
                         const core::Endpoint& remote);

}  // namespace netscope::host
