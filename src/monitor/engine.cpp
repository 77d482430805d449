#include "monitor/engine.hpp"

#include <algorithm>

#include "decode/decode.hpp"

namespace netscope::monitor {

namespace {

// Expiry runs once per second of packet time and examines 1/32 of the index slots, so a
// full sweep takes about 32 s of packet time however many flows there are.
constexpr std::int64_t kExpiryIntervalNs = 1'000'000'000;
constexpr std::size_t kExpirySweepFraction = 32;

bool is_icmp_error(const decode::PacketView& v) {
  if (!v.icmp_quote.present) return false;
  if (v.ip_proto == decode::ip_proto::icmp) {
    // RFC 792: 3 destination unreachable, 4 source quench, 5 redirect, 11 time exceeded,
    // 12 parameter problem.
    return v.icmp_type == 3 || v.icmp_type == 4 || v.icmp_type == 5 || v.icmp_type == 11 ||
           v.icmp_type == 12;
  }
  // RFC 4443 §2.1: ICMPv6 error messages have types 0..127.
  return v.ip_proto == decode::ip_proto::icmpv6 && v.icmp_type < 128;
}

}  // namespace

Engine::Engine(EngineConfig config, EngineSink& sink)
    : config_(std::move(config)), sink_(sink), flows_(config_.flows, sink) {
  if (!config_.bpf.empty()) bpf_ = std::make_unique<capture::BpfFilter>(config_.bpf);
}

Engine::~Engine() = default;

void Engine::process_batch(std::span<const capture::RawPacket> pkts) {
  while (!pkts.empty()) {
    const std::size_t n = std::min(pkts.size(), kBatch);
    // Stage 1: filter and decode each packet, compute its flow key, prefetch its slot.
    for (std::size_t i = 0; i < n; ++i) decode_stage(pkts[i], views_[i], pending_[i]);
    // Stage 2: the slots have arrived (or are on their way): prefetch the flows.
    if (n > 1) {
      for (std::size_t i = 0; i < n; ++i) {
        if (pending_[i].keyed) flows_.prefetch_flow(pending_[i].key);
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
  // Later fragments take their ports from the fragment cache, in packet order: they are
  // keyed in stage 3. So are TCP/UDP packets whose header was cut (they get no flow).
  const bool ported = v.ip_proto == decode::ip_proto::tcp || v.ip_proto == decode::ip_proto::udp;
  if (v.has_ip() && !(v.is_fragment && !v.first_fragment) && (!ported || v.has_transport())) {
    p.key = flow::FlowTable::prepare(v);
    p.keyed = true;
    flows_.prefetch_slot(p.key);
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

  if (p.kind == Pending::Kind::unsupported) {
    ++stats_.unsupported_linktypes[pkt.linktype];
    ++stats_.other_packets;
  } else if (v.has_ip()) {
    handle_ip(v, p);
  } else if ((v.layers & decode::PacketView::kArp) != 0) {
    ++stats_.arp_packets;
  } else {
    ++stats_.other_packets;
  }

  const std::int64_t now = stats_.last->ns;
  if (now >= next_expiry_ns_) {
    flows_.expire(*stats_.last, flows_.slots() / kExpirySweepFraction);
    next_expiry_ns_ = now + kExpiryIntervalNs;
  }
}

void Engine::handle_ip(decode::PacketView& v, const Pending& p) {
  ++stats_.ip_packets;
  stats_.ip_bytes += v.ip_bytes;

  const bool ported = v.ip_proto == decode::ip_proto::tcp || v.ip_proto == decode::ip_proto::udp;
  if (v.is_fragment && !v.first_fragment) {
    // A later fragment: borrow the ports of its first fragment, if we saw it.
    if (ported && !fragments_.lookup(v.src, v.dst, v.frag_id, v.ip_proto, v.ts, v.sport, v.dport)) {
      v.sport = 0;
      v.dport = 0;
    }
  } else if (ported && !v.has_transport()) {
    // TCP/UDP header cut short: the IP bytes are counted above, but without ports the
    // packet cannot be put in a conversation (the anomaly was counted by the decoder).
    return;
  } else if (v.is_fragment && ported) {
    fragments_.remember(v.src, v.dst, v.frag_id, v.ip_proto, v.sport, v.dport, v.ts);
  }

  if (v.has_transport() && is_icmp_error(v)) handle_icmp_error(v);

  int dir = 0;
  flow::Flow& f = p.keyed ? flows_.upsert(v, p.key, dir) : flows_.upsert(v, dir);
  if (v.ts > f.last_seen) f.last_seen = v.ts;
  flow::DirectionStats& d = f.dir[dir];
  if (d.packets == 0) d.first = v.ts;
  d.last = v.ts;
  ++d.packets;
  d.bytes += v.ip_bytes;
  d.payload_bytes += v.payload_len;
  if (v.payload_len != 0) ++d.data_packets;
  // When the IP header claims more than the frame held, tshark analyses the segment with
  // the length trimmed to the frame (zeek/tcp_reassembly.pcap frames 35, 39 are flagged
  // as retransmissions) unless nothing of the payload remains: then it flags nothing
  // (packetmancer/captures_telnet-cooked.pcap frames 18, 32, 52, 70, 78 would otherwise
  // look like duplicate ACKs). The tracker is fed the same way.
  const bool header_only_remnant = v.ip_len_excess != 0 && v.payload_len == 0;
  if (v.is_tcp() && !(v.is_fragment && !v.first_fragment) && !header_only_remnant) {
    f.tcp.on_segment(dir, v);
  }
  flows_.touched(f);
}

void Engine::handle_icmp_error(const decode::PacketView& v) {
  ++stats_.icmp_errors;
  const decode::IcmpQuote& q = v.icmp_quote;
  int dir = 0;
  flow::Flow* f = flows_.find(q.src, q.sport, q.dst, q.dport, q.proto, v.vlan, v.tunnel_id, dir);
  if (f != nullptr) {
    ++f->icmp_errors;
    f->icmp_type = v.icmp_type;
    f->icmp_code = v.icmp_code;
    f->icmp_version = v.ip_version;
  } else {
    ++stats_.icmp_errors_unmatched;
  }
  sink_.on_icmp_error(v, f);
}

void Engine::finish() {
  flows_.drain(flow::EndReason::end_of_input);
}

}  // namespace netscope::monitor
