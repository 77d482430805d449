#include "analyze/text_report.hpp"

#include <fmt/format.h>

#include "core/units.hpp"
#include "flow/arp.hpp"

namespace netscope::analyze {

namespace {

struct Palette {
  bool on = false;
  std::string paint(std::string_view code, std::string_view text) const {
    if (!on) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }
  std::string bold(std::string_view t) const { return paint("1", t); }
  std::string dim(std::string_view t) const { return paint("2", t); }
  std::string level(Level l, std::string_view t) const {
    switch (l) {
      case Level::high:
        return paint("1;31", t);
      case Level::medium:
        return paint("33", t);
      case Level::low:
        return paint("36", t);
      case Level::none:
        return paint("32", t);
    }
    return std::string(t);
  }
};

std::string rtt_cell(const Conversation& c) {
  if (!c.is_tcp()) return "-";
  auto ms = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.1f}", *v) : std::string("-");
  };
  if (!c.rtt.p50_ms && !c.rtt.handshake_ms) return "-";
  return fmt::format("{}/{} ms", ms(c.rtt.p50_ms), ms(c.rtt.p95_ms));
}

std::string pair_cell(std::uint64_t a, std::uint64_t b) {
  return core::format_count(a) + "/" + core::format_count(b);
}

std::string bytes_pair(std::uint64_t a, std::uint64_t b) {
  return core::format_bytes(static_cast<double>(a)) + "/" +
         core::format_bytes(static_cast<double>(b));
}

// "US AS15169 Google LLC", "private", "-": one endpoint's country and AS, compactly (the
// organisation cut at 24 characters).
std::string geo_text(const enrich::GeoRecord& g) {
  std::string out = g.country;
  if (g.asn) out += fmt::format("{}AS{}", out.empty() ? "" : " ", *g.asn);
  if (!g.asn_org.empty()) {
    out += (out.empty() ? "" : " ") + g.asn_org.substr(0, 24);
  }
  return out.empty() ? "-" : out;
}

// The server's, and the client's too when it is a global address ("server ← client").
std::string where_cell(const Conversation& c) {
  const bool client_global = !c.client_geo.country.empty() && c.client_geo.country != "private" &&
                             c.client_geo.country != "reserved";
  std::string out = geo_text(c.server_geo);
  if (client_global || c.client_geo.asn) out += " ← " + geo_text(c.client_geo);
  return out;
}

void conversation_table(std::ostream& out, const Palette& p, const std::vector<Conversation>& rows,
                        bool with_reasons) {
  out << p.dim(fmt::format(
      "  {:>4}  {:<6} {:>5}  {:<58} {:>15}  {:>21}  {:>9}  {:>5}  {:>6}  {:>4}  {:<15}  "
      "{}\n",
      "#", "LEVEL", "SCORE", "CONVERSATION (client -> server)", "PACKETS c→s/s→c", "BYTES c→s/s→c",
      "RETX", "OOO", "DUPACK", "ZWIN", "RTT p50/p95", "WHERE (server ← client)"));
  // The first column is the rank, not Conversation::id: ids follow the order flows end in,
  // which --threads changes.
  std::size_t rank = 0;
  for (const Conversation& c : rows) {
    ++rank;
    const flow::TcpHealth& a = c.dir[0].tcp;
    const flow::TcpHealth& b = c.dir[1].tcp;
    const std::string level = std::string(level_name(c.level()));
    out << fmt::format(
        "  {:>4}  {} {:>5}  {:<58} {:>15}  {:>21}  {:>9}  {:>5}  {:>6}  {:>4}  {:<15}  {}\n", rank,
        p.level(c.level(), fmt::format("{:<6}", level)), c.score, describe(c),
        pair_cell(c.dir[0].packets, c.dir[1].packets), bytes_pair(c.dir[0].bytes, c.dir[1].bytes),
        c.is_tcp() ? pair_cell(a.retransmissions, b.retransmissions) : "-",
        c.is_tcp() ? core::format_count(a.out_of_order + b.out_of_order) : "-",
        c.is_tcp() ? core::format_count(a.dup_acks + b.dup_acks) : "-",
        c.is_tcp() ? core::format_count(a.zero_windows + b.zero_windows) : "-", rtt_cell(c),
        where_cell(c));
    if (with_reasons) {
      for (const std::string& r : c.reasons) out << "        " << p.dim("-") << ' ' << r << '\n';
    }
  }
}

std::string names_line(const std::vector<NameCount>& names) {
  std::string out;
  for (const NameCount& n : names) {
    out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", n.name, core::format_count(n.count));
  }
  return out;
}

