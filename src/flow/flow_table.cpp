#include "flow/flow_table.hpp"

#include <algorithm>
#include <bit>

#include "flow/arp.hpp"

namespace netscope::flow {

std::string_view end_reason_name(EndReason r) {
  switch (r) {
    case EndReason::closed:
      return "closed";
    case EndReason::idle_timeout:
      return "idle_timeout";
    case EndReason::evicted:
      return "evicted";
    case EndReason::end_of_input:
      return "end_of_input";
  }
  return "unknown";
}

namespace {

// Ports at or above this are treated as ephemeral (Linux ip_local_port_range starts at
// 32768; IANA's dynamic range at 49152).
constexpr std::uint16_t kEphemeralFloor = 32768;

// Which side of a first packet is the client, when no SYN tells us.
//   1. exactly one side uses a privileged port (< 1024): that side is the server;
//   2. exactly one side uses an ephemeral port (>= 32768): the other side is the server;
//   3. otherwise the sender of the first packet is the client.
ClientBy choose_client(const decode::PacketView& pkt, bool& src_is_client) {
  if (pkt.ip_proto == decode::ip_proto::tcp && (pkt.tcp_flags & decode::tcp_flag::syn) != 0) {
    src_is_client = (pkt.tcp_flags & decode::tcp_flag::ack) == 0;
    return ClientBy::syn;
  }
  const bool s_priv = pkt.sport < 1024;
  const bool d_priv = pkt.dport < 1024;
  if (s_priv != d_priv) {
    src_is_client = d_priv;
    return ClientBy::port;
  }
  const bool s_eph = pkt.sport >= kEphemeralFloor;
  const bool d_eph = pkt.dport >= kEphemeralFloor;
  if (s_eph != d_eph) {
    src_is_client = s_eph;
    return ClientBy::port;
  }
  src_is_client = true;
  return ClientBy::first_packet;
}

bool is_fresh_syn(const decode::PacketView& pkt) {
  return pkt.ip_proto == decode::ip_proto::tcp &&
         (pkt.tcp_flags & (decode::tcp_flag::syn | decode::tcp_flag::ack)) == decode::tcp_flag::syn;
}

}  // namespace

FlowTable::FlowTable(FlowTableConfig config, FlowSink& sink)
    : config_(config),
      timeouts_ns_(to_ns(config.timeouts)),
      sink_(sink),
      max_flows_(std::max<std::size_t>(config.max_flows, 16)) {
  index_.resize(max_flows_ * kSlotsPerFlow);
  chunk_shift_ = std::min<std::size_t>(kMaxChunkShift, std::bit_width(max_flows_ - 1));
  chunk_mask_ = (std::size_t{1} << chunk_shift_) - 1;
}

FlowTable::~FlowTable() = default;

std::uint32_t FlowTable::allocate_flow() {
  std::uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
  } else {
    idx = next_unused_++;
    if ((idx >> chunk_shift_) >= chunks_.size()) {
      chunks_.push_back(std::make_unique<Flow[]>(chunk_mask_ + 1));
    }
  }
  flow_at(idx) = Flow{};
  return idx;
}

std::size_t FlowTable::probe(const core::FlowKey& key, std::uint32_t tag, bool& found) {
  std::size_t pos = home(tag);
  while (true) {
    const Slot& s = index_[pos];
    if (s.hash == 0) {
      found = false;
      return pos;
    }
    if (s.hash == tag && flow_at(s.flow).key == key) {
      found = true;
      return pos;
    }
    pos = next(pos);
  }
}

std::uint32_t FlowTable::tag_of(const core::FlowKey& key) {
  return tag_of_hash(core::hash_flow_key(key));
}

