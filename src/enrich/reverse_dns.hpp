#pragma once
// ReverseDns: host names for remote addresses without ever blocking the caller. lookup()
// answers from a bounded cache at once; on a miss it queues the address for a resolver
// thread and returns nullopt, and a later call finds the name. The resolver is c-ares
// (ares_gethostbyaddr on one channel), which reads /etc/hosts first and then asks the
// servers of /etc/resolv.conf for the PTR record, so it behaves as getnameinfo() would
// but with many queries in flight on one thread.
//
// - Names learnt from DNS answers on the wire (set_name) are what the user's software
//   actually asked for, so they beat PTR names: a PTR result never replaces an unexpired
//   set_name entry.
// - Failures (NXDOMAIN, timeouts, no server) are cached as "no name" for negative_ttl, so
//   a silent resolver is asked once per address per negative_ttl, not once per tick.
// - An expired name is still returned while its refresh is queued, so a name does not
//   flicker out of a table every ttl seconds.
// - Every structure is bounded (ARCHITECTURE.md "Every cache and buffer has a bound"):
//   the cache holds max_entries names (least recently used evicted first), the queue
//   holds `queue` addresses, and at most max_in_flight queries are outstanding. A lookup
//   that finds the queue full is dropped and counted in stats().overflow.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/ip_address.hpp"

namespace netscope::enrich {

struct ReverseDnsConfig {
  std::chrono::seconds ttl{300};            // how long a name is trusted
  std::chrono::seconds negative_ttl{60};    // how long "no name" is trusted
  std::size_t max_entries = 10000;          // cache bound
  std::size_t queue = 1024;                 // addresses waiting for the resolver
  std::size_t max_in_flight = 64;           // concurrent queries on the wire (at least 1)
  std::chrono::milliseconds timeout{2000};  // per try (c-ares ARES_OPT_TIMEOUTMS)
  int tries = 2;                            // c-ares ARES_OPT_TRIES
  // c-ares lookup order: 'f' = /etc/hosts, 'b' = DNS. "f" never touches the network.
  std::string lookups = "fb";
  // "ip[:port],..." to use instead of the nameservers of /etc/resolv.conf; empty = those.
  std::string servers;
};

struct ReverseDnsStats {
  std::uint64_t hits = 0;       // lookups answered from the cache (names and "no name")
  std::uint64_t misses = 0;     // lookups of addresses not in the cache
  std::uint64_t queued = 0;     // addresses handed to the resolver
  std::uint64_t overflow = 0;   // addresses dropped because the queue was full
  std::uint64_t resolved = 0;   // queries that returned a name
  std::uint64_t failed = 0;     // queries that ended without one (cached as negative)
  std::uint64_t evictions = 0;  // cache entries dropped for max_entries
  std::size_t entries = 0;      // names and negatives in the cache now
  std::size_t pending = 0;      // queued or in flight now
  std::size_t in_flight = 0;    // queries on the wire now
};

class ReverseDns {
 public:
  // Starts the resolver thread. Throws std::runtime_error when c-ares cannot be set up
  // (a start-up error, like a bad `servers` string).
  explicit ReverseDns(ReverseDnsConfig config = {});
  ~ReverseDns();  // cancels outstanding queries and joins the thread
  ReverseDns(const ReverseDns&) = delete;
  ReverseDns& operator=(const ReverseDns&) = delete;

  // The cached name now, or nullopt (and the address is queued when it is not already).
  // Takes one short lock; never waits for the network. Thread-safe.
  std::optional<std::string> lookup(const core::IpAddress& addr);

  // A name seen in a DNS answer for this address (an A/AAAA record's owner name),
  // trusted for `ttl`. Preferred over PTR results. An empty name is ignored.
  void set_name(const core::IpAddress& addr, std::string name, std::chrono::seconds ttl);

  ReverseDnsStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::enrich
