#include "analyze/json_report.hpp"

#include <cmath>

#include "analyze/json_out.hpp"
#include "flow/arp.hpp"

namespace netscope::analyze {

using Json = nlohmann::ordered_json;

namespace {

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

namespace {

void endpoint_out(JsonOut& j, const core::Endpoint& e, bool ported, const enrich::GeoRecord& geo) {
  j.begin_object().key("addr").value(e.addr.to_string()).key("port");
  if (ported) {
    j.value(e.port);
  } else {
    j.null();
  }
  // The remote record's keys (Conventions); null when unknown.
  const auto text = [&](std::string_view name, const std::string& v) {
    j.key(name);
    if (v.empty()) {
      j.null();
    } else {
      j.value(v);
    }
  };
  text("country", geo.country);
  j.key("asn").value(geo.asn);
  text("asn_org", geo.asn_org);
  j.end_object();
}

void health_out(JsonOut& j, const flow::TcpHealth* h) {
  const auto field = [&](std::string_view name, std::uint64_t v) {
    j.key(name);
    if (h != nullptr) {
      j.value(v);
    } else {
      j.null();
    }
  };
  const flow::TcpHealth zero;
  const flow::TcpHealth& x = h != nullptr ? *h : zero;
  field("retransmissions", x.retransmissions);
  field("fast_retransmissions", x.fast_retransmissions);
  field("spurious_retransmissions", x.spurious_retransmissions);
  field("out_of_order", x.out_of_order);
  field("dup_acks", x.dup_acks);
  field("dup_ack_events", x.dup_ack_events);
  field("zero_windows", x.zero_windows);
  field("window_full", x.window_full);
  field("lost_segments", x.lost_segments);
  field("keep_alives", x.keep_alives);
  field("rsts", x.rsts);
  field("retransmitted_bytes", x.retransmitted_bytes);
}

// The same fields as an nlohmann value, for the totals written once at the end.
Json health_json(const flow::TcpHealth& h) {
  JsonOut j;
  j.begin_object();
  health_out(j, &h);
  j.end_object();
  return Json::parse(j.str());
}

void direction_out(JsonOut& j, const DirectionSummary& d, bool tcp) {
  j.begin_object();
  j.key("packets").value(d.packets);
  j.key("bytes").value(d.bytes);
  j.key("payload_bytes").value(d.payload_bytes);
  j.key("data_packets").value(d.data_packets);
  health_out(j, tcp ? &d.tcp : nullptr);
  j.end_object();
}

std::optional<double> round_ms(const std::optional<double>& ms) {
  if (!ms) return std::nullopt;
  return std::round(*ms * 1000.0) / 1000.0;
}

void text_or_null(JsonOut& j, std::string_view key, const std::string& s) {
  j.key(key);
  if (s.empty()) {
    j.null();
  } else {
    j.value(s);
  }
}

// The connection record's DPI keys (Conventions), then the ClientHello and request
// details only the offline report carries.
void dpi_out(JsonOut& j, const Conversation& c) {
  const dpi::DpiInfo& d = *c.dpi;
  text_or_null(j, "service", c.service);
  text_or_null(j, "app", d.app);
  text_or_null(j, "app_state", d.state);
  j.key("app_state_heuristic").value(d.state_heuristic);
  text_or_null(j, "sni", d.sni);
  text_or_null(j, "alpn", d.alpn);
  text_or_null(j, "tls_version", d.tls_version);
  text_or_null(j, "tls_offered", d.tls_offered);
  text_or_null(j, "tls_cipher", d.tls_cipher);
  text_or_null(j, "ja3", d.ja3);
  text_or_null(j, "ja4", d.ja4);
  text_or_null(j, "http_host", d.http_host);
  text_or_null(j, "http_method", d.http_method);
  text_or_null(j, "http_path", d.http_path);
  text_or_null(j, "http_user_agent", d.http_user_agent);
  j.key("http_status").value(d.http_status);
  text_or_null(j, "ssh_client", d.ssh_client);
  text_or_null(j, "ssh_server", d.ssh_server);
  text_or_null(j, "quic_version", d.quic_version);
  text_or_null(j, "ndpi_app", d.ndpi_app);
  text_or_null(j, "ndpi_category", d.ndpi_category);
}

Json names_json(const std::vector<NameCount>& names, std::string_view count_key, bool bytes) {
  Json out = Json::array();
  for (const NameCount& n : names) {
    Json one;
    one["name"] = n.name;
    one[std::string(count_key)] = n.count;
    if (bytes) one["bytes"] = n.bytes;
    out.push_back(std::move(one));
  }
  return out;
}

Json ms_or_null(const std::optional<double>& ms) {
  const std::optional<double> r = round_ms(ms);
  return r ? Json(*r) : Json(nullptr);
}

Json applications_json(const AppStats& a) {
  Json j;
  Json by_app = Json::object();
  for (const NameCount& n : a.apps()) {
    by_app[n.name] = {{"conversations", n.count}, {"bytes", n.bytes}};
  }
  j["by_app"] = by_app;
  j["sni"] = names_json(a.top_sni(SIZE_MAX), "conversations", true);
  j["http_hosts"] = names_json(a.top_http_hosts(SIZE_MAX), "conversations", true);
  j["ndpi_apps"] = names_json(a.top_ndpi_apps(SIZE_MAX), "conversations", true);
  return j;
}

Json dns_json(const DnsStats& d) {
  Json j;
  j["transactions"] = d.transactions();
  j["unanswered"] = d.unanswered();
  Json rcodes = Json::object();
  for (const auto& [rcode, n] : d.by_rcode()) rcodes[rcode] = n;
  j["by_rcode"] = rcodes;
  j["latency_p50_ms"] = ms_or_null(d.latency_ms(0.50));
  j["latency_p95_ms"] = ms_or_null(d.latency_ms(0.95));
  j["latency_samples"] = d.latency_samples();
  Json failures = Json::object();
  for (const auto& [rcode, names] : d.failures()) {
    failures[rcode] = names_json(names.top(SIZE_MAX), "count", false);
  }
  j["failures"] = failures;
  j["unanswered_names"] = names_json(d.unanswered_names().top(SIZE_MAX), "count", false);
  j["slow_threshold_ms"] = DnsStats::kSlowMs;
  j["slow"] = d.slow();
  Json slowest = Json::array();
  for (const SlowDnsAnswer& s : d.slowest()) {
    slowest.push_back({{"time", core::to_rfc3339(s.time)},
                       {"query", s.query},
                       {"qtype", s.qtype},
                       {"rcode", s.rcode},
                       {"client", s.client.to_string()},
                       {"server", s.server.to_string()},
                       {"latency_ms", ms_or_null(s.latency_ms)}});
  }
  j["slowest"] = slowest;
  return j;
}

}  // namespace

void write_conversation_json(JsonOut& j, const Conversation& c) {
  const bool ported = decode::proto_has_ports(c.proto);
  j.begin_object();
  j.key("id").value(c.id);
  j.key("flow").value(describe(c));
  j.key("proto").value(proto_name(c.proto));
  j.key("client");
  endpoint_out(j, c.client, ported, c.client_geo);
  j.key("server");
  endpoint_out(j, c.server, ported, c.server_geo);
  j.key("client_by").value(client_by_name(c.client_by));
  j.key("vlan");
  if (c.vlan != 0) {
    j.value(c.vlan);
  } else {
    j.null();
  }
  j.key("tunnel");
  if (c.tunnel != decode::Tunnel::none) {
    j.begin_object().key("type").value(tunnel_name(c.tunnel)).key("id");
    // A GRE key or VXLAN VNI; GRE without the key bit and IP-in-IP have none. (VXLAN's
    // VNI is always present, even when it is 0.)
    if (c.tunnel_id != 0 || c.tunnel == decode::Tunnel::vxlan) {
      j.value(c.tunnel_id);
    } else {
      j.null();
    }
    j.key("outer_src")
        .value(c.tunnel_src.to_string())
        .key("outer_dst")
        .value(c.tunnel_dst.to_string())
        .end_object();
  } else {
    j.null();
  }
  // TCP's own state; for connectionless flows the state the protocol defines (QUIC_*,
  // DNS_*, ARP_*), as the live connection records show it.
  j.key("state");
  if (c.tcp_state) {
    j.value(flow::tcp_state_name(*c.tcp_state));
  } else if (c.proto == flow::kArpProto && c.arp_state != flow::kNoArp) {
    j.value(flow::arp_state_name(c.arp_state));
  } else if (!c.dpi->state.empty()) {
    j.value(c.dpi->state);
  } else {
    j.null();
  }
  j.key("first_seen").value(core::to_rfc3339(c.first_seen));
  j.key("last_seen").value(core::to_rfc3339(c.last_seen));
  j.key("duration_ms").value(std::round(c.duration_s() * 1e6) / 1e3);
  j.key("end_reason").value(flow::end_reason_name(c.end_reason));
  j.key("score").begin_object().key("value").value(c.score).key("level").value(
      level_name(c.level()));
  j.end_object();
  j.key("reasons").begin_array();
  for (const std::string& r : c.reasons) j.value(r);
  j.end_array();
  j.key("c2s");
  direction_out(j, c.dir[0], c.is_tcp());
  j.key("s2c");
  direction_out(j, c.dir[1], c.is_tcp());
  j.key("rtt");
  if (c.is_tcp()) {
    j.begin_object();
    j.key("handshake_ms").value(round_ms(c.rtt.handshake_ms));
    j.key("p50_ms").value(round_ms(c.rtt.p50_ms));
    j.key("p95_ms").value(round_ms(c.rtt.p95_ms));
    j.key("max_ms").value(round_ms(c.rtt.max_ms));
    j.key("samples").value(c.rtt.samples);
    j.end_object();
  } else {
    j.null();
  }
  dpi_out(j, c);
  j.key("icmp_errors");
  if (c.icmp_errors > 0) {
    j.begin_object()
        .key("count")
        .value(c.icmp_errors)
        .key("version")
        .value(c.icmp_version)
        .key("type")
        .value(c.icmp_type)
        .key("code")
        .value(c.icmp_code)
        .end_object();
  } else {
    j.null();
  }
  j.end_object();
}

std::string conversation_json(const Conversation& c) {
  JsonOut j;
  write_conversation_json(j, c);
  return std::move(j.str());
}

JsonReportWriter::JsonReportWriter(std::ostream& out) : out_(out) {
  out_ << "{\"schema\":\"" << kAnalyzeSchema << "\",\"conversations\":[";
}

void JsonReportWriter::write_conversation(const Conversation& c) {
  buf_.clear();
  write_conversation_json(buf_, c);
  if (!first_) out_.put(',');
  first_ = false;
  out_.put('\n');
  out_.write(buf_.str().data(), static_cast<std::streamsize>(buf_.str().size()));
}

void JsonReportWriter::write_chunk(std::string_view chunk) {
  if (chunk.empty()) return;
  if (!first_) out_.put(',');
  first_ = false;
  out_.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
}

void JsonReportWriter::finish(const Summary& s, const ReportBuilder& report,
                              const decode::AnomalyCounters& anomalies,
                              const monitor::EngineStats& stats, const FlowTableCounts& flows) {
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
  totals["flows_evicted"] = flows.evicted;
  totals["peak_active_flows"] = flows.peak_active;
  totals["max_flows"] = flows.capacity;
  Json dpi_counters = Json::object();
  for (const dpi::DpiCounters::Field& f : dpi::DpiCounters::fields()) {
    dpi_counters[std::string(f.name)] = stats.dpi.*f.member;
  }
  totals["dpi"] = dpi_counters;

  // File names are bytes, not necessarily UTF-8: replace what is not valid rather than
  // throw (RFC 8259 §8.1 requires UTF-8 text).
  const auto dump = [](const Json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  out_ << "\n],\"summary\":" << dump(summary) << ",\n\"problems\":" << dump(problems)
       << ",\n\"anomalies\":" << dump(anomaly_json) << ",\n\"totals\":" << dump(totals)
       << ",\n\"applications\":" << dump(applications_json(report.apps()))
       << ",\n\"dns\":" << dump(dns_json(report.dns())) << "}\n";
  out_.flush();
}

}  // namespace netscope::analyze
