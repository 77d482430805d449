#pragma once
// Snapshot: everything a reader (TUI, --raw, --json-lines, `snapshot`, exporters) may know
// about one tick of the live engine, as plain values. The engine builds a new one per
// refresh and publishes it as shared_ptr<const Snapshot>; readers never touch the flow
// table (ARCHITECTURE.md "One pipeline, many readers"). Field names follow the record
// keys of the Conventions; an unknown value is an empty optional or an empty string,
// which the JSON writers print as null.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"
#include "dpi/inspector.hpp"

namespace netscope::monitor {

// Bytes per second, up (sent from a local address) and down (received by one).
struct RatePoint {
  double up = 0;
  double down = 0;
};

// TCP health of one direction (Conventions "TCP health").
struct TcpHealthRecord {
  std::uint64_t retransmissions = 0;
  std::uint64_t fast_retransmissions = 0;
  std::uint64_t spurious_retransmissions = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t dup_acks = 0;
  std::uint64_t dup_ack_events = 0;
  std::uint64_t zero_windows = 0;
  std::uint64_t rsts = 0;
  bool operator==(const TcpHealthRecord&) const = default;
};

// A connection's DPI fields, shared with the tick builder (dpi::DpiFields).
using dpi::DpiFields;

struct ConnectionRecord {
  std::uint8_t proto = 0;  // IP protocol number
  std::string proto_name;  // "tcp", "udp", "icmp", ...
  core::IpAddress local_addr;
  std::uint16_t local_port = 0;
  core::IpAddress remote_addr;
  std::uint16_t remote_port = 0;
  std::string remote_host;     // reverse DNS / DNS answer name; empty when unknown
  std::string interface;       // capture interface the flow was first seen on
  std::string state;           // tracked from packets: "ESTABLISHED", "UDP_ACTIVE", ...
  std::string kernel_state;    // from sock_diag; empty when unknown
  std::optional<pid_t> pid;    // empty when unattributed
  std::string process;         // comm of the owner; empty when unattributed
  std::string attribution;     // "exact", "listener", "local_port" or "unknown:<reason>"
  std::uint64_t bytes_up = 0;  // IP bytes (Conventions)
  std::uint64_t bytes_down = 0;
  std::uint64_t packets_up = 0;
  std::uint64_t packets_down = 0;
  std::uint64_t payload_bytes_up = 0;
  std::uint64_t payload_bytes_down = 0;
  double rate_up = 0;  // bytes/s over the rate window
  double rate_down = 0;
  std::optional<double> rtt_ms;  // kernel tcp_info when attributed, else measured
  core::Timestamp first_seen;
  core::Timestamp last_seen;
  bool closed = false;
  std::string close_reason;     // "closed", "idle_timeout", "evicted", "end_of_input"
  double timeout_s = 0;         // idle timeout in the current state (staleness colors)
  TcpHealthRecord health_up;    // segments sent by the local side
  TcpHealthRecord health_down;  // segments sent by the remote side
  std::string service;          // the server port's name ("https"); empty when unknown
  // DPI fields (app, sni, alpn, tls_version, ja3, ja4, http_*, ssh_*, quic_version,
  // ndpi_*), shared with the tick builder; `dpi->sni` reads one (empty when unknown).
  // `state` above is the DPI state when the protocol defines one (QUIC_*, SSH_*, DNS_*).
  DpiFields dpi;
  bool state_heuristic = false;  // `state` was inferred from packet sizes (SSH)
  // Enrichment of the remote address (MonitorConfig::decorators); empty when unknown.
  std::string country;  // ISO 3166 code, or "private"/"reserved" for such ranges
  std::optional<std::uint32_t> asn;
  std::string asn_org;
  // The blacklist entry this connection matched (address, CIDR or domain); empty if none.
  std::string alert;
  // Field by field (tests: an incremental tick against a rebuilt one).
  bool operator==(const ConnectionRecord&) const = default;
};

// How far a connection is into its idle timeout at `now`: the seconds since its last
// packet over `timeout_s`, its current state's timeout, clamped to 0..1 (0 when it has
// none). 1 is where the flow table ages a connection out (live, a socket the kernel
// still reports is kept), and a closed one in CLOSED or TIME_WAIT is a tombstone until
// then. The TUI's colors and the JSON records' `staleness` are this.
inline double staleness(const ConnectionRecord& c, core::Timestamp now) {
  if (c.timeout_s <= 0) return 0;
  const double idle = static_cast<double>(now.ns - c.last_seen.ns) / 1e9;
  return idle <= 0 ? 0 : idle >= c.timeout_s ? 1 : idle / c.timeout_s;
}

// One DNS transaction (Conventions "dns event"), attributed to the process that owns the
// client's socket when that is on this host.
struct DnsEventRecord {
  core::Timestamp time;
  std::optional<pid_t> pid;
  std::string process;
  core::IpAddress server;
  std::string query;
  std::string qtype;
  std::optional<std::string> rcode;
  std::optional<int> rcode_code;
  std::vector<std::string> answers;
  std::optional<double> latency_ms;
  std::string alert;  // the blacklist entry the query or an answer matched; empty if none
};

struct ProcessRecord {
  std::optional<pid_t> pid;  // empty for the "<UNKNOWN>" group
  std::optional<pid_t> ppid;
  std::string name;  // comm, or "<UNKNOWN>"
  std::string cmdline;
  std::string exe;
  std::optional<std::uint32_t> uid;
  std::string user;
  std::string container;          // first 12 hex digits of the container id
  std::string container_runtime;  // "docker", "containerd", "cri-o", "podman"; empty: unknown
  std::string pod_uid;            // Kubernetes pod UID; empty outside a pod
  std::string unit;               // systemd unit ("nginx.service", "session-2.scope")
  std::optional<core::Timestamp> start_time;
  bool exited = false;
  std::string unknown_reason;  // for "<UNKNOWN>" groups: "closed", "forwarded", ...
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t packets_up = 0;
  std::uint64_t packets_down = 0;
  double rate_up = 0;
  double rate_down = 0;
  std::uint64_t connections = 0;   // connections open or active in the window
  std::vector<RatePoint> history;  // one point per tick, oldest first, at most 60
  // The process's latest DNS transactions, oldest first (TickBuilderConfig::dns_history).
  std::vector<DnsEventRecord> dns_history;
};

struct RemoteRecord {
  core::IpAddress addr;
  std::string host;  // empty when unknown
  std::string country;
  std::optional<std::uint32_t> asn;
  std::string asn_org;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  double rate_up = 0;
  double rate_down = 0;
  std::uint64_t connections = 0;
};

struct InterfaceRecord {
  std::string name;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t packets = 0;
  std::uint64_t drops = 0;  // kernel drops (pcap_stats ps_drop + ps_ifdrop)
  bool up = true;
  std::string error;  // why capture stopped on it; empty while fine
};

struct Totals {
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t packets = 0;  // packets captured
  double rate_up = 0;
  double rate_down = 0;
  double packets_per_s = 0;
  std::uint64_t flows = 0;          // flows in the table now
  std::uint64_t flows_evicted = 0;  // flows ended because the table was full
  std::uint64_t kernel_drops = 0;
  std::uint64_t attribution_overflow = 0;  // lookups dropped because the queue was full
  std::uint64_t closed_dropped = 0;        // closed connections not kept (bound hit)
  std::uint64_t dns_events = 0;            // DNS transactions seen since the start
  // DNS transactions lost to a bound: the packet path's queue between two ticks, or
  // (whole-run document) the run's DNS list.
  std::uint64_t dns_dropped = 0;
};

struct Snapshot {
  core::Timestamp time;     // the tick: wall clock live, packet time for --read
  core::Timestamp started;  // first tick's start
  double window_s = 5;      // rate window
  double refresh_s = 1;
  bool replay = false;        // --read
  bool end_of_input = false;  // the last snapshot of a replay
  std::uint64_t tick = 0;     // 0, 1, 2, ...
  std::vector<ConnectionRecord> connections;
  std::vector<ProcessRecord> processes;
  std::vector<RemoteRecord> remotes;
  std::vector<InterfaceRecord> interfaces;
  // Events since the previous tick; in the whole-run document, every event of the run
  // (up to TickBuilderConfig::max_dns_events).
  std::vector<DnsEventRecord> dns;
  Totals totals;
};

}  // namespace netscope::monitor
