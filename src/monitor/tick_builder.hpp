#pragma once
// TickBuilder: turns the flow samples of one refresh into a Snapshot. It owns everything
// that lives longer than a flow table entry: per-connection rate history, the owner of
// each connection, per-process, per-remote and per-interface totals, and (for the
// `snapshot` command) the connections that closed during the run.
//
// Accounting is by deltas: each tick, the bytes a connection gained since the previous
// tick are credited to its process (or the <UNKNOWN> group), its remote and its
// interface. Totals therefore survive the connection being forgotten. A connection
// attributed late moves what it had already credited from <UNKNOWN> to its process.
//
// Rates (Conventions: bytes per second over --window) are exact at tick boundaries: the
// difference between the cumulative counters now and at the tick one window ago, over the
// time between them. A connection younger than the window is averaged over the whole
// window (bytes before it existed are zero), but never over more time than the monitor
// has been running.
//
// DPI and DNS: a connection keeps the latest DPI fields its samples brought (samples
// carry them only when they change) and shows the DPI state where the protocol defines
// one. Each DNS transaction of the tick becomes a record attributed to the process that
// owns the client's socket, goes into the tick's `dns` list, that process's bounded DNS
// history and (keep_history) the run's list; its A/AAAA answers name remote hosts ahead
// of reverse DNS (DnsNameMap), when host names are wanted at all (host_name is set).

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "monitor/flow_sample.hpp"
#include "monitor/process_resolver.hpp"
#include "monitor/snapshot.hpp"

namespace netscope::monitor {

struct InterfaceStatus {
  std::string name;
  std::uint64_t drops = 0;
  bool up = true;
  std::string error;
};

struct TickInput {
  core::Timestamp time;           // the tick
  core::Timestamp started;        // when the monitor started (first packet of a replay)
  std::vector<FlowSample> flows;  // every flow in the table + those ended since last tick
  // Besides `flows`: called once, before `flows` is read, with a function to hand samples
  // to one at a time (the live tick samples the table through it, so that no buffer of
  // every flow's sample is kept). Optional.
  std::function<void(const std::function<void(const FlowSample&)>&)> sample;
  std::uint64_t packets = 0;  // packets captured so far
  std::uint64_t flows_in_table = 0;
  std::uint64_t flows_evicted = 0;
  std::uint64_t attribution_overflow = 0;
  std::vector<InterfaceStatus> interfaces;  // indexed by interface_id
  bool end_of_input = false;
  std::vector<FlowDnsEvent> dns;  // DNS transactions since the last tick, in order
  std::uint64_t dns_dropped = 0;  // lost on the packet path since the start (queue bound)
};

struct TickBuilderConfig {
  double window_s = 5;
  double refresh_s = 1;
  double idle_after_s = 60;  // FlowTimeouts::idle_after: the active timeouts apply before
  bool replay = false;
  // Keep closed connections and exited processes for a whole-run document (`snapshot`);
  // otherwise closed connections are dropped once they leave the rate window.
  bool keep_history = false;
  std::size_t max_closed = 100'000;      // closed connections kept for the whole-run document
  std::size_t history_points = 60;       // per-process sparkline length
  std::size_t dns_history = 100;         // DNS transactions kept per process
  std::size_t max_dns_events = 100'000;  // DNS transactions kept for the whole-run document
  std::size_t max_dns_names = 65'536;    // addresses named from DNS answers
  // Without keep_history, the per-process and per-remote groups (their totals, sparkline
  // and DNS history) that no connection refers to any more are forgotten, so that a
  // monitor running for weeks through scans and short-lived processes stays bounded: a
  // process that has exited once it has been idle for the window; a remote only while
  // there are more than max_idle_remotes of them, least recently active first (below
  // that, a remote that comes back keeps its running total).
  std::size_t max_idle_remotes = 16'384;
  bool show_localhost = false;
  // Which addresses are local. Without it (a replay with no --local-net), the local
  // addresses are learned: those that open connections (send a SYN) in the input.
  std::function<bool(const core::IpAddress&)> is_local;
  // Name of a remote address (reverse DNS, DNS answers); never blocks. Optional.
  std::function<std::optional<std::string>(const core::IpAddress&)> host_name;
  ProcessResolver* resolver = nullptr;  // null: no attribution (replay)
  // Reuse the previous snapshot's record of a connection that did not change (no packet,
  // no state, owner, DPI, rate or name change): a copy instead of a rebuild. Off: every
  // record is rebuilt each tick (the reference the incremental ticks are tested against).
  bool incremental = true;
  // With `incremental`: snapshots of at most this many connections are kept one tick
  // longer, and the tick after next updates one in place if no reader holds it any more
  // (most records are then already right: no copy). Above it, a second snapshot's memory
  // (about 700 bytes per connection) is not spent.
  std::size_t recycle_max = 32'768;
};

class TickBuilder {
 public:
  explicit TickBuilder(TickBuilderConfig config);
  ~TickBuilder();
  TickBuilder(const TickBuilder&) = delete;
  TickBuilder& operator=(const TickBuilder&) = delete;

  // Folds one tick in and returns its snapshot: connections open or active within the
  // window, processes and remotes with such connections or traffic in the window.
  // The builder keeps a reference to the snapshot and, at the next tick, copies from it
  // the records of connections that did not change. The caller may decorate it
  // (MonitorConfig::decorators) before publishing it, then must not change it.
  std::shared_ptr<Snapshot> tick_shared(const TickInput& in);
  // The same, not kept: the next tick rebuilds every record.
  Snapshot tick(const TickInput& in);
  // How the latest tick's connection records came about.
  struct Stats {
    std::size_t records_built = 0;     // built from the connection
    std::size_t records_reused = 0;    // copied from the previous snapshot, or in place:
    std::size_t records_in_place = 0;  // of those, already right in a recycled snapshot
    // The groups held after the tick (listed or not), and the remotes forgotten since the
    // start (TickBuilderConfig::max_idle_remotes).
    std::size_t process_groups = 0;
    std::size_t remote_groups = 0;
    std::uint64_t remotes_forgotten = 0;
  };
  Stats last_stats() const;
  // Indexes in the latest snapshot's connections of the records that tick built (the
  // others were kept from an earlier snapshot, unchanged).
  const std::vector<std::uint32_t>& last_built() const;
  // Everything seen during the run: every connection kept (closed ones flagged), every
  // process (exited ones flagged), every remote, and the totals. Needs keep_history.
  Snapshot whole_run() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "tcp", "udp", "icmp", "icmpv6", "arp" (flow::kArpProto), or the number.
std::string proto_name(std::uint8_t proto);
// The state a connection shows: the TCP state, or for connectionless protocols
// "<PROTO>_ACTIVE" / "<PROTO>_IDLE" (idle: no packet for 10 s).
std::string tracked_state(const FlowSample& s, core::Timestamp now);
// The same, but the DPI state (`dpi_state`, may be empty) where the protocol defines one:
// always for connectionless flows (QUIC_*, DNS_*), and for TCP while the connection is
// open (SSH_* during ESTABLISHED or when the handshake was not seen); the TCP state shows
// how a connection sets up and ends.
std::string tracked_state(const FlowSample& s, core::Timestamp now, std::string_view dpi_state);

}  // namespace netscope::monitor
