#include "output/json_records.hpp"

#include <cmath>
#include <optional>
#include <string_view>

#include "decode/packet_view.hpp"

namespace netscope::output {

namespace {

Json text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

template <typename T>
Json optional_or_null(const std::optional<T>& v) {
  if (!v) return nullptr;
  return *v;
}

// Rates and durations to a thousandth (a millibyte per second, a microsecond of a
// millisecond): more digits are noise from the averaging, not information.
Json thousandths(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1000.0) / 1000.0;
}

Json thousandths(const std::optional<double>& v) {
  if (!v) return nullptr;
  return thousandths(*v);
}

Json address_or_null(const core::IpAddress& a) {
  if (a.is_unspecified()) return nullptr;
  return a.to_string();
}

}  // namespace

Json tcp_health_json(const monitor::TcpHealthRecord& h) {
  Json j = Json::object();
  j["retransmissions"] = h.retransmissions;
  j["fast_retransmissions"] = h.fast_retransmissions;
  j["spurious_retransmissions"] = h.spurious_retransmissions;
  j["out_of_order"] = h.out_of_order;
  j["dup_acks"] = h.dup_acks;
  j["dup_ack_events"] = h.dup_ack_events;
  j["zero_windows"] = h.zero_windows;
  j["rsts"] = h.rsts;
  return j;
}

Json connection_json(const monitor::ConnectionRecord& c, core::Timestamp now) {
  const bool ported = decode::proto_has_ports(c.proto);
  const bool tcp = c.proto == decode::ip_proto::tcp;
  Json j = Json::object();
  j["proto"] = c.proto_name.empty() ? Json(c.proto) : Json(c.proto_name);
  j["local_addr"] = c.local_addr.to_string();
  j["local_port"] = ported ? Json(c.local_port) : Json(nullptr);
  j["remote_addr"] = c.remote_addr.to_string();
  j["remote_port"] = ported ? Json(c.remote_port) : Json(nullptr);
  j["remote_host"] = text_or_null(c.remote_host);
  j["country"] = text_or_null(c.country);  // GeoIP/ASN of the remote address
  j["asn"] = optional_or_null(c.asn);
  j["asn_org"] = text_or_null(c.asn_org);
  j["service"] = text_or_null(c.service);
  j["interface"] = text_or_null(c.interface);
  j["state"] = text_or_null(c.state);
  j["kernel_state"] = text_or_null(c.kernel_state);
  j["pid"] = optional_or_null(c.pid);
  j["process"] = text_or_null(c.process);
  j["attribution"] = text_or_null(c.attribution);
  j["bytes_up"] = c.bytes_up;
  j["bytes_down"] = c.bytes_down;
  j["packets_up"] = c.packets_up;
  j["packets_down"] = c.packets_down;
  j["payload_bytes_up"] = c.payload_bytes_up;
  j["payload_bytes_down"] = c.payload_bytes_down;
  j["rate_up"] = thousandths(c.rate_up);
  j["rate_down"] = thousandths(c.rate_down);
  j["rtt_ms"] = thousandths(c.rtt_ms);
  j["first_seen"] = core::to_rfc3339(c.first_seen);
  j["last_seen"] = core::to_rfc3339(c.last_seen);
  j["closed"] = c.closed;
  j["close_reason"] = text_or_null(c.close_reason);
  j["timeout_s"] = thousandths(c.timeout_s);
  // Unknown (null) without a timeout: an ended connection's record has none.
  j["staleness"] = c.timeout_s > 0 ? thousandths(monitor::staleness(c, now)) : Json(nullptr);
  j["health_up"] = tcp ? tcp_health_json(c.health_up) : Json(nullptr);
  j["health_down"] = tcp ? tcp_health_json(c.health_down) : Json(nullptr);
  // DPI fields (Conventions order); null where inspection did not learn them.
  j["app"] = text_or_null(c.dpi->app);
  j["sni"] = text_or_null(c.dpi->sni);
  j["alpn"] = text_or_null(c.dpi->alpn);
  j["tls_version"] = text_or_null(c.dpi->tls_version);
  j["ja3"] = text_or_null(c.dpi->ja3);
  j["ja4"] = text_or_null(c.dpi->ja4);
  j["http_host"] = text_or_null(c.dpi->http_host);
  j["http_method"] = text_or_null(c.dpi->http_method);
  j["http_path"] = text_or_null(c.dpi->http_path);
  j["http_status"] = optional_or_null(c.dpi->http_status);
  j["ssh_client"] = text_or_null(c.dpi->ssh_client);
  j["ssh_server"] = text_or_null(c.dpi->ssh_server);
  j["quic_version"] = text_or_null(c.dpi->quic_version);
  // More of the handshake and request (as in `analyze --json`), after the Conventions' keys.
  j["tls_offered"] = text_or_null(c.dpi->tls_offered);
  j["tls_cipher"] = text_or_null(c.dpi->tls_cipher);
  j["http_user_agent"] = text_or_null(c.dpi->http_user_agent);
  j["ndpi_app"] = text_or_null(c.dpi->ndpi_app);  // build option NETSCOPE_NDPI
  j["ndpi_category"] = text_or_null(c.dpi->ndpi_category);
  j["state_heuristic"] = c.state_heuristic;
  j["alert"] = text_or_null(c.alert);  // the --blacklist entry it matched
  return j;
}

