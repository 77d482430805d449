#include "monitor/sharded_flows.hpp"

#include <algorithm>

namespace netscope::monitor {

ShardedFlows::ShardedFlows(const EngineConfig& config, std::span<EngineSink* const> sinks,
                           std::size_t workers) {
  // The reassembly budget is one bound for the whole run, shared out among the shards.
  std::optional<dpi::InspectorConfig> dpi;
  if (config.dpi) {
    dpi = config.inspector;
    dpi->total_cap /= std::max<std::size_t>(sinks.size(), 1);
  }
  if (workers == 0) {
    // A worker per shard while the reader keeps a core of its own; past that, more
    // threads than cores only trade the cores back and forth.
    const std::size_t cpus = std::thread::hardware_concurrency();
    workers = cpus > 1 ? cpus - 1 : 1;
  }
  workers = std::clamp<std::size_t>(workers, 1, std::max<std::size_t>(sinks.size(), 1));
  for (std::size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>());
  shards_.reserve(sinks.size());
  for (EngineSink* sink : sinks) {
    auto shard = std::make_unique<Shard>(config.flows, dpi, *sink);
    Worker& w = *workers_[shards_.size() % workers];
    shard->worker = &w;
    shard->index = static_cast<std::uint8_t>(w.shards.size());
    w.shards.push_back(shard.get());
    shards_.push_back(std::move(shard));
  }
  for (auto& w : workers_) w->thread = std::thread(&ShardedFlows::run, std::ref(*w));
}

ShardedFlows::~ShardedFlows() {
  if (!finished_) stop(core::Timestamp{});
}

// One packet in one shard, on the thread that owns the shard. A shard that has failed
// only drains, so that the reader never blocks on it; finish() reports the error.
void ShardedFlows::handle(Shard& shard, const decode::PacketView& v,
                          const flow::FlowTable::PreparedKey& key, std::uint8_t roles,
                          core::Timestamp now) {
  if (shard.error) return;
  try {
    shard.stage.advance_clock(now);
    shard.stage.handle(v, key, roles);
    shard.stage.expire_if_due();
  } catch (...) {
    shard.error = std::current_exception();
  }
}

void ShardedFlows::send(std::size_t shard, const decode::PacketView& v,
                        const flow::FlowTable::PreparedKey& key, std::uint8_t roles,
                        core::Timestamp now) {
  const Shard& target = *shards_[shard];
  Worker& s = *target.worker;
  ShardMessage& m = s.ring.claim();
  m.key = key;
  m.roles = roles;
  m.shard = target.index;
  m.now = now;
  // ICMP errors, tunnelled and ARP packets (rare) carry fields the compact message has
  // no room for: they travel whole.
  if ((roles & role::icmp_error) != 0 || v.tunnel != decode::Tunnel::none || !v.has_ip())
      [[unlikely]] {
    m.bits = ShardMessage::kFull;
    s.full.claim() = v;
    s.full.commit();
    // Visible before the message that refers to it can be.
    s.full.flush();
    s.ring.commit();
    return;
  }
  m.layers = v.layers;
  m.ip_proto = v.ip_proto;
  m.tcp_flags = v.tcp_flags;
  m.ts = v.ts;
  m.seq = v.seq;
  m.ack = v.ack;
  m.ip_bytes = v.ip_bytes;
  m.payload_len = v.payload_len;
  m.ip_len_excess = v.ip_len_excess;
  m.payload = v.payload.data();
  m.payload_size = static_cast<std::uint32_t>(v.payload.size());
  m.sport = v.sport;
  m.dport = v.dport;
  m.window = v.window;
  m.wscale = v.tcp_opts.wscale;
  m.bits = static_cast<std::uint8_t>((v.is_fragment ? ShardMessage::kFragment : 0) |
                                     (v.first_fragment ? ShardMessage::kFirstFragment : 0) |
                                     (v.tcp_opts.has_wscale ? ShardMessage::kHasWscale : 0));
  s.ring.commit();
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

void ShardedFlows::run(Worker& worker) {
  constexpr std::size_t kBatch = 16;
  SpscRing<ShardMessage>& ring = worker.ring;
  decode::PacketView& scratch = worker.scratch;
  while (true) {
    const std::size_t n = ring.wait_readable(kBatch);
    // As in Engine::process_batch: prefetch the slots, then the flows, then work in order.
    if (n > 1) {
      for (std::size_t i = 0; i < n; ++i) {
        const ShardMessage& m = ring.peek(i);
        if ((m.roles & role::count) != 0) worker.shards[m.shard]->stage.prefetch_slot(m.key);
      }
      for (std::size_t i = 0; i < n; ++i) {
        const ShardMessage& m = ring.peek(i);
        if ((m.roles & role::count) != 0) worker.shards[m.shard]->stage.prefetch_flow(m.key);
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      const ShardMessage& m = ring.peek(i);
      if (m.roles == 0) {
        // End of input: nothing follows it in the ring.
        for (Shard* shard : worker.shards) {
          if (shard->error) continue;
          try {
            shard->stage.finish(m.now);
          } catch (...) {
            shard->error = std::current_exception();
          }
        }
        ring.release(i + 1);
        return;
      }
      Shard& shard = *worker.shards[m.shard];
      if ((m.bits & ShardMessage::kFull) != 0) [[unlikely]] {
        // Published before `m` was, so it is there; given back before `m` is.
        worker.full.wait_readable(1);
        handle(shard, worker.full.peek(0), m.key, m.roles, m.now);
        worker.full.release(1);
        continue;
      }
      // Only this path writes `scratch`, always the same fields: the others keep the
      // defaults of a packet without a tunnel, which is what the sender checked.
      scratch.layers = m.layers;
      scratch.ip_proto = m.ip_proto;
      scratch.tcp_flags = m.tcp_flags;
      scratch.ts = m.ts;
      scratch.seq = m.seq;
      scratch.ack = m.ack;
      scratch.ip_bytes = m.ip_bytes;
      scratch.payload_len = m.payload_len;
      scratch.ip_len_excess = m.ip_len_excess;
      scratch.payload = {m.payload, m.payload_size};
      if (m.payload_size != 0) {
        // Only the inspector reads the addresses (DNS events name client and server).
        const core::OrientedKey& ok = m.key.ok;
        scratch.src = ok.src_is_a ? ok.key.addr_a : ok.key.addr_b;
        scratch.dst = ok.src_is_a ? ok.key.addr_b : ok.key.addr_a;
      }
      scratch.sport = m.sport;
      scratch.dport = m.dport;
      scratch.window = m.window;
      scratch.tcp_opts.wscale = m.wscale;
      scratch.tcp_opts.has_wscale = (m.bits & ShardMessage::kHasWscale) != 0;
      scratch.is_fragment = (m.bits & ShardMessage::kFragment) != 0;
      scratch.first_fragment = (m.bits & ShardMessage::kFirstFragment) != 0;
      handle(shard, scratch, m.key, m.roles, m.now);
    }
    ring.release(n);
  }
}

void ShardedFlows::stop(core::Timestamp end) {
  finished_ = true;
  for (auto& w : workers_) {
    ShardMessage& m = w->ring.claim();
    m.roles = 0;
    m.now = end;
    w->ring.commit();
    w->ring.flush();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void ShardedFlows::finish(core::Timestamp end) {
  stop(end);
  for (auto& s : shards_) {
    if (s->error) std::rethrow_exception(s->error);
  }
}

}  // namespace netscope::monitor
