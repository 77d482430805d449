#include "monitor/tick_builder.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "decode/packet_view.hpp"
#include "enrich/services.hpp"
#include "flow/arp.hpp"
#include "monitor/dns_names.hpp"

namespace netscope::monitor {

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;
// A connectionless flow with no packet for this long shows as *_IDLE.
constexpr std::int64_t kIdleAfterNs = 10 * kNsPerSec;

struct ConnId {
  core::FlowKey key;
  std::int64_t first_ns = 0;
  bool operator==(const ConnId& o) const { return first_ns == o.first_ns && key == o.key; }
};
struct ConnIdHash {
  std::size_t operator()(const ConnId& c) const {
    return core::hash_flow_key(c.key) ^
           (static_cast<std::uint64_t>(c.first_ns) * 0x9E3779B97F4A7C15ull);
  }
};
using AddrHash = IpAddressHash;

// Cumulative counters of one connection or group, oriented local/remote.
struct Cum {
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t packets_up = 0;
  std::uint64_t packets_down = 0;
  std::uint64_t payload_up = 0;
  std::uint64_t payload_down = 0;

  bool operator==(const Cum&) const = default;

  void add(const Cum& o, int sign) {
    const auto f = [sign](std::uint64_t& a, std::uint64_t b) { a = sign > 0 ? a + b : a - b; };
    f(bytes_up, o.bytes_up);
    f(bytes_down, o.bytes_down);
    f(packets_up, o.packets_up);
    f(packets_down, o.packets_down);
    f(payload_up, o.payload_up);
    f(payload_down, o.payload_down);
  }
};

struct RateSample {
  std::int64_t t_ns = 0;
  std::uint64_t up = 0;
  std::uint64_t down = 0;
};

// (pid, start time); the <UNKNOWN> group is pid -1.
using ProcKey = std::pair<pid_t, std::uint64_t>;
constexpr ProcKey kUnknown{-1, 0};

struct Proc;
struct Remote;

struct Conn {
  // What every tick reads first (the passes over the connections), together at the start
  // of the node; the sample and the owner after.
  bool closed = false;
  // Incremental ticks: `dirty` when anything its record shows may have changed since the
  // record was built; otherwise the record at `rec_index` of the previous snapshot is
  // still right, as long as the clock-dependent parts (time_key) are the same too.
  bool dirty = true;
  std::uint8_t time_key = 0;
  bool local_is_a = true;
  bool forwarded = false;  // neither endpoint is local
  bool sure = false;       // exactly one endpoint is a local address
  std::uint32_t rec_index = 0;
  std::uint64_t rec_tick = 0;  // the tick whose snapshot holds that record; 0: none
  // When that record was copied from the tick before: that tick, and the record's index
  // in its snapshot (a recycled snapshot of that tick holds it there already). 0: not.
  std::uint64_t same_tick = 0;
  std::uint32_t same_index = 0;
  // The flow's index in the table's pool when last sampled (Impl::by_index).
  std::uint32_t table_index = FlowSample::kNoIndex;
  std::uint32_t all_index = 0;  // its place in Impl::all_conns
  std::uint64_t seen_tick = 0;
  std::uint64_t closed_tick = 0;  // the tick that closed it: always listed in that one
  std::int64_t closed_ns = 0;
  // The resolver's generation when it was last asked about this connection (0: never,
  // or since the sides were swapped): while it stays, the answer would be the same.
  std::uint64_t resolved_generation = 0;
  // The tick at which only the peer's socket (another namespace of this host) was found
  // for our side; 0 when not. See set_attribution().
  std::uint64_t peer_only_tick = 0;
  // Its groups (nodes of Impl::procs and Impl::remotes), held while set: a node with a
  // holder (Proc::refs, Remote::refs) is never erased (sweep_groups). Null until first
  // needed and again whenever the group changes; set and cleared only through
  // proc_of/remote_of and release_proc/release_remote.
  Proc* proc = nullptr;
  Remote* remote_group = nullptr;
  double rate_up = 0;
  double rate_down = 0;
  ProcKey credited_to = kUnknown;
  Cum cum;       // oriented counters now
  Cum credited;  // what has been credited to the groups
  // Cumulative counters at recent ticks, oldest first: about window/refresh + 2 entries.
  // A vector, not a deque: a deque's first block alone is 512 bytes per connection.
  std::vector<RateSample> samples;
  FlowSample s;
  // Allocated once attributed: most connections of a scan or of forwarded traffic never
  // are, and an empty optional<OwnerInfo> took 80 bytes of every node.
  std::unique_ptr<OwnerInfo> owner;
  std::string_view miss = "pending";        // Resolution::miss: static storage
  std::string_view close_reason;            // end_reason_name() or a literal: static storage
  std::shared_ptr<const dpi::DpiInfo> dpi;  // the latest DPI fields of its samples

  int local_dir() const {
    // Direction index (0 = client -> server) of the packets the local side sends.
    const bool local_is_client = (local_is_a == s.client_is_a);
    return local_is_client ? flow::kClientToServer : flow::kServerToClient;
  }
  core::Endpoint local() const {
    return local_is_a ? core::Endpoint{s.key.addr_a, s.key.port_a}
                      : core::Endpoint{s.key.addr_b, s.key.port_b};
  }
  core::Endpoint remote() const {
    return local_is_a ? core::Endpoint{s.key.addr_b, s.key.port_b}
                      : core::Endpoint{s.key.addr_a, s.key.port_a};
  }
};

struct Proc {
  ProcessDetails details;
  bool has_details = false;
  Cum cum;
  double rate_up = 0;
  double rate_down = 0;
  std::uint64_t connections = 0;
  std::deque<RatePoint> history;
  std::deque<DnsEventRecord> dns_history;  // newest last, at most cfg.dns_history
  bool exited = false;
  std::int64_t last_active_ns = 0;
  std::int64_t last_dns_ns = 0;  // of its latest DNS transaction
  std::uint32_t refs = 0;        // connections whose Conn::proc points here
};

struct Remote {
  Cum cum;
  double rate_up = 0;
  double rate_down = 0;
  std::uint64_t connections = 0;
  std::string host;
  bool host_from_dns = false;  // `host` came from a DNS answer (reverse DNS does not replace it)
  std::int64_t last_active_ns = 0;
  std::uint32_t refs = 0;  // connections whose Conn::remote_group points here
};

struct Iface {
  Cum cum;
};

bool is_loopback(const core::IpAddress& a) {
  if (a.is_v4()) return (a.v4_host_order() >> 24) == 127;
  static const core::IpAddress kV6Loopback = *core::IpAddress::parse("::1");
  return a == kV6Loopback;
}

TcpHealthRecord health_record(const SampleHealth& h) {
  TcpHealthRecord r;
  r.retransmissions = h.retransmissions;
  r.fast_retransmissions = h.fast_retransmissions;
  r.spurious_retransmissions = h.spurious_retransmissions;
  r.out_of_order = h.out_of_order;
  r.dup_acks = h.dup_acks;
  r.dup_ack_events = h.dup_ack_events;
  r.zero_windows = h.zero_windows;
  r.rsts = h.rsts;
  return r;
}

}  // namespace

