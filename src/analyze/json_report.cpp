#include "analyze/json_report.hpp"

#include <cmath>

namespace netscope::analyze {

using Json = nlohmann::ordered_json;

namespace {

// Milliseconds rounded to the microsecond, or null.
Json ms_or_null(const std::optional<double>& ms) {
  if (!ms) return nullptr;
  return std::round(*ms * 1000.0) / 1000.0;
}

Json endpoint_json(const core::Endpoint& e, bool ported) {
  Json j;
  j["addr"] = e.addr.to_string();
  j["port"] = ported ? Json(e.port) : Json(nullptr);
  return j;
}

Json health_json(const flow::TcpHealth& h) {
  Json j;
  j["retransmissions"] = h.retransmissions;
  j["fast_retransmissions"] = h.fast_retransmissions;
  j["spurious_retransmissions"] = h.spurious_retransmissions;
  j["out_of_order"] = h.out_of_order;
  j["dup_acks"] = h.dup_acks;
  j["dup_ack_events"] = h.dup_ack_events;
  j["zero_windows"] = h.zero_windows;
  j["window_full"] = h.window_full;
  j["lost_segments"] = h.lost_segments;
  j["keep_alives"] = h.keep_alives;
  j["rsts"] = h.rsts;
  return j;
}

Json direction_json(const DirectionSummary& d, bool tcp) {
  Json j;
  j["packets"] = d.packets;
  j["bytes"] = d.bytes;
  j["payload_bytes"] = d.payload_bytes;
  j["data_packets"] = d.data_packets;
  const Json h = health_json(d.tcp);
  for (const auto& [key, value] : h.items()) j[key] = tcp ? value : Json(nullptr);
  return j;
}

std::string_view client_by_name(flow::ClientBy b) {
  switch (b) {
    case flow::ClientBy::syn:
      return "syn";
    case flow::ClientBy::port:
      return "port";
    case flow::ClientBy::first_packet:
      return "first_packet";
  }
  return "first_packet";
}

std::string_view tunnel_name(decode::Tunnel t) {
  switch (t) {
    case decode::Tunnel::gre:
      return "gre";
    case decode::Tunnel::vxlan:
      return "vxlan";
    case decode::Tunnel::ip_in_ip:
      return "ip_in_ip";
    case decode::Tunnel::none:
      break;
  }
  return "none";
}

Json time_or_null(const std::optional<core::Timestamp>& t) {
  if (!t) return nullptr;
  return core::to_rfc3339(*t);
}

}  // namespace

Json conversation_json(const Conversation& c) {
  const bool ported = c.proto == decode::ip_proto::tcp || c.proto == decode::ip_proto::udp;
  Json j;
  j["id"] = c.id;
  j["flow"] = describe(c);
  j["proto"] = proto_name(c.proto);
  j["client"] = endpoint_json(c.client, ported);
  j["server"] = endpoint_json(c.server, ported);
  j["client_by"] = client_by_name(c.client_by);
  j["vlan"] = c.vlan != 0 ? Json(c.vlan) : Json(nullptr);
  if (c.tunnel != decode::Tunnel::none) {
    j["tunnel"] = {{"type", tunnel_name(c.tunnel)},
                   {"id", c.tunnel_id},
                   {"outer_src", c.tunnel_src.to_string()},
                   {"outer_dst", c.tunnel_dst.to_string()}};
  } else {
    j["tunnel"] = nullptr;
  }
  j["state"] = c.tcp_state ? Json(std::string(flow::tcp_state_name(*c.tcp_state))) : Json(nullptr);
  j["first_seen"] = core::to_rfc3339(c.first_seen);
  j["last_seen"] = core::to_rfc3339(c.last_seen);
  j["duration_ms"] = std::round(c.duration_s() * 1e6) / 1e3;
  j["end_reason"] = flow::end_reason_name(c.end_reason);
  j["score"] = {{"value", c.score}, {"level", level_name(c.level())}};
  j["reasons"] = c.reasons;
  j["c2s"] = direction_json(c.dir[0], c.is_tcp());
  j["s2c"] = direction_json(c.dir[1], c.is_tcp());
  if (c.is_tcp()) {
    j["rtt"] = {{"handshake_ms", ms_or_null(c.rtt.handshake_ms)},
                {"p50_ms", ms_or_null(c.rtt.p50_ms)},
                {"p95_ms", ms_or_null(c.rtt.p95_ms)},
                {"max_ms", ms_or_null(c.rtt.max_ms)},
                {"samples", c.rtt.samples}};
  } else {
    j["rtt"] = nullptr;
  }
  if (c.icmp_errors > 0) {
    j["icmp_errors"] = {{"count", c.icmp_errors},
                        {"version", c.icmp_version},
                        {"type", c.icmp_type},
                        {"code", c.icmp_code}};
  } else {
    j["icmp_errors"] = nullptr;
  }
  return j;
}

JsonReportWriter::JsonReportWriter(std::ostream& out) : out_(out) {
  out_ << "{\"schema\":\"" << kAnalyzeSchema << "\",\"conversations\":[";
}

void JsonReportWriter::write_conversation(const Conversation& c) {
  if (!first_) out_ << ',';
  first_ = false;
  out_ << '\n' << conversation_json(c).dump();
}

void JsonReportWriter::finish(const Summary& s, const ReportBuilder& report,
                              const decode::AnomalyCounters& anomalies,
                              const monitor::EngineStats& stats, const flow::FlowTable& flows) {
  Json summary;
  summary["file"] = s.file;
  summary["format"] = s.format;
  summary["link_types"] = s.link_types;
  summary["packets"] = s.packets;
  summary["bytes"] = s.ip_bytes;
  summary["wire_bytes"] = s.wire_bytes;
  summary["first_packet"] = time_or_null(s.first);
  summary["last_packet"] = time_or_null(s.last);
  summary["duration_ms"] = std::round(s.duration_s * 1e6) / 1e3;
  summary["rate"] = std::round(s.average_rate() * 1000.0) / 1000.0;
  summary["packets_per_second_processed"] =
      static_cast<std::uint64_t>(std::llround(s.packets_per_second_processed()));
  summary["read_status"] = read_status_name(s.read_status);
  summary["read_error"] = s.read_error.empty() ? Json(nullptr) : Json(s.read_error);
  summary["stopped_at_offset"] = s.complete() ? Json(nullptr) : Json(s.stopped_at_offset);

  Json problems = Json::array();
  for (const Problem& p : report.problems()) {
    problems.push_back({{"kind", p.kind},
                        {"time", core::to_rfc3339(p.time)},
                        {"conversation", p.conversation != 0 ? Json(p.conversation) : Json()},
                        {"flow", p.flow},
                        {"detail", p.detail}});
  }

  Json anomaly_json = Json::object();
  for (std::size_t i = 0; i < decode::kAnomalyCount; ++i) {
    anomaly_json[std::string(decode::anomaly_name(static_cast<decode::Anomaly>(i)))] =
        anomalies.counts[i];
  }
  anomaly_json["unsupported_link_type_packets"] = [&] {
    std::uint64_t n = 0;
    for (const auto& [lt, count] : stats.unsupported_linktypes) n += count;
    return n;
  }();
  anomaly_json["time_went_backwards"] = stats.time_went_backwards;

  const ReportTotals& t = report.totals();
  Json totals;
  totals["packets"] = stats.packets;
  totals["bytes"] = stats.ip_bytes;
  totals["ip_packets"] = stats.ip_packets;
  totals["arp_packets"] = stats.arp_packets;
  totals["other_packets"] = stats.other_packets;
  totals["filtered_packets"] = stats.filtered;
  totals["conversations"] = t.conversations;
  Json levels;
  for (std::size_t i = 0; i < t.by_level.size(); ++i) {
    levels[std::string(level_name(static_cast<Level>(i)))] = t.by_level[i];
  }
  totals["by_level"] = levels;
  Json protos = Json::object();
  for (const auto& [name, pt] : t.by_proto) {
    protos[name] = {
        {"conversations", pt.conversations}, {"packets", pt.packets}, {"bytes", pt.bytes}};
  }
  totals["by_proto"] = protos;
  totals["tcp"] = health_json(t.tcp);
  totals["problems"] = t.problems;
  totals["problems_not_listed"] = t.problems_dropped;
  totals["icmp_errors"] = stats.icmp_errors;
  totals["flows_evicted"] = flows.evicted();
  totals["peak_active_flows"] = flows.peak_size();
  totals["max_flows"] = flows.capacity();

  out_ << "\n],\"summary\":" << summary.dump() << ",\n\"problems\":" << problems.dump()
       << ",\n\"anomalies\":" << anomaly_json.dump() << ",\n\"totals\":" << totals.dump() << "}\n";
  out_.flush();
}

}  // namespace netscope::analyze
