#include "output/ipfix_meter.hpp"

#include <algorithm>
#include <unordered_map>

#include "flow/arp.hpp"

namespace netscope::output::ipfix {

namespace {

constexpr std::uint8_t kTcp = 6;

std::int64_t ms(core::Timestamp t) {
  return t.ns / 1'000'000;
}

std::size_t mix(std::size_t h, std::uint64_t v) {
  return (h ^ v) * 0x9E3779B97F4A7C15ull + (h >> 29);
}

std::size_t hash_address(std::size_t h, const core::IpAddress& a) {
  const auto& b = a.bytes();
  for (std::size_t i = 0; i < b.size(); i += 8) {
    std::uint64_t v = 0;
    for (std::size_t j = 0; j < 8; ++j) v = (v << 8) | b[i + j];
    h = mix(h, v);
  }
  return h;
}

}  // namespace

EndReason end_reason_for(const std::string& close_reason) {
  if (close_reason == "idle_timeout") return EndReason::idle_timeout;
  if (close_reason == "evicted" || close_reason == "unknown") return EndReason::lack_of_resources;
  if (close_reason == "end_of_input") return EndReason::forced_end;
  return EndReason::end_of_flow;
}

std::size_t FlowMeter::KeyHash::operator()(const Key& k) const {
  std::size_t h = hash_address(0x1234567, k.addr_lo);
  h = hash_address(h, k.addr_hi);
  h = mix(h, (std::uint64_t{k.port_lo} << 24) | (std::uint64_t{k.port_hi} << 8) | k.proto);
  return mix(h, static_cast<std::uint64_t>(k.first_ns));
}

FlowMeter::Key FlowMeter::key_of(const monitor::ConnectionRecord& c, bool& up_is_lo) {
  const core::Endpoint local{c.local_addr, c.local_port};
  const core::Endpoint remote{c.remote_addr, c.remote_port};
  up_is_lo = !(remote < local);
  const core::Endpoint& lo = up_is_lo ? local : remote;
  const core::Endpoint& hi = up_is_lo ? remote : local;
  return Key{lo.addr, hi.addr, lo.port, hi.port, c.proto, c.first_seen.ns};
}

bool FlowMeter::pending(const Conn& c) {
  return c.now[0].packets > c.exported[0].packets || c.now[1].packets > c.exported[1].packets;
}

void FlowMeter::update(const monitor::Snapshot& snap, std::vector<FlowRecord>& out) {
  ++snapshots_;
  const std::int64_t now_ms = ms(snap.time);
  const auto active_ms = static_cast<std::int64_t>(cfg_.active_s * 1000);
  const auto idle_ms = static_cast<std::int64_t>(cfg_.idle_s * 1000);

  std::unordered_map<pid_t, const std::string*> users;
  users.reserve(snap.processes.size());
  for (const monitor::ProcessRecord& p : snap.processes) {
    if (p.pid && !p.user.empty()) users.emplace(*p.pid, &p.user);
  }

  for (const monitor::ConnectionRecord& c : snap.connections) {
    // IPFIX flows here are IP flows (protocolIdentifier, IP octets): ARP conversations
    // (flow/arp.hpp) have no IP header and are not exported.
    if (c.proto == flow::kArpProto) continue;
    bool up_is_lo = true;
    const Key k = key_of(c, up_is_lo);
    auto [it, inserted] = conns_.try_emplace(k);
    Conn& e = it->second;
    const bool was_pending = pending(e);
    if (inserted) {
      e.key = k;
      e.record_start_ms = ms(c.first_seen);
      e.last_packet_ms = ms(c.first_seen);
      // Seen from its handshake: the tick builder shows a TCP state, not TCP_ACTIVE.
      e.tcp_handshake = c.proto == kTcp && !c.state.starts_with("TCP_");
    }
    e.seen = snapshots_;
    e.up_is_lo = up_is_lo;
    const int up = up_is_lo ? 0 : 1;
    const std::array<Dir, 2> before = e.now;
    e.now[up] = Dir{c.packets_up, c.bytes_up};
    e.now[1 - up] = Dir{c.packets_down, c.bytes_down};
    for (int d = 0; d < 2; ++d) {
      // Counters never go back; if they do (a connection turned around is re-counted),
      // start over from what the snapshot says.
      if (e.now[d].packets < e.exported[d].packets || e.now[d].bytes < e.exported[d].bytes) {
        e.exported[d] = e.now[d];
      }
    }
    if (e.now[0].packets != before[0].packets || e.now[1].packets != before[1].packets) {
      e.last_packet_ms = std::max(ms(c.last_seen), e.record_start_ms);
      if (!was_pending && !inserted) {
        // The first packet of this record came after the previous snapshot.
        e.record_start_ms = std::max(e.last_end_ms, prev_snap_ms_);
      }
    }
    e.rsts[up] = c.health_up.rsts;
    e.rsts[1 - up] = c.health_down.rsts;
    if (e.process != c.process) e.process = c.process;
    e.pid = c.pid ? static_cast<std::uint32_t>(*c.pid) : 0;
    if (c.pid) {
      if (auto u = users.find(*c.pid); u != users.end() && e.user != *u->second)
        e.user = *u->second;
    }
    if (e.app != c.dpi->app) e.app = c.dpi->app;
    const std::string& server_name = c.dpi->sni.empty() ? c.dpi->http_host : c.dpi->sni;
    if (e.sni != server_name) e.sni = server_name;

    if (!pending(e)) continue;
    if (c.closed && !c.close_reason.empty()) {
      e.fin = c.close_reason == "closed";
      export_conn(e, end_reason_for(c.close_reason), out);
    } else if (now_ms - ms(c.last_seen) >= idle_ms) {
      export_conn(e, EndReason::idle_timeout, out);
    } else if (now_ms - e.record_start_ms >= active_ms) {
      export_conn(e, EndReason::active_timeout, out);
    }
  }

  // Connections no longer listed: closed ones left the rate window (and were exported
  // when they closed). Anything still pending was lost from the engine's view.
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second.seen == snapshots_) {
      ++it;
      continue;
    }
    if (pending(it->second)) export_conn(it->second, EndReason::lack_of_resources, out);
    it = conns_.erase(it);
  }
  prev_snap_ms_ = now_ms;
}