namespace {

// The names of the protocols a connection can have, in lower or upper case; empty for
// another protocol number.
std::string_view known_proto_name(std::uint8_t proto, bool upper) {
  switch (proto) {
    case decode::ip_proto::tcp:
      return upper ? "TCP" : "tcp";
    case decode::ip_proto::udp:
      return upper ? "UDP" : "udp";
    case decode::ip_proto::icmp:
      return upper ? "ICMP" : "icmp";
    case decode::ip_proto::icmpv6:
      return upper ? "ICMPV6" : "icmpv6";
    case flow::kArpProto:
      return upper ? "ARP" : "arp";
    default:
      return {};
  }
}

void write_proto_name(std::string& out, std::uint8_t proto, bool upper) {
  const std::string_view known = known_proto_name(proto, upper);
  if (known.empty()) {
    out = std::to_string(proto);
  } else {
    out.assign(known);
  }
}

// tracked_state() into `out`, reusing its buffer (the tick writes one per record).
void write_tracked_state(std::string& out, const FlowSample& s, core::Timestamp now) {
  if (s.key.proto == decode::ip_proto::tcp && s.tcp_state != flow::TcpState::none) {
    out.assign(flow::tcp_state_name(s.tcp_state));
    return;
  }
  const bool icmp =
      s.key.proto == decode::ip_proto::icmp || s.key.proto == decode::ip_proto::icmpv6;
  if (icmp && s.icmp_echo != flow::kNoEcho) {
    out.assign(s.icmp_echo == flow::kEchoRequest ? "ECHO_REQUEST" : "ECHO_REPLY");
    return;
  }
  // ARP, like an echo, shows the last exchange, whether it is idle or has ended.
  if (s.key.proto == flow::kArpProto && s.arp_state != flow::kNoArp) {
    out.assign(flow::arp_state_name(s.arp_state));
    return;
  }
  write_proto_name(out, s.key.proto, true);
  if (s.ended) {
    out += "_CLOSED";
    return;
  }
  const std::int64_t idle = now.ns - s.last_seen.ns;
  // Stale: three quarters of the way to its timeout (the TUI's yellow).
  if (s.timeout_ns > 0 && idle * 4 >= s.timeout_ns * 3) {
    out += "_STALE";
    return;
  }
  out += idle > kIdleAfterNs ? "_IDLE" : "_ACTIVE";
}

void write_tracked_state(std::string& out, const FlowSample& s, core::Timestamp now,
                         std::string_view dpi_state) {
  if (!dpi_state.empty()) {
    const bool tcp = s.key.proto == decode::ip_proto::tcp;
    const bool open =
        s.tcp_state == flow::TcpState::established || s.tcp_state == flow::TcpState::none;
    if (!tcp || (open && !s.ended)) {
      out.assign(dpi_state);
      return;
    }
  }
  write_tracked_state(out, s, now);
}

}  // namespace

std::string proto_name(std::uint8_t proto) {
  std::string out;
  write_proto_name(out, proto, false);
  return out;
}

std::string tracked_state(const FlowSample& s, core::Timestamp now, std::string_view dpi_state) {
  std::string out;
  write_tracked_state(out, s, now, dpi_state);
  return out;
}

std::string tracked_state(const FlowSample& s, core::Timestamp now) {
  std::string out;
  write_tracked_state(out, s, now);
  return out;
}

struct TickBuilder::Impl {
  TickBuilderConfig cfg;
  std::unordered_map<ConnId, Conn, ConnIdHash> conns;
  std::deque<ConnId> closed_order;  // closed connections, oldest first (keep_history)
  // Without keep_history: closed connections and when they closed, to forget them without
  // a pass over every connection. Roughly in order (within a refresh).
  std::deque<std::pair<std::int64_t, ConnId>> closing;
  std::vector<Conn*> listed_conns;  // this tick's listed connections, in order
  std::vector<Conn*> fresh_conns;   // first seen in this tick's samples, not yet placed
  // Connections by their flow's index in the table's pool (FlowSample::table_index): a
  // sample finds its connection here without hashing its key; checked against the key
  // and first packet time (the index is reused by later flows), else the map is asked.
  std::vector<Conn*> by_index;
  // Every connection of `conns`, in no particular order (Conn::all_index): the tick's
  // pass over them.
  std::vector<Conn*> all_conns;
  std::map<ProcKey, Proc> procs;
  std::unordered_map<core::IpAddress, Remote, AddrHash> remotes;
  std::vector<Iface> ifaces;
  std::unordered_set<core::IpAddress, AddrHash> learned_local;  // replay without --local-net
  std::deque<std::pair<std::int64_t, std::uint64_t>> packet_samples;
  std::uint64_t tick_no = 0;
  std::uint64_t closed_dropped = 0;
  std::uint64_t remotes_forgotten = 0;  // sweep_groups
  DnsNameMap dns_names;
  std::deque<DnsEventRecord> run_dns;  // keep_history: the run's DNS transactions
  std::uint64_t dns_events = 0;        // seen since the start
  std::uint64_t run_dns_dropped = 0;   // not kept in run_dns (max_dns_events)
  core::Timestamp started;
  core::Timestamp last_time;
  TickInput last_in;  // interfaces and counters of the latest tick (whole_run)

  // The previous snapshot (tick_shared), whose unchanged records the next tick copies.
  std::shared_ptr<Snapshot> prev_snap;
  // The one before it, kept to be recycled by the next tick (tick_shared).
  std::shared_ptr<Snapshot> spare;
  TickBuilder::Stats stats;
  std::vector<std::uint32_t> built;  // indexes of the records built by the latest tick

