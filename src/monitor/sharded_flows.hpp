#pragma once
// ShardedFlows: the flow half of the packet path spread over N threads by flow key
// (analyze --threads N). Each shard owns a FlowStage (its own FlowTable, TCP trackers and
// expiry) and its own sink, and is fed, in packet order, through a bounded SpscRing by the
// one thread that reads and decodes (an Engine built with this as its PacketRouter). A
// flow lives in exactly one shard, chosen from its key's hash, so no flow state is shared
// and the packet path takes no lock.
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
#include <span>
#include <thread>
#include <vector>

#include "monitor/engine.hpp"
#include "monitor/flow_stage.hpp"
#include "monitor/spsc_ring.hpp"

namespace netscope::monitor {

// One packet (or the end of input) on its way to a shard. The view is a copy; its
// `payload` span points into the reader's buffer, which therefore must outlive the run
// (a memory-mapped file does; see analyze's fallback to one thread otherwise).
struct ShardMessage {
  decode::PacketView view;
  flow::FlowTable::PreparedKey key;
  core::Timestamp now;
  std::uint8_t roles = 0;  // role::*; 0 means end of input, at `now`
};

class ShardedFlows : public PacketRouter {
 public:
  static constexpr std::size_t kRingCapacity = 1024;

  // One shard per sink; sinks[i] is only ever called from shard i's thread. Each shard's
  // table holds up to config.max_flows flows.
  ShardedFlows(const flow::FlowTableConfig& config, std::span<EngineSink* const> sinks);
  ~ShardedFlows() override;
  ShardedFlows(const ShardedFlows&) = delete;
  ShardedFlows& operator=(const ShardedFlows&) = delete;

  void route(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
             std::uint8_t roles, core::Timestamp now) override;
  // Sends the end of input to every shard and waits for them. Rethrows a shard's error.
  void finish(core::Timestamp end) override;

  std::size_t shards() const { return shards_.size(); }
  // The shard of a flow with hash tag `tag` (FlowTable::tag_of) among `n`.
  static std::size_t shard_of(std::uint32_t tag, std::size_t n) {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(tag) * n) >> 32);
  }
  // After finish(): a shard's table (eviction and size counters) and its ICMP counters.
  const flow::FlowTable& flows(std::size_t shard) const { return shards_[shard]->stage.flows(); }
  const EngineStats& stats(std::size_t shard) const { return shards_[shard]->stats; }

 private:
  struct Shard {
    Shard(const flow::FlowTableConfig& config, EngineSink& sink)
        : ring(kRingCapacity), stage(config, sink, stats) {}
    SpscRing<ShardMessage> ring;
    EngineStats stats;  // ICMP counters, written by the shard's thread
    FlowStage stage;
    std::exception_ptr error;
    std::thread thread;
  };
  static void run(Shard& shard);
  void send(std::size_t shard, const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
            std::uint8_t roles, core::Timestamp now);
  void stop(core::Timestamp end);

  std::vector<std::unique_ptr<Shard>> shards_;
  bool finished_ = false;
};

}  // namespace netscope::monitor