void FlowMeter::flush(std::vector<FlowRecord>& out) {
  for (auto& [k, e] : conns_) {
    if (pending(e)) export_conn(e, EndReason::forced_end, out);
  }
  conns_.clear();
}

void FlowMeter::export_conn(Conn& c, EndReason reason, std::vector<FlowRecord>& out) {
  for (int d = 0; d < 2; ++d) {
    const Dir& now = c.now[d];
    const Dir& done = c.exported[d];
    if (now.packets <= done.packets) continue;
    FlowRecord r;
    const bool from_lo = d == 0;
    r.src = from_lo ? c.key.addr_lo : c.key.addr_hi;
    r.dst = from_lo ? c.key.addr_hi : c.key.addr_lo;
    r.src_port = from_lo ? c.key.port_lo : c.key.port_hi;
    r.dst_port = from_lo ? c.key.port_hi : c.key.port_lo;
    r.proto = c.key.proto;
    r.packets = now.packets - done.packets;
    r.octets = now.bytes - done.bytes;
    r.start_ms = c.record_start_ms;
    r.end_ms = std::max(c.last_packet_ms, c.record_start_ms);
    r.end_reason = reason;
    r.direction = (d == 0) == c.up_is_lo ? 1 : 0;
    if (c.key.proto == kTcp) {
      std::uint16_t flags = 0;
      if (c.tcp_handshake && !c.syn_reported[d]) {
        flags |= tcp_flag::syn;
        c.syn_reported[d] = true;
      }
      if (now.packets >= 2 || c.now[1 - d].packets > 0) flags |= tcp_flag::ack;
      if (c.rsts[d] > 0) flags |= tcp_flag::rst;
      if (reason == EndReason::end_of_flow && c.fin && c.rsts[d] == 0) flags |= tcp_flag::fin;
      r.tcp_flags = flags;
    }
    r.process = c.process;
    r.pid = c.pid;
    r.user = c.user;
    r.app = c.app;
    r.sni = c.sni;
    out.push_back(std::move(r));
    c.exported[d] = now;
  }
  c.last_end_ms = std::max(c.last_packet_ms, c.record_start_ms);
  c.record_start_ms = c.last_end_ms;
}

}  // namespace netscope::output::ipfix