FlowTable::PreparedKey FlowTable::prepare(const decode::PacketView& pkt) {
  PreparedKey k;
  std::uint64_t hash = 0;
  if (!pkt.has_ip() && is_arp_flow_packet(pkt)) [[unlikely]] {
    // ARP (flow/arp.hpp): the sender's and target's protocol addresses, no ports.
    k.ok = core::make_flow_key(pkt.arp_sender, 0, pkt.arp_target, 0, kArpProto, pkt.vlan,
                               pkt.tunnel_id, hash);
    k.tag = tag_of_hash(hash);
    return k;
  }
  k.ok = core::make_flow_key(pkt.src, pkt.sport, pkt.dst, pkt.dport, pkt.ip_proto, pkt.vlan,
                             pkt.tunnel_id, hash);
  k.tag = tag_of_hash(hash);
  return k;
}

void FlowTable::prefetch_flow(const PreparedKey& k) const {
  const Slot& s = index_[home(k.tag)];
  if (s.hash != k.tag) return;  // empty, or a collision: the probe will find out
  // The parts of a Flow every packet touches: key, timestamps, direction counters and the
  // TCP tracker's per-direction state, which lie in its first few hundred bytes.
  const char* p = reinterpret_cast<const char*>(&flow_at(s.flow));
  for (std::size_t off = 0; off < kHotFlowBytes; off += 64) __builtin_prefetch(p + off);
}

Flow& FlowTable::upsert(const decode::PacketView& pkt, const PreparedKey& k, core::Timestamp now,
                        int& dir) {
  const core::OrientedKey& ok = k.ok;
  const std::uint32_t tag = k.tag;
  bool found = false;
  std::size_t pos = probe(ok.key, tag, found);
  if (found) {
    Flow& f = flow_at(index_[pos].flow);
    // A new SYN on a connection that has finished starts a new conversation (port
    // reuse), unless it re-sends the SYN already seen (same ISN): tshark calls that a
    // retransmission of the same connection, e.g. after a refusing RST.
    const TcpState st = f.tcp.state();
    // The slot's deadline is rounded down: while it is still ahead, the flow has surely
    // not timed out, and its timeout need not be worked out (the common case).
    const bool surely_live =
        static_cast<std::int32_t>(coarse_time(now.ns) - index_[pos].deadline) < 0;
    if (!surely_live && is_expired(f, now)) {
      // The sweep has not reached it yet; had it, this packet would start a new flow.
      end_slot(pos, expiry_reason(f));
      pos = probe(ok.key, tag, found);
    } else if (is_fresh_syn(pkt) && (st == TcpState::closed || st == TcpState::time_wait) &&
               f.tcp.client_isn() != pkt.seq) {
      end_slot(pos, EndReason::closed);
      pos = probe(ok.key, tag, found);
    } else {
      last_pos_ = pos;
      dir = (ok.src_is_a == f.client_is_a) ? kClientToServer : kServerToClient;
      return f;
    }
  }
  if (size_ >= max_flows_) {
    evict_one(now);
    pos = probe(ok.key, tag, found);
  }
  const std::uint32_t idx = allocate_flow();
  index_[pos] = Slot{tag, idx, 0};
  last_pos_ = pos;
  ++size_;
  ++created_;
  peak_size_ = std::max(peak_size_, size_);
  Flow& f = flow_at(idx);
  f.key = ok.key;
  bool src_is_client = true;
  f.client_by = choose_client(pkt, src_is_client);
  f.client_is_a = (ok.src_is_a == src_is_client);
  f.tunnel = pkt.tunnel;
  if (pkt.tunnel != decode::Tunnel::none) {
    f.tcp.set_tunnel_endpoints(pkt.tunnel_src, pkt.tunnel_dst);
  }
  f.interface_id = pkt.interface_id;
  f.first_seen = pkt.ts;
  f.last_seen = pkt.ts;
  index_[pos].deadline = deadline_of(f);
  sink_.on_flow_start(f);
  dir = src_is_client ? kClientToServer : kServerToClient;
  return f;
}