  std::size_t samples_per_window() const {
    const double n = cfg.refresh_s > 0 ? cfg.window_s / cfg.refresh_s : 0;
    return static_cast<std::size_t>(std::clamp(n, 0.0, 62.0)) + 2;
  }
  std::int64_t window_ns() const { return static_cast<std::int64_t>(cfg.window_s * 1e9); }
  std::int64_t refresh_ns() const {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(cfg.refresh_s * 1e9));
  }

  bool local(const core::IpAddress& a) const {
    if (cfg.is_local) return cfg.is_local(a);
    return learned_local.contains(a);
  }

  // Which side is local, decided once when the connection is first seen.
  void place(Conn& c) {
    const FlowSample& s = c.s;
    const bool a_local = local(s.key.addr_a);
    const bool b_local = local(s.key.addr_b);
    if (a_local != b_local) {
      c.local_is_a = a_local;
      c.sure = static_cast<bool>(cfg.is_local);
      return;
    }
    // Both local (traffic between two local addresses): the client's socket is the one
    // shown. Neither: forwarded through this host; shown from the client's side.
    c.local_is_a = s.client_is_a;
    c.forwarded = !a_local && static_cast<bool>(cfg.is_local);
  }

  Cum oriented(const Conn& c) const {
    const int up = c.local_dir();
    const int down = 1 - up;
    Cum k;
    k.bytes_up = c.s.dir[up].bytes;
    k.bytes_down = c.s.dir[down].bytes;
    k.packets_up = c.s.dir[up].packets;
    k.packets_down = c.s.dir[down].packets;
    k.payload_up = c.s.dir[up].payload_bytes;
    k.payload_down = c.s.dir[down].payload_bytes;
    return k;
  }

  Proc& proc(const ProcKey& k) {
    auto [it, inserted] = procs.try_emplace(k);
    if (inserted && k != kUnknown && cfg.resolver != nullptr) {
      if (auto d = cfg.resolver->details(k.first, k.second)) {
        it->second.details = std::move(*d);
        it->second.has_details = true;
      } else {
        it->second.details.pid = k.first;
        it->second.details.name = "pid " + std::to_string(k.first);
      }
    }
    return it->second;
  }

  void resolve(Conn& c) {
    if (cfg.resolver == nullptr) return;
    const std::uint8_t p = c.s.key.proto;
    if (p != decode::ip_proto::tcp && p != decode::ip_proto::udp) return;
    // Owned connections are asked again while open: the kernel state and RTT move.
    if (c.owner && c.closed) return;
    if (!c.owner && c.miss != "pending" && c.closed) return;
    // The socket table has not changed since the last answer (an idle host): the answer
    // would be the same, and asking costs hash probes and strings per connection.
    const std::uint64_t generation = cfg.resolver->generation();
    if (generation != 0 && generation == c.resolved_generation) return;
    c.resolved_generation = generation;
    // The generation moves with any change anywhere in the table (every targeted lookup,
    // every refresh that found a socket moved): the record is rebuilt only when this
    // connection's answer changed, not for each of 10,000 idle connections.
    Resolution r = cfg.resolver->resolve(p, c.local(), c.remote());
    if (r.owner && r.owner->local && *r.owner->local == c.remote()) {
      // The peer's socket, in another namespace of this host (a container talking to
      // us). When the addresses say which side is ours, it is not our owner.
      if (c.sure) {
        r.owner.reset();
        r.miss = "pending";
        if (c.peer_only_tick == 0) c.peer_only_tick = tick_no;
      } else {
        turn_around(c);
      }
    }
    if (r.owner) {
      if (c.peer_only_tick != 0) c.dirty = true;
      c.peer_only_tick = 0;
      if (!c.owner || c.owner->pid != r.owner->pid ||
          c.owner->start_ticks != r.owner->start_ticks) {
        c.owner = std::make_unique<OwnerInfo>(std::move(*r.owner));
        c.dirty = true;
      } else if (c.owner->kernel_state != r.owner->kernel_state ||
                 c.owner->kernel_rtt_ms != r.owner->kernel_rtt_ms ||
                 c.owner->quality != r.owner->quality) {
        c.owner->kernel_state = r.owner->kernel_state;
        c.owner->kernel_rtt_ms = r.owner->kernel_rtt_ms;
        c.owner->quality = r.owner->quality;
        c.dirty = true;
      }
    } else if (!c.owner && c.miss != r.miss) {
      c.miss = r.miss;
      c.dirty = true;
    }
  }

  // The owning socket holds the side we took for remote (forwarded traffic of a
  // container, or two local addresses): swap sides, and re-credit what was credited with
  // up and down the wrong way round.
  void turn_around(Conn& c) {
    proc_of(c).cum.add(c.credited, -1);
    remote_of(c).cum.add(c.credited, -1);
    release_remote(c);
    c.dirty = true;
    if (c.s.interface_id < ifaces.size()) ifaces[c.s.interface_id].cum.add(c.credited, -1);
    c.credited = Cum{};
    c.samples.clear();
    c.resolved_generation = 0;  // asked about the other side so far
    c.local_is_a = !c.local_is_a;
    c.forwarded = false;
    c.cum = oriented(c);
  }

  // A connection's groups, found once and then held (Proc::refs, Remote::refs): a group
  // is forgotten only when no connection holds it (sweep_groups).
  Remote& remote_of(Conn& c) {
    if (c.remote_group == nullptr) {
      c.remote_group = &remotes[c.remote().addr];
      ++c.remote_group->refs;
    }
    return *c.remote_group;
  }
  Proc& proc_of(Conn& c) {
    if (c.proc == nullptr) {
      c.proc = &proc(c.credited_to);
      ++c.proc->refs;
    }
    return *c.proc;
  }
  void release_remote(Conn& c) {
    if (c.remote_group != nullptr) --c.remote_group->refs;
    c.remote_group = nullptr;
  }
  void release_proc(Conn& c) {
    if (c.proc != nullptr) --c.proc->refs;
    c.proc = nullptr;
  }

  // Credits what the connection gained since the last tick to its groups.
  void credit(Conn& c) {
    const ProcKey target = c.owner ? ProcKey{c.owner->pid, c.owner->start_ticks} : kUnknown;
    if (target != c.credited_to) {
      // Attributed late: what went to <UNKNOWN> so far belongs to the process.
      proc_of(c).cum.add(c.credited, -1);
      release_proc(c);
      c.credited_to = target;
      proc_of(c).cum.add(c.credited, +1);
      c.dirty = true;
    }
    if (c.cum == c.credited) return;  // nothing new
    Cum delta = c.cum;
    delta.add(c.credited, -1);
    proc_of(c).cum.add(delta, +1);
    remote_of(c).cum.add(delta, +1);
    if (c.s.interface_id >= ifaces.size()) ifaces.resize(c.s.interface_id + 1u);
    ifaces[c.s.interface_id].cum.add(delta, +1);
    c.credited = c.cum;
  }

  void update_rates(Conn& c, std::int64_t now) {
    // What a window holds at a steady refresh (window/refresh + 2; more only when ticks
    // come late), allocated once: growing by doubling would leave 8 for 7.
    if (c.samples.capacity() == 0) c.samples.reserve(samples_per_window());
    c.samples.push_back({now, c.cum.bytes_up, c.cum.bytes_down});
    const std::int64_t horizon = now - window_ns() + refresh_ns() / 2;
    // Keep exactly one sample at or before the horizon (the base of the rate).
    std::size_t drop = 0;
    while (c.samples.size() - drop >= 2 && c.samples[drop + 1].t_ns <= horizon) ++drop;
    c.samples.erase(c.samples.begin(), c.samples.begin() + static_cast<std::ptrdiff_t>(drop));
    const RateSample& base = c.samples.front();
    if (base.t_ns <= horizon && base.t_ns < now) {
      const double dt = static_cast<double>(now - base.t_ns) / 1e9;
      set_rates(c, static_cast<double>(c.cum.bytes_up - base.up) / dt,
                static_cast<double>(c.cum.bytes_down - base.down) / dt);
      return;
    }
    // Younger than the window: every byte it has is inside the window.
    const double running = static_cast<double>(now - started.ns) / 1e9;
    const double dt = std::max(1e-3, std::min(cfg.window_s, running));
    set_rates(c, static_cast<double>(c.cum.bytes_up) / dt,
              static_cast<double>(c.cum.bytes_down) / dt);
  }

  static void set_rates(Conn& c, double up, double down) {
    if (up != c.rate_up || down != c.rate_down) c.dirty = true;
    c.rate_up = up;
    c.rate_down = down;
  }

  // What the record of a connection shows that depends on the clock as well as on the
  // connection: whether it is idle for its timeout, stale, idle for a connectionless
  // state, and whether a peer-only lookup has become "closed" (see record()).
  std::uint8_t time_key(const Conn& c, std::int64_t now) const {
    const FlowSample& s = c.s;
    const std::int64_t idle = now - s.last_seen.ns;
    std::uint8_t k = 0;
    if (idle < static_cast<std::int64_t>(cfg.idle_after_s * 1e9)) k |= 1;
    if (s.timeout_ns > 0 && idle * 4 >= s.timeout_ns * 3) k |= 2;
    if (idle > kIdleAfterNs) k |= 4;
    if (!c.owner && c.peer_only_tick != 0 && tick_no >= c.peer_only_tick + 2) k |= 8;
    return k;
  }

  // Whether two samples of a flow show the same thing: no packet, no state change, no new
  // DPI fields in between.
  static bool same_sample(const FlowSample& a, const FlowSample& b) {
    for (int d = 0; d < 2; ++d) {
      if (a.dir[d].packets != b.dir[d].packets || a.dir[d].bytes != b.dir[d].bytes ||
          a.dir[d].payload_bytes != b.dir[d].payload_bytes) {
        return false;
      }
    }
    return !b.dpi && a.ended == b.ended && a.tcp_state == b.tcp_state &&
           a.last_seen.ns == b.last_seen.ns && a.timeout_ns == b.timeout_ns &&
           a.active_timeout_ns == b.active_timeout_ns && a.icmp_echo == b.icmp_echo &&
           a.arp_state == b.arp_state && a.rtt_ms == b.rtt_ms && a.interface_id == b.interface_id &&
           a.client_is_a == b.client_is_a;
  }

  // Open, or closed within the window. A connection closed at this very tick is listed
  // even when the window is shorter than the refresh, so that every connection appears
  // closed in at least one snapshot (readers derive close events and IPFIX records).
  bool active(const Conn& c, std::int64_t now) const {
    return !c.closed || c.closed_tick == tick_no || now - c.closed_ns <= window_ns();
  }

  // Unattributed connections by reason ("closed", "kernel", ...), for "<UNKNOWN>".
  using Reasons = std::map<std::string, std::uint64_t, std::less<>>;
  void count_reason(Reasons& reasons, const Conn& c) const {
    thread_local std::string text;
    set_attribution(text, c);
    const std::string_view reason = std::string_view(text).substr(8);  // after "unknown:"
    if (auto it = reasons.find(reason); it != reasons.end()) {
      ++it->second;
    } else {
      reasons.emplace(reason, 1);
    }
  }

  // The connection's `attribution` into `out`, reusing its buffer.
  void set_attribution(std::string& out, const Conn& c) const {
    if (c.owner) {
      out = c.owner->quality;
      return;
    }
    const std::uint8_t p = c.s.key.proto;
    if (cfg.resolver == nullptr) {
      out = "unknown:offline";
    } else if (c.forwarded) {
      out = "unknown:forwarded";
    } else if ((p != decode::ip_proto::tcp && p != decode::ip_proto::udp) ||
               c.miss == "no_socket") {
      out = "unknown:kernel";
    } else if (c.miss == "pending" && c.closed) {
      out = "unknown:closed";
    } else if (c.miss == "pending" && c.peer_only_tick != 0 && tick_no >= c.peer_only_tick + 2) {
      // Only the peer's socket was found, and two refreshes later still nothing of ours:
      // the lookup asked for at the first had its answer by the next, so our socket is
      // gone (a dig or curl that ended within milliseconds, a TIME_WAIT without an inode).
      out = "unknown:closed";
    } else {
      out = "unknown:";
      out += c.miss;
    }
  }

  const std::string& remote_host(const Conn& c) const {
    static const std::string kNone;
    if (c.remote_group != nullptr) return c.remote_group->host;
    auto it = remotes.find(c.remote().addr);
    return it != remotes.end() ? it->second.host : kNone;
  }

  ConnectionRecord record(const Conn& c, core::Timestamp now) const {
    ConnectionRecord r;
    fill_record(r, c, now);
    return r;
  }

  // Writes every field of `r` (which may hold an older record: its strings' buffers are
  // reused, so a record rebuilt in a recycled snapshot allocates nothing), in the
  // struct's order. A field not set here would keep the older record's value.
  void fill_record(ConnectionRecord& r, const Conn& c, core::Timestamp now) const {
    const FlowSample& s = c.s;
    r.proto = s.key.proto;
    write_proto_name(r.proto_name, s.key.proto, false);
    const core::Endpoint l = c.local();
    const core::Endpoint rm = c.remote();
    r.local_addr = l.addr;
    r.local_port = l.port;
    r.remote_addr = rm.addr;
    r.remote_port = rm.port;
    set(r.remote_host, remote_host(c));
    if (s.interface_id < last_in.interfaces.size()) {
      set(r.interface, last_in.interfaces[s.interface_id].name);
    } else {
      r.interface.clear();
    }
    write_tracked_state(r.state, s, now,
                        c.dpi ? std::string_view(c.dpi->state) : std::string_view());
    r.kernel_state.clear();
    r.pid.reset();
    r.process.clear();
    r.rtt_ms.reset();
    if (c.owner) {
      r.pid = c.owner->pid;
      if (!c.closed) r.kernel_state = c.owner->kernel_state;
      if (auto it = procs.find({c.owner->pid, c.owner->start_ticks}); it != procs.end()) {
        r.process = it->second.details.name;
      }
      r.rtt_ms = c.owner->kernel_rtt_ms;
    }
    set_attribution(r.attribution, c);
    r.bytes_up = c.cum.bytes_up;
    r.bytes_down = c.cum.bytes_down;
    r.packets_up = c.cum.packets_up;
    r.packets_down = c.cum.packets_down;
    r.payload_bytes_up = c.cum.payload_up;
    r.payload_bytes_down = c.cum.payload_down;
    r.rate_up = c.rate_up;
    r.rate_down = c.rate_down;
    if (!r.rtt_ms) r.rtt_ms = s.rtt_ms;
    r.first_seen = s.first_seen;
    r.last_seen = s.last_seen;
    // A finished TCP connection lingers in the flow table (to catch retransmissions)
    // before it ends there; to the user it is closed as soon as the FINs or RST are seen.
    const bool tcp_done =
        s.key.proto == decode::ip_proto::tcp &&
        (s.tcp_state == flow::TcpState::closed || s.tcp_state == flow::TcpState::time_wait);
    r.closed = c.closed || tcp_done;
    r.close_reason =
        c.closed ? std::string_view(c.close_reason) : std::string_view(tcp_done ? "closed" : "");
    const bool active = now.ns - s.last_seen.ns < static_cast<std::int64_t>(cfg.idle_after_s * 1e9);
    r.timeout_s =
        static_cast<double>(active ? std::max(s.timeout_ns, s.active_timeout_ns) : s.timeout_ns) /
        1e9;
    if (s.key.proto == decode::ip_proto::tcp) {
      const int up = c.local_dir();
      r.health_up = health_record(s.health[up]);
      r.health_down = health_record(s.health[1 - up]);
    } else {
      r.health_up = {};
      r.health_down = {};
    }
    if (decode::proto_has_ports(s.key.proto)) {
      const std::uint16_t server_port = s.client_is_a ? s.key.port_b : s.key.port_a;
      r.service = enrich::service_name(server_port, s.key.proto);
    } else {
      r.service.clear();
    }
    if (r.dpi.shared() != c.dpi) r.dpi.reset(c.dpi);
    r.state_heuristic = c.dpi && c.dpi->state_heuristic && r.state == c.dpi->state;
    // Enrichment is the decorators' (MonitorConfig::decorators), after the tick.
    r.country.clear();
    r.asn.reset();
    r.asn_org.clear();
    r.alert.clear();
  }

  // dst = src, without the library call when they are equal already (most of a record's
  // DPI fields are empty in both, tick after tick).
  static void set(std::string& dst, const std::string& src) {
    if (dst.size() != src.size() || dst != src) dst = src;
  }

  ProcessRecord process_record(const ProcKey& k, const Proc& p, const Reasons& reasons) const {
    ProcessRecord r;
    if (k == kUnknown) {
      r.name = "<UNKNOWN>";
      // Most frequent reason first.
      std::vector<std::pair<std::uint64_t, std::string>> byn;
      for (const auto& [reason, n] : reasons) byn.emplace_back(n, reason);
      std::sort(byn.begin(), byn.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      for (const auto& [n, reason] : byn) {
        if (!r.unknown_reason.empty()) r.unknown_reason += ",";
        r.unknown_reason += reason;
      }
    } else {
      const ProcessDetails& d = p.details;
      r.pid = k.first;
      r.ppid = d.ppid;
      r.name = d.name;
      r.cmdline = d.cmdline;
      r.exe = d.exe;
      r.uid = d.uid;
      r.user = d.user;
      r.container = d.container;
      r.container_runtime = d.container_runtime;
      r.pod_uid = d.pod_uid;
      r.unit = d.unit;
      r.start_time = d.start_time;
      r.exited = p.exited;
    }
    r.bytes_up = p.cum.bytes_up;
    r.bytes_down = p.cum.bytes_down;
    r.packets_up = p.cum.packets_up;
    r.packets_down = p.cum.packets_down;
    r.rate_up = p.rate_up;
    r.rate_down = p.rate_down;
    r.connections = p.connections;
    r.history.assign(p.history.begin(), p.history.end());
    r.dns_history.assign(p.dns_history.begin(), p.dns_history.end());
    return r;
  }

  RemoteRecord remote_record(const core::IpAddress& a, const Remote& rm) const {
    RemoteRecord r;
    r.addr = a;
    r.host = rm.host;
    r.bytes_up = rm.cum.bytes_up;
    r.bytes_down = rm.cum.bytes_down;
    r.rate_up = rm.rate_up;
    r.rate_down = rm.rate_down;
    r.connections = rm.connections;
    return r;
  }

  void fill_common(Snapshot& snap, const TickInput& in) const {
    snap.started = started;
    snap.window_s = cfg.window_s;
    snap.refresh_s = cfg.refresh_s;
    snap.replay = cfg.replay;
    snap.end_of_input = in.end_of_input;
    for (std::size_t i = 0; i < in.interfaces.size(); ++i) {
      InterfaceRecord r;
      r.name = in.interfaces[i].name;
      r.drops = in.interfaces[i].drops;
      r.up = in.interfaces[i].up;
      r.error = in.interfaces[i].error;
      if (i < ifaces.size()) {
        r.bytes_up = ifaces[i].cum.bytes_up;
        r.bytes_down = ifaces[i].cum.bytes_down;
        r.packets = ifaces[i].cum.packets_up + ifaces[i].cum.packets_down;
      }
      snap.totals.bytes_up += r.bytes_up;
      snap.totals.bytes_down += r.bytes_down;
      snap.totals.kernel_drops += r.drops;
      snap.interfaces.push_back(std::move(r));
    }
    snap.totals.packets = in.packets;
    snap.totals.flows = in.flows_in_table;
    snap.totals.flows_evicted = in.flows_evicted;
    snap.totals.attribution_overflow = in.attribution_overflow;
    snap.totals.closed_dropped = closed_dropped;
    snap.totals.dns_events = dns_events;
    snap.totals.dns_dropped = in.dns_dropped;
  }

  void remember_closed(const ConnId& id, const Conn& c) {
    if (cfg.keep_history) {
      closed_order.push_back(id);
    } else {
      closing.emplace_back(c.closed_ns, id);
    }
  }

  void forget_closed(std::int64_t now) {
    if (!cfg.keep_history) {
      const std::int64_t keep = window_ns() + refresh_ns();
      while (!closing.empty() && now - closing.front().first > keep) {
        auto it = conns.find(closing.front().second);
        if (it != conns.end() && it->second.closed) {
          unindex(it->second);
          conns.erase(it);
        }
        closing.pop_front();
      }
      return;
    }
    while (closed_order.size() > cfg.max_closed) {
      if (auto it = conns.find(closed_order.front()); it != conns.end()) {
        unindex(it->second);
        conns.erase(it);
      }
      closed_order.pop_front();
      ++closed_dropped;
    }
  }

  // The process that asked: the owner of the client's socket, when that socket is on
  // this host. A flow not shown as a connection (loopback traffic while it is hidden,
  // such as queries to a local stub resolver) is looked up on its own.
  std::optional<ProcKey> asker(const FlowDnsEvent& fe) {
    const dpi::DnsEvent& e = fe.event;
    const core::Endpoint client{e.client, e.client_port};
    if (auto it = conns.find(ConnId{fe.key, fe.flow_first_seen.ns}); it != conns.end()) {
      const Conn& c = it->second;
      if (c.owner && c.local() == client) return ProcKey{c.owner->pid, c.owner->start_ticks};
      return std::nullopt;
    }
    if (cfg.resolver == nullptr) return std::nullopt;
    const Resolution r = cfg.resolver->resolve(fe.key.proto, client, {e.server, e.server_port});
    if (!r.owner || (r.owner->local && *r.owner->local != client)) return std::nullopt;
    return ProcKey{r.owner->pid, r.owner->start_ticks};
  }

  void take_dns(const TickInput& in, Snapshot& snap) {
    snap.dns.reserve(in.dns.size());
    for (const FlowDnsEvent& fe : in.dns) {
      ++dns_events;
      DnsEventRecord rec = dns_record(fe.event);
      if (std::optional<ProcKey> k = asker(fe)) {
        Proc& p = proc(*k);
        p.last_dns_ns = in.time.ns;
        rec.pid = k->first;
        rec.process = p.details.name;
        if (cfg.dns_history > 0) {
          p.dns_history.push_back(rec);
          while (p.dns_history.size() > cfg.dns_history) p.dns_history.pop_front();
        }
      }
      dns_names.learn(fe.event);
      if (cfg.keep_history) {
        if (run_dns.size() < cfg.max_dns_events) {
          run_dns.push_back(rec);
        } else {
          ++run_dns_dropped;
        }
      }
      snap.dns.push_back(std::move(rec));
    }
  }

  void take_sample(const FlowSample& s, std::int64_t now) {
    // Learned local addresses (replay without --local-net): the senders of SYNs.
    if (!cfg.is_local && s.key.proto == decode::ip_proto::tcp &&
        s.client_by == flow::ClientBy::syn) {
      learned_local.insert(s.client_addr());
    }
    if (!cfg.show_localhost && is_loopback(s.key.addr_a) && is_loopback(s.key.addr_b)) return;
    Conn* found = nullptr;
    const std::uint32_t ix = s.table_index;
    if (ix < by_index.size()) {
      Conn* h = by_index[ix];
      if (h != nullptr && h->s.first_seen.ns == s.first_seen.ns && h->s.key == s.key) found = h;
    }
    bool inserted = false;
    if (found == nullptr) {
      auto [it, ins] = conns.try_emplace(ConnId{s.key, s.first_seen.ns});
      found = &it->second;
      inserted = ins;
      if (ix != FlowSample::kNoIndex) {
        if (ix >= by_index.size()) by_index.resize(std::size_t{ix} + 1, nullptr);
        by_index[ix] = found;
        found->table_index = ix;
      }
    }
    Conn& c = *found;
    if (c.closed) return;  // a stale sample of a flow that already ended
    c.seen_tick = tick_no;
    if (!inserted && same_sample(c.s, s)) return;  // an idle connection: nothing new
    c.s = s;
    c.dirty = true;
    if (s.dpi) c.dpi = s.dpi;
    if (inserted) {
      c.all_index = static_cast<std::uint32_t>(all_conns.size());
      all_conns.push_back(&c);
      fresh_conns.push_back(&c);
    } else {
      c.cum = oriented(c);
    }
    if (s.ended) {
      c.closed = true;
      c.closed_ns = std::max(s.last_seen.ns, now - refresh_ns());
      c.closed_tick = tick_no;
      c.close_reason = flow::end_reason_name(s.end_reason);
      remember_closed(ConnId{s.key, s.first_seen.ns}, c);
    }
  }

  // Before a connection is erased: its by_index entry, if still its own, goes too, and
  // its all_conns entry (the last one takes its place); it lets go of its groups.
  void unindex(Conn& c) {
    release_proc(c);
    release_remote(c);
    if (c.table_index < by_index.size() && by_index[c.table_index] == &c) {
      by_index[c.table_index] = nullptr;
    }
    Conn* last = all_conns.back();
    all_conns[c.all_index] = last;
    last->all_index = c.all_index;
    all_conns.pop_back();
  }

  Snapshot tick(const TickInput& in) {
    Snapshot snap;
    tick(in, snap, 0);
    return snap;
  }

  // Builds the tick's snapshot into `snap`, which is empty, or (recycled_tick != 0) the
  // snapshot of that tick (tick_no) taken back from the readers: its connection records
  // are updated in place, where the record of a connection that has not changed since is
  // already at its index; everything else in it has been cleared.
  void tick(const TickInput& in, Snapshot& snap, std::uint64_t recycled_tick) {
    const std::int64_t now = in.time.ns;
    if (tick_no == 0) started = in.started;
    last_time = in.time;
    ++tick_no;

    // New connections are placed (which side is local) once every sample is in: without
    // --local-net the local addresses are learned from this tick's samples too.
    fresh_conns.clear();
    if (in.sample) in.sample([&](const FlowSample& s) { take_sample(s, now); });
    for (const FlowSample& s : in.flows) take_sample(s, now);
    for (Conn* c : fresh_conns) {
      place(*c);
      c->cum = oriented(*c);
    }

    for (auto& [p, pr] : procs) {
      pr.rate_up = pr.rate_down = 0;
      pr.connections = 0;
    }
    for (auto& [a, rm] : remotes) {
      rm.rate_up = rm.rate_down = 0;
      rm.connections = 0;
    }

    Reasons unknown_reasons;
    double rate_up = 0;
    double rate_down = 0;
    listed_conns.clear();
    // Through all_conns, not the map: a chain of nodes is one cache miss after another,
    // where the vector lets the nodes (and their rate samples) be fetched ahead.
    const std::size_t n_conns = all_conns.size();
    for (std::size_t i = 0; i < n_conns; ++i) {
      if (i + 8 < n_conns) {
        const char* ahead = reinterpret_cast<const char*>(all_conns[i + 8]);
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
        __builtin_prefetch(ahead + 128);
        // The node's last members (owner, miss, close reason, DPI fields).
        __builtin_prefetch(reinterpret_cast<const char*>(&all_conns[i + 8]->dpi));
      }
      if (i + 4 < n_conns) __builtin_prefetch(all_conns[i + 4]->samples.data());
      Conn& c = *all_conns[i];
      if (!c.closed && c.seen_tick != tick_no) {
        // Vanished from the table without an end notice (the ended list was cut short):
        // closed now.
        c.closed = true;
        c.closed_ns = now;
        c.closed_tick = tick_no;
        c.close_reason = "unknown";
        c.dirty = true;
        remember_closed(ConnId{c.s.key, c.s.first_seen.ns}, c);
      }
      if (c.seen_tick == tick_no) resolve(c);
      credit(c);
      if (!active(c, now)) continue;
      listed_conns.push_back(&c);
      update_rates(c, now);
      Proc& p = proc_of(c);
      p.rate_up += c.rate_up;
      p.rate_down += c.rate_down;
      ++p.connections;
      p.last_active_ns = now;
      Remote& rm = remote_of(c);
      rm.rate_up += c.rate_up;
      rm.rate_down += c.rate_down;
      ++rm.connections;
      rm.last_active_ns = now;
      rate_up += c.rate_up;
      rate_down += c.rate_down;
      if (!c.owner) count_reason(unknown_reasons, c);
    }

    take_dns(in, snap);

    for (auto& [a, rm] : remotes) {
      if (!cfg.host_name || rm.last_active_ns != now) continue;
      if (const std::string* name = dns_names.find(a)) {
        rm.host = *name;
        rm.host_from_dns = true;
      } else if (rm.host.empty()) {
        if (auto h = cfg.host_name(a)) rm.host = std::move(*h);
      }
    }

    for (auto& [k, p] : procs) {
      p.history.push_back({p.rate_up, p.rate_down});
      while (p.history.size() > cfg.history_points) p.history.pop_front();
      if (k != kUnknown && !p.exited && cfg.resolver != nullptr &&
          !cfg.resolver->alive(k.first, k.second)) {
        p.exited = true;
      }
    }

    snap.time = in.time;
    snap.tick = tick_no - 1;
    // Everything but the samples and DNS events (a copy of every flow only to clear it).
    last_in.flows.clear();
    last_in.dns.clear();
    {
      TickInput& l = last_in;
      l.time = in.time;
      l.started = in.started;
      l.packets = in.packets;
      l.flows_in_table = in.flows_in_table;
      l.flows_evicted = in.flows_evicted;
      l.attribution_overflow = in.attribution_overflow;
      l.interfaces = in.interfaces;
      l.end_of_input = in.end_of_input;
      l.dns_dropped = in.dns_dropped;
    }
    fill_common(snap, in);
    snap.totals.rate_up = rate_up;
    snap.totals.rate_down = rate_down;
    packet_samples.emplace_back(now, in.packets);
    while (packet_samples.size() >= 2 &&
           packet_samples[1].first <= now - window_ns() + refresh_ns() / 2) {
      packet_samples.pop_front();
    }
    if (packet_samples.front().first < now) {
      snap.totals.packets_per_s = static_cast<double>(in.packets - packet_samples.front().second) /
                                  (static_cast<double>(now - packet_samples.front().first) / 1e9);
    } else if (now > started.ns) {
      snap.totals.packets_per_s =
          static_cast<double>(in.packets) / (static_cast<double>(now - started.ns) / 1e9);
    }

    // Records: a copy of the previous snapshot's for a connection that did not change;
    // none at all when a recycled snapshot already holds that record at that index.
    if (recycled_tick == 0) {
      snap.connections.clear();
      snap.connections.reserve(listed_conns.size());
    }
    if (snap.connections.size() > listed_conns.size()) {
      snap.connections.resize(listed_conns.size());
    }
    const auto put = [&snap](std::size_t i, auto&& r) {
      if (i < snap.connections.size()) {
        snap.connections[i] = std::forward<decltype(r)>(r);
      } else {
        snap.connections.push_back(std::forward<decltype(r)>(r));
      }
    };
    stats = {};
    built.clear();
    const std::vector<ConnectionRecord>* prev =
        cfg.incremental && prev_snap ? &prev_snap->connections : nullptr;
    const std::uint64_t prev_tick = prev_snap ? prev_snap->tick + 1 : 0;
    // Through the pointers gathered above, not the map: its nodes are scattered, and
    // walking its chain is one cache miss after another.
    // The connections are a KB apart in the heap: each would stall on its first read, so
    // the lines this loop reads are fetched a few connections ahead.
    constexpr std::size_t kAhead = 4;
    for (std::size_t i = 0; i < listed_conns.size(); ++i) {
      if (i + kAhead < listed_conns.size()) {
        const Conn* ahead = listed_conns[i + kAhead];
        __builtin_prefetch(&ahead->s.last_seen);
        __builtin_prefetch(&ahead->dirty);
      }
      Conn& c = *listed_conns[i];
      const std::uint8_t tk = time_key(c, now);
      const bool reuse = prev != nullptr && !c.dirty && c.rec_tick == prev_tick &&
                         c.rec_tick != 0 && tk == c.time_key && c.rec_index < prev->size() &&
                         (*prev)[c.rec_index].remote_host == remote_host(c);
      if (!reuse) {
        if (i < snap.connections.size()) {
          fill_record(snap.connections[i], c, in.time);  // its strings' buffers reused
        } else {
          fill_record(snap.connections.emplace_back(), c, in.time);
        }
        ++stats.records_built;
        built.push_back(static_cast<std::uint32_t>(i));
      } else if (recycled_tick != 0 && c.same_tick == recycled_tick && c.same_index == i) {
        ++stats.records_in_place;  // unchanged since the recycled snapshot, same place
        ++stats.records_reused;
      } else {
        put(i, (*prev)[c.rec_index]);
        ++stats.records_reused;
      }
      // The record at tick_no equals the one at prev_tick, at index rec_index there.
      c.same_tick = reuse ? prev_tick : 0;
      c.same_index = c.rec_index;
      c.dirty = false;
      c.time_key = tk;
      c.rec_index = static_cast<std::uint32_t>(i);
      c.rec_tick = tick_no;
    }
    for (const auto& [k, p] : procs) {
      if (p.connections > 0) {
        snap.processes.push_back(process_record(k, p, unknown_reasons));
      }
    }
    for (const auto& [a, rm] : remotes) {
      if (rm.connections > 0) {
        snap.remotes.push_back(remote_record(a, rm));
      }
    }
    forget_closed(now);
    sweep_groups(now);
    stats.process_groups = procs.size();
    stats.remote_groups = remotes.size();
    stats.remotes_forgotten = remotes_forgotten;
  }

  // Without keep_history (a whole-run document lists them all): forgets the groups no
  // connection holds (TickBuilderConfig::max_idle_remotes). The <UNKNOWN> groups stay.
  void sweep_groups(std::int64_t now) {
    if (cfg.keep_history) return;
    const std::int64_t idle_after = window_ns() + refresh_ns();
    for (auto it = procs.begin(); it != procs.end();) {
      const Proc& p = it->second;
      const bool gone = it->first != kUnknown && p.exited && p.refs == 0 &&
                        now - std::max(p.last_active_ns, p.last_dns_ns) > idle_after;
      it = gone ? procs.erase(it) : std::next(it);
    }
    if (remotes.size() <= cfg.max_idle_remotes) return;
    // Down to seven eighths of the bound, so that a flood sweeps once every few ticks,
    // not at each one.
    std::vector<std::pair<std::int64_t, core::IpAddress>> idle;
    for (const auto& [a, rm] : remotes) {
      if (rm.refs == 0 && now - rm.last_active_ns > idle_after)
        idle.emplace_back(rm.last_active_ns, a);
    }
    const std::size_t keep = cfg.max_idle_remotes - cfg.max_idle_remotes / 8;
    const std::size_t excess = remotes.size() > keep ? remotes.size() - keep : 0;
    const std::size_t n = std::min(excess, idle.size());
    std::nth_element(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(n), idle.end());
    for (std::size_t i = 0; i < n; ++i) remotes.erase(idle[i].second);
    remotes_forgotten += n;
  }

  Snapshot whole_run() const {
    Snapshot snap;
    snap.time = last_time;
    snap.tick = tick_no == 0 ? 0 : tick_no - 1;
    fill_common(snap, last_in);
    Reasons unknown_reasons;
    for (const auto& [id, c] : conns) {
      snap.connections.push_back(record(c, last_time));
      snap.totals.rate_up += c.closed ? 0 : c.rate_up;
      snap.totals.rate_down += c.closed ? 0 : c.rate_down;
      if (!c.owner) count_reason(unknown_reasons, c);
    }
    for (const auto& [k, p] : procs) {
      if (k == kUnknown && p.cum.packets_up + p.cum.packets_down == 0) continue;
      snap.processes.push_back(process_record(k, p, unknown_reasons));
    }
    for (const auto& [a, rm] : remotes) {
      if (rm.cum.packets_up + rm.cum.packets_down > 0) snap.remotes.push_back(remote_record(a, rm));
    }
    snap.dns.assign(run_dns.begin(), run_dns.end());
    snap.totals.dns_dropped += run_dns_dropped;
    return snap;
  }
};

