#pragma once
// FlowMeter: the IPFIX metering process over netscope's snapshots. A snapshot lists every
// open connection and every connection that closed within the rate window, with
// cumulative counters (TickBuilder); the meter keeps, per connection (5-tuple and first
// packet time), what it has already exported and turns the difference into unidirectional
// delta records (RFC 7011 §2 "Flow Record", octetDeltaCount/packetDeltaCount):
//
// - end of flow: the first snapshot showing the connection closed exports what is left,
//   with flowEndReason 3 (FIN/RST), 1 (idle timeout in the flow table), 5 (evicted from a
//   full table, or lost from the table's end list) or 4 (end of a replayed file). Packets
//   that still arrive after that (the last ACK of a FIN exchange) go out in a further
//   record with the same reason;
// - idle timeout (RFC 7011 §5.1 "idle timeout"): a connection with unexported packets and
//   none for `idle_s` exports them with reason 1, and a later packet starts a new record;
// - active timeout: a connection with unexported packets whose record started `active_s`
//   ago exports them with reason 2, so that long connections report periodically;
// - flush() at shutdown exports everything pending with reason 4 (forced end).
//
// Timing follows the snapshots (one refresh): a record's flowStartMilliseconds is the
// connection's first packet for its first record and the previous record's end for the
// next ones; flowEndMilliseconds is the connection's last packet when the record is cut.
// tcpControlBits are derived from the tracked TCP state (SYN when the handshake was seen,
// ACK after the first packet, FIN when the connection closed with FINs, RST when the
// direction sent one), not ORed from every packet.

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "monitor/snapshot.hpp"
#include "output/ipfix.hpp"

namespace netscope::output::ipfix {

struct MeterConfig {
  double active_s = 60;  // --ipfix-active
  double idle_s = 15;    // --ipfix-idle
};

class FlowMeter {
 public:
  explicit FlowMeter(MeterConfig config) : cfg_(config) {}

  // Appends to `out` the records due at this snapshot.
  void update(const monitor::Snapshot& snap, std::vector<FlowRecord>& out);
  // Appends everything not yet exported, with flowEndReason 4, and forgets it all.
  void flush(std::vector<FlowRecord>& out);

  std::size_t tracked() const { return conns_.size(); }

 private:
  struct Key {
    core::IpAddress addr_lo;
    core::IpAddress addr_hi;
    std::uint16_t port_lo = 0;
    std::uint16_t port_hi = 0;
    std::uint8_t proto = 0;
    std::int64_t first_ns = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  // Counters and flags of one direction, by the canonical order of the key (0: lo -> hi).
  struct Dir {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
  };
  struct Conn {
    Key key;
    bool up_is_lo = true;        // the local side is addr_lo (direction 0 is up)
    bool tcp_handshake = false;  // the connection was seen from its handshake
    bool fin = false;            // closed by FINs (close_reason "closed" without RST)
    std::uint64_t rsts[2] = {0, 0};
    std::string process;
    std::uint32_t pid = 0;
    std::string user;
    std::string app;
    std::string sni;
    std::array<Dir, 2> exported{};
    std::array<Dir, 2> now{};
    std::int64_t record_start_ms = 0;
    std::int64_t last_packet_ms = 0;  // the connection's last_seen when its counters last moved
    std::int64_t last_end_ms = 0;     // flowEndMilliseconds of its previous record
    bool syn_reported[2] = {false, false};
    std::uint64_t seen = 0;  // the snapshot it was last listed in
  };

  static Key key_of(const monitor::ConnectionRecord& c, bool& up_is_lo);
  static bool pending(const Conn& c);
  void export_conn(Conn& c, EndReason reason, std::vector<FlowRecord>& out);

  MeterConfig cfg_;
  std::unordered_map<Key, Conn, KeyHash> conns_;
  std::uint64_t snapshots_ = 0;
  std::int64_t prev_snap_ms_ = 0;
};

// The flowEndReason for a closed connection's close_reason.
EndReason end_reason_for(const std::string& close_reason);

}  // namespace netscope::output::ipfix
