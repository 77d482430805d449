#pragma once
// FlowTable: all live flows, in a flat open-addressing index (linear probing, backward-
// shift deletion, no tombstones) over a chunked pool of Flow objects with stable
// addresses. The index is sized once from max_flows: exactly 2 slots of 12 bytes per
// flow (load factor <= 1/2; the home slot is a multiply-shift of the hash tag, so the
// size needs no rounding to a power of two). Pool chunks of 1024 flows are allocated as
// the number of active flows grows, so memory follows the peak number of flows alive at
// once, never the length of the input. Per tracked flow that is sizeof(Flow) +
// kIndexBytesPerFlow <= 400 bytes (issue 3), plus the side allocations listed in flow.hpp.
//
// Expiry is driven by packet timestamps only and is incremental: each call to expire()
// examines a bounded number of slots from a rotating cursor, the same live and offline
// (STYLE.md §7). When the table is full the stalest flow in a small window is evicted and
// counted. Ended flows are handed to a FlowSink before their slot is reused.
//
// Where a conversation ends never depends on how far the sweep has got: a lookup that
// meets a flow already past its timeout ends it the way the sweep would have, and
// drain_at() ends the flows whose timeout has passed at the end of input as timed out.
// That keeps the conversations identical however the flows are split into tables
// (analyze --threads) or however often the sweep runs.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "decode/packet_view.hpp"
#include "flow/flow.hpp"
#include "flow/timeouts.hpp"

namespace netscope::flow {

struct FlowTableConfig {
  std::size_t max_flows = 262'144;
  FlowTimeouts timeouts;
  // Live mode: true for a flow whose socket the kernel still reports, which is then never
  // aged out (kernel facts beat guesses). Called on the packet path for flows past their
  // timeout only; must be cheap and thread-safe.
  std::function<bool(const Flow&)> kernel_alive;
};

class FlowSink {
 public:
  virtual ~FlowSink() = default;
  virtual void on_flow_end(const Flow& flow, EndReason reason) = 0;
  // A flow was just created by the packet `flow.first_seen` belongs to (its counters do
  // not include that packet yet). The live monitor asks for its owner here, while the
  // socket still exists. Runs on the packet path: must not block.
  virtual void on_flow_start(const Flow& /*flow*/) {}
  // Right after on_flow_end, before the slot can be reused: the flow is still intact and
  // may be changed. The packet path frees the flow's DPI session here (and reports the
  // DNS queries still unanswered), after the sink has described it.
  virtual void on_flow_release(Flow& /*flow*/) {}
};

class FlowTable {
 public:
  FlowTable(FlowTableConfig config, FlowSink& sink);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // A packet's key and hash tag, computed once: ahead of time for a batch of packets so
  // that the index slot and the flow can be prefetched before they are needed.
  struct PreparedKey {
    core::OrientedKey ok;
    std::uint32_t tag = 0;
  };
  static PreparedKey prepare(const decode::PacketView& pkt);
  // The hash tag prepare() gives a key (high 32 bits of its hash, never 0).
  static std::uint32_t tag_of(const core::FlowKey& key);
  static std::uint32_t tag_of_hash(std::uint64_t hash) {
    return static_cast<std::uint32_t>(hash >> 32) | 1u;  // never 0: 0 marks an empty slot
  }
  // Cache hints only: they never change the table.
  void prefetch_slot(const PreparedKey& k) const { __builtin_prefetch(&index_[home(k.tag)]); }

  // Index bytes per flow at full table: kSlotsPerFlow slots of kSlotBytes.
  static constexpr std::size_t kSlotsPerFlow = 2;
  static constexpr std::size_t kSlotBytes = 12;
  static constexpr std::size_t kIndexBytesPerFlow = kSlotsPerFlow * kSlotBytes;
  // Bytes the table holds: its index, and its pool of Flow entries with the free list
  // (the flows' own side allocations come on top: TcpTracker::heap_bytes() and the DPI
  // sessions). For the accounting in tests/unit/flow/flow_size_test.cpp.
  std::size_t index_bytes() const { return index_.capacity() * sizeof(Slot); }
  std::size_t pool_bytes() const {
    return chunks_.size() * (chunk_mask_ + 1) * sizeof(Flow) +
           free_.capacity() * sizeof(std::uint32_t);
  }
  void prefetch_flow(const PreparedKey& k) const;

  // Finds the flow of a decoded packet (has_ip() and, unless it is a non-first fragment,
  // has_transport(); or an ARP request or reply, flow/arp.hpp), creating it when new.
  // `dir` receives 0 (client -> server) or 1. Never fails: when the table is full another
  // flow is evicted first. `now` is the packet clock (the newest packet time so far,
  // >= pkt.ts): a flow found already past its timeout at `now` is ended and a new one
  // started. Without `now`, pkt.ts is used.
  Flow& upsert(const decode::PacketView& pkt, int& dir) {
    return upsert(pkt, prepare(pkt), pkt.ts, dir);
  }
  Flow& upsert(const decode::PacketView& pkt, const PreparedKey& key, int& dir) {
    return upsert(pkt, key, pkt.ts, dir);
  }
  Flow& upsert(const decode::PacketView& pkt, const PreparedKey& key, core::Timestamp now,
               int& dir);

  // Looks up a flow by 5-tuple as seen from one side, for ICMP quotes. nullptr if absent
  // or (when `now` is given) past its timeout at `now`, in which case it is ended.
  Flow* find(const core::IpAddress& src, std::uint16_t sport, const core::IpAddress& dst,
             std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan, std::uint32_t tunnel_id,
             int& dir, std::optional<core::Timestamp> now = std::nullopt);