void applications_section(std::ostream& out, const Palette& p, const AppStats& a,
                          std::size_t top_n) {
  out << '\n' << p.bold("Applications") << '\n';
  const std::vector<NameCount> apps = a.apps();
  if (apps.empty() && a.ndpi_conversations() == 0) {
    out << "  none recognised\n";
    return;
  }
  std::string line;
  for (const NameCount& n : apps) {
    line +=
        fmt::format("{}{} {} ({})", line.empty() ? "" : " · ", n.name, core::format_count(n.count),
                    core::format_bytes(static_cast<double>(n.bytes)));
  }
  if (!line.empty()) out << "  " << line << '\n';
  if (a.ndpi_conversations() > 0) {
    std::string labels;
    for (const NameCount& n : a.top_ndpi_apps(top_n)) {
      labels += fmt::format("{}{} {} ({})", labels.empty() ? "" : " · ", n.name,
                            core::format_count(n.count),
                            core::format_bytes(static_cast<double>(n.bytes)));
    }
    out << "  nDPI: " << labels << '\n';
  }
  if (a.sni_conversations() > 0) {
    out << "  server names (SNI): " << names_line(a.top_sni(top_n)) << '\n';
  }
  if (a.http_conversations() > 0) {
    out << "  HTTP hosts: " << names_line(a.top_http_hosts(top_n)) << '\n';
  }
}

void dns_section(std::ostream& out, const Palette& p, const DnsStats& d, std::size_t top_n) {
  out << '\n' << p.bold("DNS") << '\n';
  if (d.transactions() == 0) {
    out << "  no DNS transactions\n";
    return;
  }
  std::string rcodes;
  for (const auto& [rcode, n] : d.by_rcode()) {
    rcodes += fmt::format(" · {} {}", rcode, core::format_count(n));
  }
  const auto ms = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.1f} ms", *v) : std::string("-");
  };
  out << fmt::format("  {} transactions{} · {} unanswered · latency p50 {} · p95 {}\n",
                     core::format_count(d.transactions()), rcodes,
                     core::format_count(d.unanswered()), ms(d.latency_ms(0.50)),
                     ms(d.latency_ms(0.95)));
  for (const auto& [rcode, names] : d.failures()) {
    out << "  " << p.paint("33", fmt::format("{:<9}", rcode)) << ' ' << names_line(names.top(top_n))
        << '\n';
  }
  if (d.unanswered() > 0) {
    out << "  " << p.paint("33", fmt::format("{:<9}", "no answer")) << ' '
        << names_line(d.unanswered_names().top(top_n)) << '\n';
  }
  if (d.slow() > 0) {
    out << "  " << p.paint("33", fmt::format("{} slow answers", d.slow()))
        << fmt::format(" (≥ {:.0f} ms):\n", DnsStats::kSlowMs);
    std::size_t shown = 0;
    for (const SlowDnsAnswer& s : d.slowest()) {
      if (shown++ == top_n) break;
      out << fmt::format("    {}  {} {}  {}  {:.1f} ms from {}\n", core::to_rfc3339(s.time),
                         s.query, s.qtype, s.rcode, s.latency_ms, s.server.to_string());
    }
  }
}

// Only when the capture has ARP requests or replies: a section per capture otherwise
// says nothing.
void arp_section(std::ostream& out, const Palette& p, const ArpStats& a, std::size_t top_n) {
  if (a.conversations() == 0) return;
  out << '\n' << p.bold("ARP") << '\n';
  out << fmt::format("  {} exchange{} · {} answered (ARP_REPLY) · {} unanswered (ARP_REQUEST)\n",
                     core::format_count(a.conversations()), a.conversations() == 1 ? "" : "s",
                     core::format_count(a.answered()), core::format_count(a.unanswered()));
  std::size_t shown = 0;
  for (const ArpExchange& e : a.earliest()) {
    if (shown++ == top_n) {
      out << "  … " << (a.conversations() - top_n) << " more in --json\n";
      break;
    }
    const std::string state = fmt::format("{:<11}", flow::arp_state_name(e.state));
    out << fmt::format("  {}  {:<15} -> {:<15} {}  {} packet{}{}\n", core::to_rfc3339(e.first_seen),
                       e.client.to_string(), e.server.to_string(),
                       e.state == flow::kArpReply ? state : p.paint("33", state), e.packets,
                       e.packets == 1 ? "" : "s",
                       e.vlan != 0 ? fmt::format(" (VLAN {})", e.vlan) : std::string());
  }
}

}  // namespace