Flow* FlowTable::find(const core::IpAddress& src, std::uint16_t sport, const core::IpAddress& dst,
                      std::uint16_t dport, std::uint8_t proto, std::uint16_t vlan,
                      std::uint32_t tunnel_id, int& dir, std::optional<core::Timestamp> now) {
  std::uint64_t hash = 0;
  const core::OrientedKey ok =
      core::make_flow_key(src, sport, dst, dport, proto, vlan, tunnel_id, hash);
  bool found = false;
  const std::size_t pos = probe(ok.key, tag_of_hash(hash), found);
  if (!found) return nullptr;
  Flow& f = flow_at(index_[pos].flow);
  if (now && is_expired(f, *now)) {
    end_slot(pos, expiry_reason(f));
    return nullptr;
  }
  dir = (ok.src_is_a == f.client_is_a) ? kClientToServer : kServerToClient;
  return &f;
}

void FlowTable::erase_slot(std::size_t pos) {
  // Backward-shift deletion for linear probing: pull later members of the cluster back
  // so that no lookup ever needs a tombstone.
  std::size_t hole = pos;
  std::size_t at = next(pos);
  while (index_[at].hash != 0) {
    const std::size_t h = home(index_[at].hash);
    // Move `at` into the hole if its home is not cyclically within (hole, at].
    const bool home_in_range = hole <= at ? (h > hole && h <= at) : (h > hole || h <= at);
    if (!home_in_range) {
      index_[hole] = index_[at];
      hole = at;
    }
    at = next(at);
  }
  index_[hole] = Slot{};
}

void FlowTable::end_slot(std::size_t pos, EndReason reason) {
  const std::uint32_t idx = index_[pos].flow;
  sink_.on_flow_end(flow_at(idx), reason);
  sink_.on_flow_release(flow_at(idx));
  // The tracker's heap (side block, RTT histogram) goes now, not when the entry is reused.
  flow_at(idx).tcp = TcpTracker{};
  erase_slot(pos);
  free_.push_back(idx);
  --size_;
}

FlowTable::TimeoutsNs FlowTable::to_ns(const FlowTimeouts& t) {
  const auto ns = [](double s) { return static_cast<std::int64_t>(s * 1e9); };
  return TimeoutsNs{ns(t.tcp_handshake), ns(t.tcp_idle),      ns(t.http),  ns(t.ssh),
                    ns(t.tcp_time_wait), ns(t.tcp_closed),    ns(t.dns),   ns(t.udp),
                    ns(t.quic_idle),     ns(t.quic_draining), ns(t.other), ns(t.arp)};
}

std::int64_t FlowTable::timeout_ns(const Flow& f) const {
  const TimeoutsNs& t = timeouts_ns_;
  const dpi::Protocol app = f.dpi.proto;
  if (f.is_tcp()) {
    switch (f.tcp.state()) {
      case TcpState::closed:
        return t.tcp_closed;
      case TcpState::time_wait:
        return t.tcp_time_wait;
      case TcpState::syn_sent:
      case TcpState::syn_recv:
        return t.tcp_handshake;
      default:
        if (app == dpi::Protocol::http || app == dpi::Protocol::tls) return t.http;
        if (app == dpi::Protocol::ssh) return t.ssh;
        return t.tcp_idle;
    }
  }
  if (f.key.proto == kArpProto) return t.arp;
  if (f.key.proto == decode::ip_proto::udp) {
    if (app == dpi::Protocol::quic) {
      const dpi::AppState st = dpi::app_state(f.dpi);
      const bool ending = st == dpi::AppState::quic_draining || st == dpi::AppState::quic_closed;
      return ending ? t.quic_draining : t.quic_idle;
    }
    if (app == dpi::Protocol::dns || app == dpi::Protocol::mdns || app == dpi::Protocol::llmnr) {
      return t.dns;
    }
    return t.udp;
  }
  return t.other;
}

