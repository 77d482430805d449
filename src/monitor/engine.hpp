#pragma once
// Engine: the one packet pipeline shared by live capture, --read replay and `analyze`
// (ARCHITECTURE.md "One pipeline, many readers"). It takes raw frames, decodes them,
// updates the flow table and the TCP trackers, ties ICMP errors to the flows they quote,
// and hands ended flows to a sink. It never renders or writes anything itself.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "capture/bpf_filter.hpp"
#include "capture/raw_packet.hpp"
#include "decode/anomalies.hpp"
#include "decode/packet_view.hpp"
#include "flow/flow_table.hpp"
#include "monitor/fragment_cache.hpp"

namespace netscope::monitor {

struct EngineConfig {
  flow::FlowTableConfig flows;
  std::string bpf;  // empty: no filter
};

struct EngineStats {
  std::uint64_t packets = 0;     // frames read (after the BPF filter)
  std::uint64_t filtered = 0;    // frames rejected by the BPF filter
  std::uint64_t wire_bytes = 0;  // sum of frame wire lengths
  std::uint64_t ip_packets = 0;
  std::uint64_t ip_bytes = 0;  // IP bytes (Conventions)
  std::uint64_t arp_packets = 0;
  std::uint64_t other_packets = 0;  // neither IP nor ARP, or undecodable
  std::uint64_t icmp_errors = 0;
  std::uint64_t icmp_errors_unmatched = 0;  // quoting no known flow
  std::optional<core::Timestamp> first;
  std::optional<core::Timestamp> last;
  std::uint64_t time_went_backwards = 0;  // packets older than the newest seen
  std::map<int, std::uint64_t> packets_by_linktype;
  std::map<int, std::uint64_t> unsupported_linktypes;  // link type -> frames skipped
};

// Receives what the engine cannot keep: ended flows and ICMP errors.
class EngineSink : public flow::FlowSink {
 public:
  // An ICMP/ICMPv6 error; `flow` is the flow its quoted header names, or nullptr.
  virtual void on_icmp_error(const decode::PacketView& /*icmp*/, const flow::Flow* /*flow*/) {}
};

class Engine {
 public:
  Engine(EngineConfig config, EngineSink& sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void process(const capture::RawPacket& pkt) { process_batch({&pkt, 1}); }
  // Processes packets in order, as process() one by one would, but decodes a batch ahead
  // and prefetches each packet's flow-table slot and flow before it is needed: the two
  // cache misses per packet then overlap instead of stalling one after the other. The
  // packets' bytes must stay valid for the call.
  void process_batch(std::span<const capture::RawPacket> pkts);
  static constexpr std::size_t kBatch = 16;
  // End of input: ends every remaining flow.
  void finish();

  const EngineStats& stats() const { return stats_; }
  const decode::AnomalyCounters& anomalies() const { return anomalies_; }
  const flow::FlowTable& flows() const { return flows_; }

 private:
  // Per packet of a batch: what stage 1 found out.
  struct Pending {
    enum class Kind : std::uint8_t { skip, unsupported, decoded };
    Kind kind = Kind::skip;
    bool keyed = false;  // `key` is valid (the flow key does not depend on earlier packets)
    flow::FlowTable::PreparedKey key;
  };
  void decode_stage(const capture::RawPacket& pkt, decode::PacketView& view, Pending& pending);
  void account(const capture::RawPacket& pkt, decode::PacketView& view, const Pending& pending);
  void handle_ip(decode::PacketView& view, const Pending& pending);
  void handle_icmp_error(const decode::PacketView& view);

  EngineConfig config_;
  EngineSink& sink_;
  flow::FlowTable flows_;
  FragmentCache fragments_;
  std::unique_ptr<capture::BpfFilter> bpf_;
  EngineStats stats_;
  decode::AnomalyCounters anomalies_;
  std::array<decode::PacketView, kBatch> views_{};
  std::array<Pending, kBatch> pending_{};
  std::int64_t next_expiry_ns_ = 0;
  int counted_linktype_ = -1;
  std::uint64_t* linktype_count_ = nullptr;  // into stats_.packets_by_linktype (stable)
};

}  // namespace netscope::monitor
