#include "monitor/engine.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "decode/decode.hpp"
#include "flow/arp.hpp"

namespace netscope::monitor {

void check_capture_input(const capture::FileReader& reader, const std::string& path,
                         const std::string& bpf) {
  if (reader.format() == capture::FileFormat::pcap && !reader.interfaces().empty()) {
    const int lt = reader.interfaces().front().linktype;
    if (!decode::linktype_supported(lt)) {
      throw std::runtime_error(path + ": unsupported link type " + capture::linktype_name(lt) +
                               " (" + std::to_string(lt) + ")");
    }
  }
  if (bpf.empty()) return;
  capture::BpfFilter check(bpf);
  for (const capture::InterfaceInfo& i : reader.interfaces()) {
    capture::BpfFilter probe(bpf);
    probe.prepare(i.linktype, i.snaplen == 0 ? 262144 : i.snaplen);
  }
}

namespace {
// The sink of a routing engine's (unused) stage.
class NullSink : public EngineSink {
 public:
  void on_flow_end(const flow::Flow& /*flow*/, flow::EndReason /*reason*/) override {}
};
}  // namespace

Engine::Engine(EngineConfig config, EngineSink& sink) : config_(std::move(config)) {
  stage_ = std::make_unique<FlowStage>(
      config_.flows, config_.dpi ? std::optional(config_.inspector) : std::nullopt, sink, stats_);
  if (!config_.bpf.empty()) bpf_ = std::make_unique<capture::BpfFilter>(config_.bpf);
}

Engine::Engine(EngineConfig config, PacketRouter& router)
    : config_(std::move(config)), router_(&router), null_sink_(std::make_unique<NullSink>()) {
  flow::FlowTableConfig none = config_.flows;
  none.max_flows = 16;  // never used: flows() of a routing engine is empty
  stage_ = std::make_unique<FlowStage>(none, std::nullopt, *null_sink_, stats_);
  if (!config_.bpf.empty()) bpf_ = std::make_unique<capture::BpfFilter>(config_.bpf);
}

Engine::~Engine() = default;

void Engine::process_batch(std::span<const capture::RawPacket> pkts) {
  while (!pkts.empty()) {
    const std::size_t n = std::min(pkts.size(), kBatch);
    // Stage 1: filter and decode each packet, compute its flow key, prefetch its slot.
    for (std::size_t i = 0; i < n; ++i) decode_stage(pkts[i], views_[i], pending_[i]);
    // Stage 2: the slots have arrived (or are on their way): prefetch the flows.
    if (n > 1 && router_ == nullptr) {
      for (std::size_t i = 0; i < n; ++i) {
        if (pending_[i].keyed) stage_->prefetch_flow(pending_[i].key);
      }
    }
    // Stage 3: in order, everything that depends on earlier packets.
    for (std::size_t i = 0; i < n; ++i) account(pkts[i], views_[i], pending_[i]);
    pkts = pkts.subspan(n);
  }
}

void Engine::decode_stage(const capture::RawPacket& pkt, decode::PacketView& v, Pending& p) {
  p.keyed = false;
  if (bpf_ && !bpf_->matches(pkt)) {
    ++stats_.filtered;
    p.kind = Pending::Kind::skip;
    return;
  }
  if (!decode::linktype_supported(pkt.linktype)) {
    p.kind = Pending::Kind::unsupported;
    return;
  }
  p.kind = Pending::Kind::decoded;
  decode::decode_packet(pkt.linktype, pkt.data, pkt.orig_len, v, anomalies_);
  v.ts = pkt.ts;
  v.interface_id = static_cast<std::uint8_t>(std::min<std::uint32_t>(pkt.interface_id, 255));
  // Later fragments take their ports from the fragment cache, in packet order: they are
  // keyed in stage 3. So are TCP/UDP packets whose header was cut (they get no flow).
  const bool ported = decode::proto_has_ports(v.ip_proto);
  if (v.has_ip() && !(v.is_fragment && !v.first_fragment) && (!ported || v.has_transport())) {
    p.key = flow::FlowTable::prepare(v);
    p.keyed = true;
    if (router_ == nullptr) stage_->prefetch_slot(p.key);
  }
}

void Engine::account(const capture::RawPacket& pkt, decode::PacketView& v, const Pending& p) {
  if (p.kind == Pending::Kind::skip) return;
  ++stats_.packets;
  stats_.wire_bytes += pkt.orig_len;
  // One map lookup per change of link type, not per packet.
  if (pkt.linktype != counted_linktype_ || linktype_count_ == nullptr) [[unlikely]] {
    counted_linktype_ = pkt.linktype;
    linktype_count_ = &stats_.packets_by_linktype[pkt.linktype];
  }
  ++*linktype_count_;
  if (!stats_.first) stats_.first = pkt.ts;
  if (stats_.last && pkt.ts < *stats_.last) {
    ++stats_.time_went_backwards;
  } else {
    stats_.last = pkt.ts;
  }

  if (router_ == nullptr) stage_->advance_clock(*stats_.last);

  if (p.kind == Pending::Kind::unsupported) {
    ++stats_.unsupported_linktypes[pkt.linktype];
    ++stats_.other_packets;
  } else if (v.has_ip()) {
    handle_ip(v, p);
    if (config_.tap != nullptr) config_.tap->on_packet(pkt, v);  // the recorder's hook
  } else if ((v.layers & decode::PacketView::kArp) != 0) {
    ++stats_.arp_packets;
    // Requests and replies are conversations too (flow/arp.hpp).
    if (flow::is_arp_flow_packet(v)) handle_arp(v);
  } else {
    ++stats_.other_packets;
  }

  if (router_ == nullptr) stage_->expire_if_due();
}

void Engine::handle_ip(decode::PacketView& v, const Pending& p) {
  ++stats_.ip_packets;
  stats_.ip_bytes += v.ip_bytes;

  const bool ported = decode::proto_has_ports(v.ip_proto);
  if (v.is_fragment && !v.first_fragment) {
    // A later fragment: borrow the ports of its first fragment, if we saw it.
    if (ported && !fragments_.lookup(v)) {
      v.sport = 0;
      v.dport = 0;
    }
  } else if (ported && !v.has_transport()) {
    // TCP/UDP header cut short: the IP bytes are counted above, but without ports the
    // packet cannot be put in a conversation (the anomaly was counted by the decoder).
    return;
  } else if (v.is_fragment && ported) {
    fragments_.remember(v);
  }

  const std::uint8_t roles = role::count | (is_icmp_error(v) ? role::icmp_error : 0);
  const flow::FlowTable::PreparedKey key = p.keyed ? p.key : flow::FlowTable::prepare(v);
  if (router_ != nullptr) {
    router_->route(v, key, roles, *stats_.last);
  } else {
    stage_->handle(v, key, roles);
  }
}

void Engine::handle_arp(const decode::PacketView& v) {
  const flow::FlowTable::PreparedKey key = flow::FlowTable::prepare(v);
  if (router_ != nullptr) {
    router_->route(v, key, role::count, *stats_.last);
  } else {
    stage_->handle(v, key, role::count);
  }
}

void Engine::advance_clock(core::Timestamp now) {
  if (router_ != nullptr) return;
  stage_->advance_clock(now);
  stage_->expire_if_due();
}

void Engine::finish() {
  const core::Timestamp end = stats_.last.value_or(core::Timestamp{});
  if (router_ != nullptr) {
    router_->finish(end);
  } else {
    stage_->finish(end);
  }
}

}  // namespace netscope::monitor