Json process_json(const monitor::ProcessRecord& p) {
  Json j = Json::object();
  j["pid"] = optional_or_null(p.pid);
  j["ppid"] = optional_or_null(p.ppid);
  j["name"] = text_or_null(p.name);
  j["cmdline"] = text_or_null(p.cmdline);
  j["exe"] = text_or_null(p.exe);
  j["uid"] = optional_or_null(p.uid);
  j["user"] = text_or_null(p.user);
  j["container"] = text_or_null(p.container);
  j["container_runtime"] = text_or_null(p.container_runtime);
  j["pod_uid"] = text_or_null(p.pod_uid);
  j["unit"] = text_or_null(p.unit);
  j["start_time"] = p.start_time ? Json(core::to_rfc3339(*p.start_time)) : Json(nullptr);
  j["exited"] = p.exited;
  j["unknown_reason"] = text_or_null(p.unknown_reason);
  j["bytes_up"] = p.bytes_up;
  j["bytes_down"] = p.bytes_down;
  j["packets_up"] = p.packets_up;
  j["packets_down"] = p.packets_down;
  j["rate_up"] = thousandths(p.rate_up);
  j["rate_down"] = thousandths(p.rate_down);
  j["connections"] = p.connections;
  Json history = Json::array();
  for (const monitor::RatePoint& point : p.history) {
    history.push_back(Json::array({thousandths(point.up), thousandths(point.down)}));
  }
  j["history"] = std::move(history);
  Json dns = Json::array();
  for (const monitor::DnsEventRecord& d : p.dns_history) dns.push_back(dns_json(d));
  j["dns_history"] = std::move(dns);
  return j;
}

Json remote_json(const monitor::RemoteRecord& r) {
  Json j = Json::object();
  j["addr"] = r.addr.to_string();
  j["host"] = text_or_null(r.host);
  j["country"] = text_or_null(r.country);
  j["asn"] = optional_or_null(r.asn);
  j["asn_org"] = text_or_null(r.asn_org);
  j["bytes_up"] = r.bytes_up;
  j["bytes_down"] = r.bytes_down;
  j["rate_up"] = thousandths(r.rate_up);
  j["rate_down"] = thousandths(r.rate_down);
  j["connections"] = r.connections;
  return j;
}

Json interface_json(const monitor::InterfaceRecord& i) {
  Json j = Json::object();
  j["name"] = i.name;
  j["bytes_up"] = i.bytes_up;
  j["bytes_down"] = i.bytes_down;
  j["packets"] = i.packets;
  j["drops"] = i.drops;
  j["up"] = i.up;
  j["error"] = text_or_null(i.error);
  return j;
}