TickBuilder::TickBuilder(TickBuilderConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->dns_names = DnsNameMap(config.max_dns_names);
  impl_->cfg = std::move(config);
}
TickBuilder::~TickBuilder() = default;

std::shared_ptr<Snapshot> TickBuilder::tick_shared(const TickInput& in) {
  Impl& m = *impl_;
  // The snapshot before the previous one, if no reader holds it any more (no other
  // reference: nobody can take one, as readers only get snapshots from the monitor,
  // which has moved on to later ones). The acquire fence pairs with the release of the
  // readers' last references, so their reads are done before it is written.
  std::shared_ptr<Snapshot> snap;
  std::uint64_t recycled_tick = 0;
  if (m.spare && m.spare.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);
    snap = std::move(m.spare);
    recycled_tick = snap->tick + 1;
    std::vector<ConnectionRecord> records = std::move(snap->connections);
    *snap = Snapshot{};
    snap->connections = std::move(records);
  } else {
    m.spare.reset();
    snap = std::make_shared<Snapshot>();
  }
  m.tick(in, *snap, recycled_tick);
  // Kept one tick longer to be recycled, while small enough that the memory of a second
  // snapshot is worth the copies it saves (TickBuilderConfig::recycle_max).
  if (m.cfg.incremental && m.prev_snap && m.prev_snap->connections.size() <= m.cfg.recycle_max &&
      snap->connections.size() <= m.cfg.recycle_max) {
    m.spare = std::move(m.prev_snap);
  }
  m.prev_snap = snap;
  return snap;
}
Snapshot TickBuilder::tick(const TickInput& in) {
  impl_->prev_snap.reset();  // not kept: the next tick rebuilds every record
  impl_->spare.reset();
  return impl_->tick(in);
}
const std::vector<std::uint32_t>& TickBuilder::last_built() const {
  return impl_->built;
}

TickBuilder::Stats TickBuilder::last_stats() const {
  return impl_->stats;
}
Snapshot TickBuilder::whole_run() const {
  return impl_->whole_run();
}

}  // namespace netscope::monitor
