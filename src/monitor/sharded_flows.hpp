#pragma once
// ShardedFlows: the flow half of the packet path spread over N threads by flow key
// (analyze --threads N). Each shard owns a FlowStage (its own FlowTable, TCP trackers and
// expiry) and its own sink, and is fed, in packet order, through a bounded SpscRing by the
// one thread that reads and decodes (an Engine built with this as its PacketRouter). A
// flow lives in exactly one shard, chosen from its key's hash, so no flow state is shared
// and the packet path takes no lock.
//
// Shards run on worker threads, one ring per worker. There are as many workers as shards
// unless that would leave the reader without a core of its own: on 2 CPUs one worker
// runs every shard, in a two-stage pipeline (read and decode | flows) whose halves take
// about the same time. A worker with several shards handles each message in the shard it
// names, so the results are those of one thread per shard.
//
// An ICMP error plays two parts: it is tied to the flow its quote names, and it is
// counted in its own (ICMP) flow. Each part goes to the shard of its flow — one message
// when both fall in the same shard, two otherwise. Neither part touches the other's flow,
// so the result does not depend on which shard gets to its part first.
//
// Each message carries the packet clock of the whole input, so every shard times flows
// out against the same clock as the single-threaded engine.

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "monitor/engine.hpp"
#include "monitor/flow_stage.hpp"
#include "monitor/spsc_ring.hpp"

namespace netscope::monitor {

// One packet (or the end of input) on its way to a shard, in the ring's slot. Moving
// the whole PacketView (~300 bytes) cost six cache lines between cores per packet, so
// the message carries only the fields the flow half reads for a counted packet without
// a tunnel (flow_stage.cpp count(), FlowTable::upsert, TcpTracker, and the DPI
// inspector, which also reads the payload bytes and the addresses; SACK blocks and the
// other options are not read there): under two lines. The payload travels as a view
// into the packet bytes, which stay valid (analyze shards only memory-mapped input).
// The worker rebuilds those fields into a scratch view, the addresses from the flow
// key. A packet that needs more (an ICMP error, whose quote and addresses the sink
// reads, a tunnelled packet, whose outer addresses a new flow keeps, or an ARP packet,
// whose operation and addresses the flow reads) sets kFull and
// its whole view travels in the worker's side ring, in the same order.
struct ShardMessage {
  flow::FlowTable::PreparedKey key;
  std::uint8_t roles = 0;  // role::*; 0 means end of input, at `now`
  std::uint8_t shard = 0;  // among the worker's shards
  std::uint8_t layers = 0;
  std::uint8_t ip_proto = 0;
  std::uint8_t tcp_flags = 0;
  core::Timestamp now;
  core::Timestamp ts;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t ip_bytes = 0;
  std::uint32_t payload_len = 0;
  std::uint32_t ip_len_excess = 0;
  std::uint32_t payload_size = 0;  // captured payload bytes at `payload`
  const std::uint8_t* payload = nullptr;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint16_t window = 0;
  std::uint8_t wscale = 0;
  std::uint8_t bits = 0;  // kFull, kFragment, kFirstFragment, kHasWscale
  static constexpr std::uint8_t kFull = 1;
  static constexpr std::uint8_t kFragment = 2;
  static constexpr std::uint8_t kFirstFragment = 4;
  static constexpr std::uint8_t kHasWscale = 8;
};
static_assert(sizeof(ShardMessage) <= 128, "a message should stay within two cache lines");

class ShardedFlows : public PacketRouter {
 public:
  static constexpr std::size_t kRingCapacity = 1024;

  // One shard per sink; sinks[i] is only ever called from shard i's worker thread. Each shard's
  // table holds up to config.flows.max_flows flows; with config.dpi each shard inspects
  // with its own Inspector, holding 1/N of config.inspector.total_cap. The shards run on
  // `workers` threads (0: as many as shards, at most one fewer than the CPUs, at least 1).
  ShardedFlows(const EngineConfig& config, std::span<EngineSink* const> sinks,
               std::size_t workers = 0);
  ~ShardedFlows() override;
  ShardedFlows(const ShardedFlows&) = delete;
  ShardedFlows& operator=(const ShardedFlows&) = delete;

  void route(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
             std::uint8_t roles, core::Timestamp now) override;
  // Sends the end of input to every shard and waits for them. Rethrows a shard's error.
  void finish(core::Timestamp end) override;

  std::size_t shards() const { return shards_.size(); }
  std::size_t workers() const { return workers_.size(); }
  // The shard of a flow with hash tag `tag` (FlowTable::tag_of) among `n`.
  static std::size_t shard_of(std::uint32_t tag, std::size_t n) {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(tag) * n) >> 32);
  }
  // After finish(): a shard's table (eviction and size counters) and its ICMP counters.
  const flow::FlowTable& flows(std::size_t shard) const { return shards_[shard]->stage.flows(); }
  const EngineStats& stats(std::size_t shard) const { return shards_[shard]->stats; }

 private:
  struct Worker;
  struct Shard {
    Shard(const flow::FlowTableConfig& config, const std::optional<dpi::InspectorConfig>& dpi,
          EngineSink& sink)
        : stage(config, dpi, sink, stats) {}
    EngineStats stats;  // ICMP counters, written by the shard's worker
    FlowStage stage;
    std::exception_ptr error;
    Worker* worker = nullptr;
    std::uint8_t index = 0;  // in worker->shards
  };
  struct Worker {
    Worker() : ring(kRingCapacity), full(kRingCapacity) {}
    SpscRing<ShardMessage> ring;
    // Whole views of the `full` messages. As large as `ring` and given back first, so
    // the producer, which claims its `ring` slot first, never waits for room here.
    SpscRing<decode::PacketView> full;
    decode::PacketView scratch;  // a compact message's fields; the rest keep defaults
    std::vector<Shard*> shards;  // indexed by ShardMessage::shard
    std::thread thread;
  };
  static void run(Worker& worker);
  static void handle(Shard& shard, const decode::PacketView& v,
                     const flow::FlowTable::PreparedKey& key, std::uint8_t roles,
                     core::Timestamp now);
  void send(std::size_t shard, const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
            std::uint8_t roles, core::Timestamp now);
  void stop(core::Timestamp end);

  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool finished_ = false;
};

}  // namespace netscope::monitor
