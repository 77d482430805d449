#pragma once
// FlowStage: the part of the packet path that owns flow state — one FlowTable with its TCP
// trackers, the ICMP-error matching and the expiry sweep. It takes packets that are
// already decoded, keyed and given their ports (the Engine's front end does that, in
// packet order), so that one stage can run per flow shard on its own thread
// (analyze --threads) while the single-threaded Engine keeps exactly one.
//
// Its clock is the newest packet time of the whole input so far, handed in with each
// packet: expiry, the end of flows met after their timeout and the "unanswered SYN"
// grace check all read it, so a shard sees the same times the single pipeline would.
//
// Deep packet inspection runs here too: the stage owns one dpi::Inspector (per shard)
// and feeds it a flow's packets while the flow's FlowState wants them, which for most
// protocols is only the first few. DNS transactions go to the sink as they complete;
// when a flow ends, the sink describes it first, then the stage finishes its inspection
// (unanswered DNS queries are reported) and frees its session.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "decode/packet_view.hpp"
#include "dpi/inspector.hpp"
#include "flow/flow_table.hpp"
#include "monitor/flow_sample.hpp"

namespace netscope::monitor {

class EngineSink;
struct EngineStats;

// What a packet is to the stage that receives it. An ICMP error is both: it is tied to
// the flow it quotes (which may live in another shard) and counted in its own flow.
namespace role {
inline constexpr std::uint8_t count = 1;       // count the packet in its own flow
inline constexpr std::uint8_t icmp_error = 2;  // tie it to the flow its quote names
}  // namespace role

class FlowStage : private flow::FlowSink {
 public:
  // `stats` receives the ICMP error counters; the caller owns it (one writer: this stage).
  // Without an inspector configuration the stage inspects nothing.
  FlowStage(const flow::FlowTableConfig& config, const std::optional<dpi::InspectorConfig>& dpi,
            EngineSink& sink, EngineStats& stats);
  ~FlowStage() override;
  FlowStage(const FlowStage&) = delete;
  FlowStage& operator=(const FlowStage&) = delete;

  void prefetch_slot(const flow::FlowTable::PreparedKey& k) const { flows_.prefetch_slot(k); }
  void prefetch_flow(const flow::FlowTable::PreparedKey& k) const { flows_.prefetch_flow(k); }

  // Moves the clock to `now` (never backwards) and tells the sink.
  void advance_clock(core::Timestamp now);
  // Handles one packet in the given roles; `key` is FlowTable::prepare(v) when counted.
  void handle(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
              std::uint8_t roles);
  // Runs the incremental expiry sweep when it is due on the clock.
  void expire_if_due();
  // End of input at packet time `end` (the newest packet time of the whole input).
  void finish(core::Timestamp end);

  const flow::FlowTable& flows() const { return flows_; }
  // Appends a sample of every flow in the table to `out`, describing the DPI fields of
  // those whose fields changed since the last call (and clearing that mark).
  void sample(std::vector<FlowSample>& out);
  // The same, handing each sample to `fn` instead of keeping it.
  void sample(const std::function<void(const FlowSample&)>& fn);
  const dpi::DpiCounters& dpi_counters() const;

 private:
  // flow::FlowSink: the table's ends and starts go to the engine's sink; the release
  // finishes the flow's inspection.
  void on_flow_start(const flow::Flow& f) override;
  void on_flow_end(const flow::Flow& f, flow::EndReason reason) override;
  void on_flow_release(flow::Flow& f) override;

  void tie_icmp_error(const decode::PacketView& v);
  void count(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key);
  void inspect(flow::Flow& f, const decode::PacketView& v, int dir);
  void deliver_dns(const flow::Flow& f);

  EngineSink& sink_;
  EngineStats& stats_;
  std::unique_ptr<dpi::Inspector> inspector_;  // null: DPI off
  dpi::InspectResult dpi_result_;              // reused: no allocation once warm
  flow::FlowTable flows_;
  core::Timestamp now_{};
  bool clock_started_ = false;
  std::int64_t next_expiry_ns_ = 0;
};

// RFC 792 / RFC 4443 §2.1: true for an ICMP or ICMPv6 error that quotes a header.
bool is_icmp_error(const decode::PacketView& v);

}  // namespace netscope::monitor