Json dns_json(const monitor::DnsEventRecord& d) {
  Json j = Json::object();
  j["time"] = core::to_rfc3339(d.time);
  j["pid"] = optional_or_null(d.pid);
  j["process"] = text_or_null(d.process);
  j["server"] = address_or_null(d.server);
  j["query"] = text_or_null(d.query);
  j["qtype"] = text_or_null(d.qtype);
  j["rcode"] = optional_or_null(d.rcode);
  j["rcode_code"] = optional_or_null(d.rcode_code);
  // No response seen: the answers are unknown, which is not the same as none.
  if (d.rcode_code || d.rcode) {
    j["answers"] = d.answers;
  } else {
    j["answers"] = nullptr;
  }
  j["latency_ms"] = thousandths(d.latency_ms);
  j["alert"] = text_or_null(d.alert);  // the --blacklist entry it matched
  return j;
}

Json totals_json(const monitor::Totals& t) {
  Json j = Json::object();
  j["bytes_up"] = t.bytes_up;
  j["bytes_down"] = t.bytes_down;
  j["packets"] = t.packets;
  j["rate_up"] = thousandths(t.rate_up);
  j["rate_down"] = thousandths(t.rate_down);
  j["packets_per_s"] = thousandths(t.packets_per_s);
  j["flows"] = t.flows;
  j["flows_evicted"] = t.flows_evicted;
  j["kernel_drops"] = t.kernel_drops;
  j["attribution_overflow"] = t.attribution_overflow;
  j["closed_dropped"] = t.closed_dropped;
  j["dns_events"] = t.dns_events;
  j["dns_dropped"] = t.dns_dropped;
  return j;
}

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// The layout is nlohmann's serializer's (serializer.hpp): pretty, an object is "{\n", its
// members at one more level of indentation separated by ",\n", then "\n}" at the object's
// own level; arrays alike with brackets; empty ones are "{}" and "[]". Compact, the same
// without newlines or indentation, and ":" with no space after it.
JsonObjectWriter::JsonObjectWriter(std::string& text, int indent, std::ostream* sink)
    : text_(text), indent_(indent), sink_(sink) {}

void JsonObjectWriter::spaces(int depth) {
  if (indent_ >= 0) text_.append(static_cast<std::size_t>(indent_ * depth), ' ');
}

void JsonObjectWriter::open_member(std::string_view key) {
  const bool pretty = indent_ >= 0;
  text_ += members_++ == 0 ? (pretty ? "{\n" : "{") : (pretty ? ",\n" : ",");
  spaces(1);
  text_ += dump_json(Json(key));
  text_ += pretty ? ": " : ":";
}

void JsonObjectWriter::put(const Json& value, int depth) {
  const std::string dumped = dump_json(value, indent_);
  if (indent_ <= 0 || dumped.find('\n') == std::string::npos) {
    text_ += dumped;
    return;
  }
  // A newline cannot occur inside a dumped string (it is escaped), only between tokens.
  for (const char ch : dumped) {
    text_ += ch;
    if (ch == '\n') spaces(depth);
  }
}

void JsonObjectWriter::member(std::string_view key, const Json& value) {
  open_member(key);
  put(value, 1);
}

void JsonObjectWriter::begin_array(std::string_view key) {
  open_member(key);
  elements_ = 0;
}

void JsonObjectWriter::element(const Json& value) {
  const bool pretty = indent_ >= 0;
  text_ += elements_++ == 0 ? (pretty ? "[\n" : "[") : (pretty ? ",\n" : ",");
  spaces(2);
  put(value, 2);
  spill(false);
}

void JsonObjectWriter::end_array() {
  if (elements_ == 0) {
    text_ += "[]";
    return;
  }
  if (indent_ >= 0) text_ += '\n';
  spaces(1);
  text_ += ']';
}

void JsonObjectWriter::end(std::string_view trailer) {
  if (members_ == 0) {
    text_ += "{}";
  } else {
    if (indent_ >= 0) text_ += '\n';
    text_ += '}';
  }
  text_ += trailer;
  spill(true);
}

void JsonObjectWriter::spill(bool all) {
  if (sink_ == nullptr || (!all && text_.size() < kChunk)) return;
  sink_->write(text_.data(), static_cast<std::streamsize>(text_.size()));
  text_.clear();
}

}  // namespace netscope::output
