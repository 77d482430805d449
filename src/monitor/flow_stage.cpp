#include "monitor/flow_stage.hpp"

#include "flow/arp.hpp"
#include "monitor/engine.hpp"

namespace netscope::monitor {

namespace {

// Expiry runs once per second of packet time and examines 1/32 of the index slots, so a
// full sweep takes about 32 s of packet time however many flows there are.
constexpr std::int64_t kExpiryIntervalNs = 1'000'000'000;
constexpr std::size_t kExpirySweepFraction = 32;

// An ICMP echo request or reply (RFC 792 types 8/0, RFC 4443 types 128/129).
bool is_echo(const decode::PacketView& v) {
  if (!v.has_transport()) return false;
  if (v.ip_proto == decode::ip_proto::icmp) return v.icmp_type == 8 || v.icmp_type == 0;
  return v.ip_proto == decode::ip_proto::icmpv6 && (v.icmp_type == 128 || v.icmp_type == 129);
}

}  // namespace

bool is_icmp_error(const decode::PacketView& v) {
  if (!v.has_transport() || !v.icmp_quote.present) return false;
  if (v.ip_proto == decode::ip_proto::icmp) {
    // RFC 792: 3 destination unreachable, 4 source quench, 5 redirect, 11 time exceeded,
    // 12 parameter problem.
    return v.icmp_type == 3 || v.icmp_type == 4 || v.icmp_type == 5 || v.icmp_type == 11 ||
           v.icmp_type == 12;
  }
  // RFC 4443 §2.1: ICMPv6 error messages have types 0..127.
  return v.ip_proto == decode::ip_proto::icmpv6 && v.icmp_type < 128;
}

FlowStage::FlowStage(const flow::FlowTableConfig& config,
                     const std::optional<dpi::InspectorConfig>& dpi, EngineSink& sink,
                     EngineStats& stats)
    : sink_(sink),
      stats_(stats),
      inspector_(dpi ? std::make_unique<dpi::Inspector>(*dpi) : nullptr),
      flows_(config, *this) {}

// The table is destroyed before the inspector (members in reverse order), so no flow's
// session outlives the budget it borrowed from; they hold it by shared_ptr anyway.
FlowStage::~FlowStage() = default;

void FlowStage::on_flow_start(const flow::Flow& f) {
  sink_.on_flow_start(f);
}

void FlowStage::on_flow_end(const flow::Flow& f, flow::EndReason reason) {
  sink_.on_flow_end(f, reason);
}

void FlowStage::on_flow_release(flow::Flow& f) {
  // A flow nDPI is still labelling has its slot freed now, not when it is reclaimed.
  const bool ndpi_active = (f.dpi.flags & dpi::FlowState::kNdpiActive) != 0;
  if (!inspector_ || (!f.dpi.session && !ndpi_active)) return;
  dpi_result_.clear();
  inspector_->finish(f.dpi, dpi_result_);
  deliver_dns(f);
  // The sink has described the flow: nothing reads the session any more. (Assigning a
  // fresh state frees it now rather than when the slot is reused.)
  f.dpi = dpi::FlowState{};
}

void FlowStage::inspect(flow::Flow& f, const decode::PacketView& v, int dir) {
  dpi_result_.clear();
  inspector_->inspect(f.dpi, v, dir, dpi_result_);
  if (dpi_result_.changed) f.dpi_changed = true;
  deliver_dns(f);
}

void FlowStage::deliver_dns(const flow::Flow& f) {
  for (dpi::DnsEvent& e : dpi_result_.dns) sink_.on_dns_event(f, std::move(e));
}

void FlowStage::sample(std::vector<FlowSample>& out) {
  flows_.for_each([&](flow::Flow& f) {
    out.push_back(sample_flow(f, flows_, f.dpi_changed));
    f.dpi_changed = false;
  });
}

void FlowStage::sample(const std::function<void(const FlowSample&)>& fn) {
  flows_.for_each_indexed([&](flow::Flow& f, std::uint32_t index) {
    FlowSample s = sample_flow(f, flows_, f.dpi_changed);
    s.table_index = index;
    f.dpi_changed = false;
    fn(s);
  });
}

const dpi::DpiCounters& FlowStage::dpi_counters() const {
  static const dpi::DpiCounters kNone;
  return inspector_ ? inspector_->counters() : kNone;
}

void FlowStage::advance_clock(core::Timestamp now) {
  if (clock_started_ && now.ns <= now_.ns) return;
  clock_started_ = true;
  now_ = now;
  sink_.on_clock(now);
}

void FlowStage::handle(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key,
                       std::uint8_t roles) {
  if ((roles & role::icmp_error) != 0) tie_icmp_error(v);
  if ((roles & role::count) != 0) count(v, key);
}

void FlowStage::count(const decode::PacketView& v, const flow::FlowTable::PreparedKey& key) {
  int dir = 0;
  flow::Flow& f = flows_.upsert(v, key, now_, dir);
  if (v.ts > f.last_seen) f.last_seen = v.ts;
  flow::DirectionStats& d = f.dir[dir];
  ++d.packets;
  if (!v.has_ip()) [[unlikely]] {
    // An ARP request or reply (flow/arp.hpp): the ARP message is its bytes; no transport
    // to track or inspect.
    d.bytes += v.arp_len;
    f.arp_state = flow::arp_state_after(v);
    flows_.touched(f);
    return;
  }
  d.bytes += v.ip_bytes;
  d.payload_bytes += v.payload_len;
  if (v.payload_len != 0) ++d.data_packets;
  if (is_echo(v)) {
    const bool request = v.icmp_type == 8 || v.icmp_type == 128;
    f.icmp_echo = request ? flow::kEchoRequest : flow::kEchoReply;
  }
  // When the IP header claims more than the frame held, tshark analyses the segment with
  // the length trimmed to the frame (zeek/tcp_reassembly.pcap frames 35, 39 are flagged
  // as retransmissions) unless nothing of the payload remains: then it flags nothing
  // (packetmancer/captures_telnet-cooked.pcap frames 18, 32, 52, 70, 78 would otherwise
  // look like duplicate ACKs). The tracker is fed the same way.
  const bool header_only_remnant = v.ip_len_excess != 0 && v.payload_len == 0;
  if (v.is_tcp() && !(v.is_fragment && !v.first_fragment) && !header_only_remnant) {
    f.tcp.on_segment(dir, v);
  }
  // A fragment carries part of a datagram or segment (the engine does not reassemble IP
  // fragments): the recognisers and parsers would read a cut message.
  if (inspector_ && !v.is_fragment && f.dpi.wants_packets()) inspect(f, v, dir);
  flows_.touched(f);
}

void FlowStage::tie_icmp_error(const decode::PacketView& v) {
  ++stats_.icmp_errors;
  const decode::IcmpQuote& q = v.icmp_quote;
  int dir = 0;
  flow::Flow* f =
      flows_.find(q.src, q.sport, q.dst, q.dport, q.proto, v.vlan, v.tunnel_id, dir, now_);
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

void FlowStage::expire_if_due() {
  if (now_.ns < next_expiry_ns_) return;
  flows_.expire(now_, flows_.slots() / kExpirySweepFraction);
  next_expiry_ns_ = now_.ns + kExpiryIntervalNs;
}

void FlowStage::finish(core::Timestamp end) {
  advance_clock(end);
  flows_.drain_at(now_);
  if (inspector_) stats_.dpi = inspector_->counters();
}

}  // namespace netscope::monitor