std::int64_t FlowTable::shown_timeout_ns(const Flow& f, core::Timestamp now) const {
  const std::int64_t expiry = timeout_ns(f);
  const FlowTimeouts& t = config_.timeouts;
  if (now.ns - f.last_seen.ns >= static_cast<std::int64_t>(t.idle_after * 1e9)) return expiry;
  const auto ns = [](double s) { return static_cast<std::int64_t>(s * 1e9); };
  if (f.is_tcp() && f.tcp.state() == TcpState::established && expiry == ns(t.tcp_idle)) {
    return std::max(expiry, ns(t.tcp_active));
  }
  if (f.dpi.proto == dpi::Protocol::quic && expiry == ns(t.quic_idle)) {
    return std::max(expiry, ns(t.quic_active));
  }
  return expiry;
}

EndReason FlowTable::expiry_reason(const Flow& f) {
  const TcpState st = f.tcp.state();
  const bool closed = f.is_tcp() && (st == TcpState::closed || st == TcpState::time_wait);
  return closed ? EndReason::closed : EndReason::idle_timeout;
}

bool FlowTable::is_expired(const Flow& f, core::Timestamp now) const {
  if (now.ns - f.last_seen.ns <= timeout_ns(f)) return false;
  return !(config_.kernel_alive && config_.kernel_alive(f));
}

void FlowTable::expire(core::Timestamp now, std::size_t budget) {
  // `budget` counts slots the cursor moves over; ending a flow does not use it up, since
  // the backward shift may pull another flow into the same slot, which is looked at again.
  budget = std::min(budget, index_.size());
  const std::uint32_t now_coarse = coarse_time(now.ns);
  for (std::size_t n = 0; n < budget;) {
    const std::size_t pos = cursor_;
    const Slot s = index_[pos];
    // The signed difference handles the wrap of the coarse clock.
    if (s.hash != 0 && static_cast<std::int32_t>(now_coarse - s.deadline) >= 0 &&
        is_expired(flow_at(s.flow), now)) {
      end_slot(pos, expiry_reason(flow_at(s.flow)));
      continue;
    }
    cursor_ = next(cursor_);
    ++n;
  }
}

void FlowTable::evict_one(core::Timestamp now) {
  // Prefer a flow that has already timed out; otherwise the stalest of a small window.
  constexpr std::size_t kWindow = 64;
  std::size_t best = index_.size();
  std::int64_t best_seen = 0;
  std::size_t pos = cursor_;
  for (std::size_t scanned = 0; scanned < index_.size(); ++scanned) {
    const Slot s = index_[pos];
    if (s.hash != 0) {
      const Flow& f = flow_at(s.flow);
      if (is_expired(f, now)) {
        end_slot(pos, expiry_reason(f));
        return;
      }
      if (best == index_.size() || f.last_seen.ns < best_seen) {
        best = pos;
        best_seen = f.last_seen.ns;
      }
      if (scanned >= kWindow) break;
    }
    pos = next(pos);
  }
  cursor_ = pos;
  if (best != index_.size()) {
    ++evicted_;
    end_slot(best, EndReason::evicted);
  }
}

void FlowTable::drain(EndReason reason) {
  for (std::size_t pos = 0; pos < index_.size(); ++pos) {
    while (index_[pos].hash != 0) end_slot(pos, reason);
  }
}

void FlowTable::drain_at(core::Timestamp end) {
  for (std::size_t pos = 0; pos < index_.size(); ++pos) {
    while (index_[pos].hash != 0) {
      const Flow& f = flow_at(index_[pos].flow);
      // A TCP connection that finished (FIN exchange or reset) ended as closed, even when
      // its linger time was not over when the input ended.
      const bool finished =
          f.is_tcp() && (f.tcp.state() == TcpState::closed || f.tcp.state() == TcpState::time_wait);
      end_slot(pos, finished || is_expired(f, end) ? expiry_reason(f) : EndReason::end_of_input);
    }
  }
}

}  // namespace netscope::flow
