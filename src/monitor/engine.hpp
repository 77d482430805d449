#pragma once
// Engine: the one packet pipeline shared by live capture, --read replay and `analyze`
// (ARCHITECTURE.md "One pipeline, many readers"). It takes raw frames, decodes them,
// updates the flow table and the TCP trackers, ties ICMP errors to the flows they quote,
// and hands ended flows to a sink. It never renders or writes anything itself.
//
// It has two halves. The front end (filter, decode, accounting, fragment ports, flow key)
// runs in packet order on the calling thread; the flow half is a FlowStage. With an
// EngineSink the engine owns one stage and runs both halves itself. With a PacketRouter
// it runs only the front end and hands each keyed packet to the router, which spreads
// them over flow shards (monitor/sharded_flows.hpp).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/bpf_filter.hpp"
#include "capture/file_reader.hpp"
#include "capture/raw_packet.hpp"
#include "decode/anomalies.hpp"
#include "decode/packet_view.hpp"
#include "dpi/inspector.hpp"
#include "flow/flow_table.hpp"
#include "monitor/flow_sample.hpp"
#include "monitor/flow_stage.hpp"
#include "monitor/fragment_cache.hpp"

namespace netscope::monitor {

// Sees every decoded IP packet after the flow half has, with its ports settled: the
// per-process recorder (monitor/recorder.hpp). Runs on the packet path: must not block,
// lock or allocate.
class PacketTap {
 public:
  virtual ~PacketTap() = default;
  virtual void on_packet(const capture::RawPacket& pkt, const decode::PacketView& v) = 0;
};

struct EngineConfig {
  flow::FlowTableConfig flows;
  std::string bpf;  // empty: no filter
  // Deep packet inspection (--no-dpi turns it off). With several flow shards each gets
  // its own Inspector with total_cap divided among them (ShardedFlows).
  bool dpi = true;
  dpi::InspectorConfig inspector;
  PacketTap* tap = nullptr;  // not owned; null: no tap
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
  dpi::DpiCounters dpi;  // the Inspector's counters, copied at the end of input
};

// Receives what the engine cannot keep: ended flows and ICMP errors.
class EngineSink : public flow::FlowSink {
 public:
  // An ICMP/ICMPv6 error; `flow` is the flow its quoted header names, or nullptr.
  virtual void on_icmp_error(const decode::PacketView& /*icmp*/, const flow::Flow* /*flow*/) {}
  // The packet clock moved to `now` (the newest packet time so far; at the end of input,
  // the newest of the whole input). Flows that end next end at this time.
  virtual void on_clock(core::Timestamp /*now*/) {}
  // A DNS transaction completed (or was given up) on `flow`: the inspector saw its
  // response, or its query went unanswered for the timeout or until the flow ended.
  // Runs on the packet path: must not block. The sink may keep the event.
  virtual void on_dns_event(const flow::Flow& /*flow*/, dpi::DnsEvent&& /*event*/) {}
};

// Takes the front end's output when the flow half runs elsewhere (sharded analysis).
class PacketRouter {
 public:
  virtual ~PacketRouter() = default;
  // A decoded IP packet with its ports settled, in packet order. `key` is its flow key
  // (valid when `roles` has role::count); `now` is the packet clock.
  virtual void route(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
                     std::uint8_t roles, core::Timestamp now) = 0;
  // End of input; `end` is the newest packet time read (0 when there was none).
  virtual void finish(core::Timestamp end) = 0;
};

class Engine {
 public:
  Engine(EngineConfig config, EngineSink& sink);
  // Front end only: keyed packets go to `router`; flows() is then empty.
  Engine(EngineConfig config, PacketRouter& router);
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
  // Live capture: moves the flow clock to `now` (wall time) even when no packet came, so
  // that idle flows time out on a quiet link, and runs the expiry sweep. Never backwards.
  void advance_clock(core::Timestamp now);

  const EngineStats& stats() const { return stats_; }
  const decode::AnomalyCounters& anomalies() const { return anomalies_; }
  const flow::FlowTable& flows() const { return stage_->flows(); }
  // A sample of every flow in the table for a tick (FlowStage::sample): DPI fields only
  // for flows whose fields changed since the last call.
  void sample_flows(std::vector<FlowSample>& out) { stage_->sample(out); }
  // The same, one sample at a time, none kept (the live tick: no buffer of every flow).
  void sample_flows(const std::function<void(const FlowSample&)>& fn) { stage_->sample(fn); }
  // The inspector's counters so far (zero when DPI is off or the flows are routed).
  const dpi::DpiCounters& dpi_counters() const { return stage_->dpi_counters(); }

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
  void handle_arp(const decode::PacketView& view);  // an ARP request or reply

  EngineConfig config_;
  EngineStats stats_;  // before stage_, which keeps a reference to it
  PacketRouter* router_ = nullptr;
  std::unique_ptr<EngineSink> null_sink_;  // the stage's sink when routing
  std::unique_ptr<FlowStage> stage_;
  FragmentCache fragments_;
  std::unique_ptr<capture::BpfFilter> bpf_;
  decode::AnomalyCounters anomalies_;
  std::array<decode::PacketView, kBatch> views_{};
  std::array<Pending, kBatch> pending_{};
  int counted_linktype_ = -1;
  std::uint64_t* linktype_count_ = nullptr;  // into stats_.packets_by_linktype (stable)
};

// Before a capture file is read (analyze, a replay): throws std::runtime_error naming the
// file when a classic pcap's link type is not one the decoder knows ("PATH: unsupported
// link type DLT 160 (160)"), or naming --bpf when `bpf` does not compile for one of its
// interfaces. Both exit 2 (usage), before any output.
void check_capture_input(const capture::FileReader& reader, const std::string& path,
                         const std::string& bpf);

}  // namespace netscope::monitor