void write_text_report(std::ostream& out, const TextOptions& opt, const Summary& s,
                       const ReportBuilder& report, const decode::AnomalyCounters& anomalies,
                       const monitor::EngineStats& stats, const FlowTableCounts& flows) {
  const Palette p{opt.color};
  std::string links;
  for (const std::string& l : s.link_types) links += (links.empty() ? "" : ", ") + l;
  out << p.bold("netscope analyze") << "  " << s.file << '\n';
  out << fmt::format(
      "  {} ({}) · {} packets · {} · {} · {} average · {} packets/s processed\n", s.format,
      links.empty() ? "no packets" : links, core::format_count(s.packets),
      core::format_bytes(static_cast<double>(s.ip_bytes)), core::format_duration(s.duration_s),
      core::format_bitrate(s.average_rate() * 8),
      core::format_count(static_cast<std::uint64_t>(s.packets_per_second_processed())));
  if (!s.complete()) {
    out << "  " << p.paint("1;31", "reading stopped early") << ": " << s.read_error << '\n';
    out << "  the report covers the " << core::format_count(s.packets)
        << " packets read before byte offset " << s.stopped_at_offset << '\n';
  }
  for (const auto& [lt, count] : stats.unsupported_linktypes) {
    out << "  " << p.paint("33", "skipped") << ' ' << core::format_count(count)
        << " packets on unsupported link type " << capture::linktype_name(lt) << '\n';
  }

  const ReportTotals& t = report.totals();
  std::string protos;
  for (const auto& [name, pt] : t.by_proto) {
    protos += fmt::format("{}{} {}", protos.empty() ? "" : ", ", name, pt.conversations);
  }
  out << '\n'
      << p.bold("Conversations") << ": " << core::format_count(t.conversations)
      << (protos.empty() ? "" : " (" + protos + ")") << " · "
      << p.level(Level::high, fmt::format("HIGH {}", t.by_level[3])) << " · "
      << p.level(Level::medium, fmt::format("MEDIUM {}", t.by_level[2])) << " · "
      << p.level(Level::low, fmt::format("LOW {}", t.by_level[1])) << " · "
      << p.level(Level::none, fmt::format("NONE {}", t.by_level[0])) << '\n';
  out << fmt::format(
      "  TCP: {} retransmissions ({} fast, {} spurious) · {} out-of-order · {} duplicate ACKs "
      "({} runs of 3+) · {} zero-window · {} resets\n",
      t.tcp.retransmissions, t.tcp.fast_retransmissions, t.tcp.spurious_retransmissions,
      t.tcp.out_of_order, t.tcp.dup_acks, t.tcp.dup_ack_events, t.tcp.zero_windows, t.tcp.rsts);

  std::vector<Conversation> severe;
  for (const Conversation& c : report.top_by_severity()) {
    if (c.score > 0) severe.push_back(c);
  }
  out << '\n' << p.bold(fmt::format("Top {} conversations by severity", opt.top_n)) << '\n';
  if (severe.empty()) {
    out << "  " << p.level(Level::none, "no problems found") << " — every conversation scored 0\n";
  } else {
    conversation_table(out, p, severe, true);
  }

  out << '\n' << p.bold(fmt::format("Top {} conversations by bytes", opt.top_n)) << '\n';
  const std::vector<Conversation> big = report.top_by_bytes();
  if (big.empty()) {
    out << "  none\n";
  } else {
    conversation_table(out, p, big, false);
  }

  out << '\n' << p.bold("Connection problems") << '\n';
  const std::vector<Problem> problems = report.problems();
  if (problems.empty()) {
    out << "  none: no unanswered SYNs, refused connections or ICMP errors\n";
  } else {
    std::size_t shown = 0;
    for (const Problem& pr : problems) {
      if (shown++ == 3 * opt.top_n) {
        out << "  … " << (t.problems - shown + 1) << " more in --json\n";
        break;
      }
      out << fmt::format("  {:<20} {}  {}  ({})\n", pr.kind, core::to_rfc3339(pr.time), pr.flow,
                         pr.detail);
    }
  }

  if (opt.dpi) {
    applications_section(out, p, report.apps(), opt.top_n);
    dns_section(out, p, report.dns(), opt.top_n);
  }
  arp_section(out, p, report.arp(), opt.top_n);

  out << '\n' << p.bold("Anomalies") << '\n';
  bool any = false;
  for (std::size_t i = 0; i < decode::kAnomalyCount; ++i) {
    if (anomalies.counts[i] == 0) continue;
    any = true;
    out << fmt::format("  {:<28} {}\n", decode::anomaly_name(static_cast<decode::Anomaly>(i)),
                       core::format_count(anomalies.counts[i]));
  }
  if (stats.time_went_backwards > 0) {
    any = true;
    out << fmt::format("  {:<28} {}\n", "time_went_backwards", stats.time_went_backwards);
  }
  if (flows.evicted > 0) {
    any = true;
    out << fmt::format("  {:<28} {} (raise --max-flows above {})\n", "flows_evicted", flows.evicted,
                       flows.capacity);
  }
  if (!any) out << "  none\n";
}

}  // namespace netscope::analyze
