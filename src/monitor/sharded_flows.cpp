#include "monitor/sharded_flows.hpp"

namespace netscope::monitor {

ShardedFlows::ShardedFlows(const flow::FlowTableConfig& config,
                           std::span<EngineSink* const> sinks) {
  shards_.reserve(sinks.size());
  for (EngineSink* sink : sinks) shards_.push_back(std::make_unique<Shard>(config, *sink));
  for (auto& s : shards_) s->thread = std::thread(&ShardedFlows::run, std::ref(*s));
}

ShardedFlows::~ShardedFlows() {
  if (!finished_) stop(core::Timestamp{});
}

void ShardedFlows::send(std::size_t shard, const decode::PacketView& v,
                        const flow::FlowTable::PreparedKey& key, std::uint8_t roles,
                        core::Timestamp now) {
  SpscRing<ShardMessage>& ring = shards_[shard]->ring;
  ShardMessage& m = ring.claim();
  m.view = v;
  m.key = key;
  m.now = now;
  m.roles = roles;
  ring.commit();
}

void ShardedFlows::route(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
                         std::uint8_t roles, core::Timestamp now) {
  const std::size_t n = shards_.size();
  const std::size_t own = shard_of(key.tag, n);
  if ((roles & role::icmp_error) == 0) {
    send(own, v, key, roles, now);
    return;
  }
  // The quoted flow's key, built exactly as FlowStage's lookup builds it.
  const decode::IcmpQuote& q = v.icmp_quote;
  const core::OrientedKey quoted =
      core::make_flow_key(q.src, q.sport, q.dst, q.dport, q.proto, v.vlan, v.tunnel_id);
  const std::size_t tied = shard_of(flow::FlowTable::tag_of(quoted.key), n);
  if (tied == own) {
    send(own, v, key, roles, now);
  } else {
    send(tied, v, key, role::icmp_error, now);
    send(own, v, key, static_cast<std::uint8_t>(roles & ~role::icmp_error), now);
  }
}

void ShardedFlows::run(Shard& shard) {
  constexpr std::size_t kBatch = 16;
  SpscRing<ShardMessage>& ring = shard.ring;
  while (true) {
    const std::size_t n = ring.wait_readable(kBatch);
    // As in Engine::process_batch: prefetch the slots, then the flows, then work in order.
    if (n > 1) {
      for (std::size_t i = 0; i < n; ++i) {
        if ((ring.peek(i).roles & role::count) != 0) shard.stage.prefetch_slot(ring.peek(i).key);
      }
      for (std::size_t i = 0; i < n; ++i) {
        if ((ring.peek(i).roles & role::count) != 0) shard.stage.prefetch_flow(ring.peek(i).key);
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      const ShardMessage& m = ring.peek(i);
      if (m.roles == 0) {
        // End of input: nothing follows it in the ring.
        if (!shard.error) {
          try {
            shard.stage.finish(m.now);
          } catch (...) {
            shard.error = std::current_exception();
          }
        }
        ring.release(i + 1);
        return;
      }
      if (shard.error) continue;  // keep draining so the reader never blocks on us
      try {
        shard.stage.advance_clock(m.now);
        shard.stage.handle(m.view, m.key, m.roles);
        shard.stage.expire_if_due();
      } catch (...) {
        shard.error = std::current_exception();
      }
    }
    ring.release(n);
  }
}

void ShardedFlows::stop(core::Timestamp end) {
  finished_ = true;
  for (auto& s : shards_) {
    ShardMessage& m = s->ring.claim();
    m.roles = 0;
    m.now = end;
    s->ring.commit();
    s->ring.flush();
  }
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
  }
}

void ShardedFlows::finish(core::Timestamp end) {
  stop(end);
  for (auto& s : shards_) {
    if (s->error) std::rethrow_exception(s->error);
  }
}

}  // namespace netscope::monitor