  // Examines up to `budget` slots from the rotating cursor and ends the flows whose idle
  // timeout has passed at `now`.
  void expire(core::Timestamp now, std::size_t budget);
  // Ends every flow (end of input), in no particular order.
  void drain(EndReason reason = EndReason::end_of_input);
  // End of input at packet time `end`: flows whose timeout has passed at `end` end as the
  // sweep would have ended them (closed or idle_timeout), the rest as end_of_input.
  void drain_at(core::Timestamp end);

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return max_flows_; }
  std::size_t slots() const { return index_.size(); }
  std::uint64_t evicted() const { return evicted_; }
  std::uint64_t created() const { return created_; }
  std::size_t peak_size() const { return peak_size_; }
  // Calls fn(const Flow&) for every live flow, in slot order. The live monitor samples the
  // table once per tick with it.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : index_) {
      if (s.hash != 0) fn(flow_at(s.flow));
    }
  }
  // The same with fn(Flow&), for the owner of the table (it may clear per-flow flags such
  // as Flow::dpi_changed; it must not change a flow's key or timestamps).
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (const Slot& s : index_) {
      if (s.hash != 0) fn(flow_at(s.flow));
    }
  }
  // The same with fn(Flow&, std::uint32_t index): the flow's index in the table's pool,
  // which stays the flow's for as long as it is in the table (a later flow may reuse it).
  template <typename Fn>
  void for_each_indexed(Fn&& fn) {
    for (const Slot& s : index_) {
      if (s.hash != 0) fn(flow_at(s.flow), s.flow);
    }
  }
  // True once `flow` has outlived its timeout at `now`.
  bool is_expired(const Flow& flow, core::Timestamp now) const;
  // Idle timeout of `flow` in its current state, in ns.
  std::int64_t timeout_ns(const Flow& flow) const;
  // The timeout shown for staleness at `now`: the expiry timeout, except that an active
  // ESTABLISHED TCP or connected QUIC connection has the longer active one.
  std::int64_t shown_timeout_ns(const Flow& flow, core::Timestamp now) const;
  // Why an expired flow ends: closed for a finished TCP connection, else idle_timeout.
  static EndReason expiry_reason(const Flow& flow);
  // Call after updating the flow returned by the last upsert() (its last_seen or TCP
  // state): refreshes the deadline that the expiry sweep and upsert()'s own expiry check
  // screen with (a flow whose deadline is still ahead is taken as live).
  void touched(const Flow& flow) { index_[last_pos_].deadline = deadline_of(flow); }

 private:
  struct Slot {
    std::uint32_t hash = 0;  // high 32 bits of the key hash (never 0), 0 means empty
    std::uint32_t flow = 0;  // index into the pool
    // Packet time, in units of 2^30 ns (~1.07 s, wrapping), before which the flow
    // cannot have timed out: lets the expiry sweep skip live flows without touching them.
    std::uint32_t deadline = 0;
  };
  static_assert(sizeof(Slot) == kSlotBytes);
  static std::uint32_t coarse_time(std::int64_t ns) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ns) >> 30);
  }
  // Rounded down, so a sweep that skips a slot whose deadline is still ahead never
  // skips a flow that has in fact expired.
  std::uint32_t deadline_of(const Flow& f) const {
    return coarse_time(f.last_seen.ns + timeout_ns(f));
  }
  // Flows are allocated in chunks of up to 1024 (fewer for a small table): the last,
  // partly used chunk costs at most 1023 unused entries (~385 KB).
  static constexpr std::size_t kMaxChunkShift = 10;
  // Every packet touches most of a Flow (key, counters, both TCP halves): prefetch it all.
  static constexpr std::size_t kHotFlowBytes = (sizeof(Flow) + 63) / 64 * 64;

  Flow& flow_at(std::uint32_t idx) { return chunks_[idx >> chunk_shift_][idx & chunk_mask_]; }
  const Flow& flow_at(std::uint32_t idx) const {
    return chunks_[idx >> chunk_shift_][idx & chunk_mask_];
  }
  // Multiply-shift ("fastrange"): tag * slots / 2^32, uniform over any number of slots.
  std::size_t home(std::uint32_t tag) const {
    return static_cast<std::size_t>((std::uint64_t{tag} * index_.size()) >> 32);
  }
  std::size_t next(std::size_t pos) const { return pos + 1 == index_.size() ? 0 : pos + 1; }
  std::uint32_t allocate_flow();
  void erase_slot(std::size_t slot);
  void end_slot(std::size_t slot, EndReason reason);
  void evict_one(core::Timestamp now);
  std::size_t probe(const core::FlowKey& key, std::uint32_t h, bool& found);

  // config_.timeouts in ns, converted once: timeout_ns() runs for every packet.
  struct TimeoutsNs {
    std::int64_t tcp_handshake, tcp_idle, http, ssh, tcp_time_wait, tcp_closed;
    std::int64_t dns, udp, quic_idle, quic_draining, other, arp;
  };
  static TimeoutsNs to_ns(const FlowTimeouts& t);

  FlowTableConfig config_;
  TimeoutsNs timeouts_ns_;
  FlowSink& sink_;
  std::size_t max_flows_;
  std::size_t chunk_shift_ = kMaxChunkShift;
  std::size_t chunk_mask_ = (std::size_t{1} << kMaxChunkShift) - 1;
  std::vector<Slot> index_;
  std::vector<std::unique_ptr<Flow[]>> chunks_;
  std::vector<std::uint32_t> free_;
  std::uint32_t next_unused_ = 0;
  std::size_t size_ = 0;
  std::size_t peak_size_ = 0;
  std::size_t cursor_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t created_ = 0;
  std::size_t last_pos_ = 0;  // slot of the flow the last upsert() returned
};

}  // namespace netscope::flow
