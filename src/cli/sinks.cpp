#include "cli/sinks.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "enrich/blacklist.hpp"
#include "enrich/geoip.hpp"
#include "flow/arp.hpp"
#include "monitor/recorder.hpp"
#include "output/event_db.hpp"
#include "output/ipfix_exporter.hpp"
#include "output/prometheus_server.hpp"

namespace netscope::cli {

// --- Prometheus sink (--prometheus): HTTP and the metrics model run on the exporter's thread.
namespace {
class PrometheusSink : public Sink {
 public:
  explicit PrometheusSink(output::ExporterConfig c) : exporter_(std::move(c)) {}
  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override {
    exporter_.on_snapshot(snap);
  }
  void finish() override { exporter_.stop(); }

 private:
  output::PrometheusExporter exporter_;
};

std::unique_ptr<Sink> make_prometheus_sink(const LiveCliOptions& o) {
  output::ExporterConfig c;
  std::string error;
  if (!output::parse_listen_address(o.prometheus, c.address, c.port, error)) {
    throw std::runtime_error("--prometheus " + o.prometheus + ": " + error);
  }
  c.metrics.top = o.prometheus_top;
  c.metrics.version = NETSCOPE_VERSION;
  return std::make_unique<PrometheusSink>(std::move(c));
}
}  // namespace
// --- end Prometheus sink

// --- IPFIX sink (--ipfix): metering, encoding and sending run on the exporter's thread.
namespace {
class IpfixSink : public Sink {
 public:
  explicit IpfixSink(output::ipfix::ExporterConfig c) : exporter_(std::move(c)) {}
  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override {
    exporter_.submit(snap);
  }
  void finish() override {
    exporter_.finish();
    const output::ipfix::ExporterStats s = exporter_.stats();
    if (s.snapshots_dropped > 0 || s.send_errors > 0) {
      core::Log::warn("--ipfix: " + std::to_string(s.snapshots_dropped) +
                      " snapshots dropped (exporter behind), " + std::to_string(s.send_errors) +
                      " messages not sent");
    }
  }

 private:
  output::ipfix::IpfixExporter exporter_;
};
}  // namespace
// --- end IPFIX sink

// --- Event database sink (--db): SQLite runs on the event log's writer thread.
namespace {
class EventDbSink : public Sink {
 public:
  explicit EventDbSink(output::EventDbOptions c) : db_(std::move(c)) {}
  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override {
    // The same tick twice (run_live hands the sinks the latest snapshot at the end) would
    // log its DNS events twice.
    if (any_ && snap->tick <= last_tick_) return;
    any_ = true;
    last_tick_ = snap->tick;
    if (!db_.enqueue(snap) && !warned_) {
      warned_ = true;
      core::Log::warn("--db " + db_.path() + ": the writer is behind; snapshots are dropped");
    }
  }
  void finish() override {
    db_.finish();
    const output::EventDbStats s = db_.stats();
    core::Log::info(fmt::format(
        "--db {}: {} connections inserted, {} updated, {} DNS queries, {} alerts, {} commits",
        db_.path(), s.connections_inserted, s.connections_updated, s.dns_inserted,
        s.alerts_inserted, s.commits));
    if (s.snapshots_dropped > 0 || s.write_errors > 0) {
      core::Log::warn(
          fmt::format("--db {}: {} snapshots dropped (writer behind), {} batches "
                      "rolled back (write errors)",
                      db_.path(), s.snapshots_dropped, s.write_errors));
    }
  }

 private:
  output::EventDb db_;
  bool any_ = false;
  bool warned_ = false;
  std::uint64_t last_tick_ = 0;
};
}  // namespace
// --- end event database sink

Sinks make_sinks(const LiveCliOptions& o) {
  Sinks sinks;
  // One block per sink, in the order they should see each snapshot.
  if (!o.prometheus.empty()) sinks.push_back(make_prometheus_sink(o));  // Prometheus
  if (!o.db.empty()) {                                                  // event database
    output::EventDbOptions c;
    c.path = o.db;
    c.netscope_version = NETSCOPE_VERSION;
    if (o.db_retention_days > 0) c.retention_days = o.db_retention_days;
    sinks.push_back(std::make_unique<EventDbSink>(std::move(c)));
  }
  if (!o.ipfix.empty()) {  // IPFIX
    output::ipfix::ExporterConfig c;
    c.target = o.ipfix;
    c.meter.active_s = o.ipfix_active_s;
    c.meter.idle_s = o.ipfix_idle_s;
    c.observation_domain = o.ipfix_domain;
    c.block_when_full = !o.read_file.empty();  // a replay waits rather than drops
    sinks.push_back(std::make_unique<IpfixSink>(std::move(c)));
  }
  if (auto rec = make_recorder_sink(o)) sinks.push_back(std::move(rec));  // recording
  return sinks;
}

}  // namespace netscope::cli

namespace netscope::cli {

// --- Threat blacklist: the entry a record matched, or "" (run on every snapshot).
namespace {
const std::string* blacklisted(const enrich::BlacklistRules& r, const monitor::DnsEventRecord& d) {
  if (const std::string* e = r.match_domain(d.query)) return e;
  for (const std::string& a : d.answers) {
    if (const std::string* e = r.match_answer(a)) return e;
  }
  return nullptr;
}

void apply_blacklist(const enrich::BlacklistRules& r, monitor::Snapshot& s) {
  for (monitor::ConnectionRecord& c : s.connections) {
    // An ARP exchange resolves a neighbour on the link; it is not traffic to the address
    // (flow/arp.hpp). The IP connection that follows it carries the alert, once.
    if (c.proto == flow::kArpProto) continue;
    const std::string* e = r.match_address(c.remote_addr);
    if (e == nullptr && !c.dpi->sni.empty()) e = r.match_domain(c.dpi->sni);
    if (e == nullptr && !c.dpi->http_host.empty()) e = r.match_domain(c.dpi->http_host);
    c.alert = e != nullptr ? *e : std::string();
  }
  for (monitor::DnsEventRecord& d : s.dns) {
    const std::string* e = blacklisted(r, d);
    d.alert = e != nullptr ? *e : std::string();
  }
  for (monitor::ProcessRecord& p : s.processes) {
    for (monitor::DnsEventRecord& d : p.dns_history) {
      const std::string* e = blacklisted(r, d);
      d.alert = e != nullptr ? *e : std::string();
    }
  }
}
}  // namespace
// --- end threat blacklist

std::vector<std::function<void(monitor::Snapshot&)>> make_decorators(const LiveCliOptions& o) {
  std::vector<std::function<void(monitor::Snapshot&)>> decorators;
  // One block per decorator, in the order they should run.
  if (!o.blacklists.empty()) {  // threat blacklist (enrich/blacklist.hpp)
    auto list = std::make_shared<enrich::Blacklist>(o.blacklists);
    const enrich::BlacklistLoad load = list->last_load();
    for (const std::string& e : load.errors) core::Log::warn("--blacklist " + e);
    (load.errors.empty() ? core::Log::info : core::Log::warn)(load.summary());
    enrich::set_active_blacklist(list);
    decorators.push_back([list](monitor::Snapshot& s) { apply_blacklist(*list->rules(), s); });
  }  // end threat blacklist
  {  // GeoIP/ASN: country, ASN and organisation of every remote address (enrich/geoip.hpp)
    std::shared_ptr<const enrich::GeoIp> geo = enrich::open_geoip(o.geoip, o.asn_db);
    decorators.push_back([geo](monitor::Snapshot& s) {
      for (monitor::RemoteRecord& r : s.remotes) {
        enrich::GeoRecord g = geo->lookup(r.addr);
        r.country = std::move(g.country);
        r.asn = g.asn;
        r.asn_org = std::move(g.asn_org);
      }
      for (monitor::ConnectionRecord& c : s.connections) {
        // A record the tick builder kept from an earlier snapshot (its connection did not
        // change) was decorated then: the same remote address, the same answer.
        if (!c.country.empty()) continue;
        enrich::GeoRecord g = geo->lookup(c.remote_addr);
        c.country = std::move(g.country);
        c.asn = g.asn;
        c.asn_org = std::move(g.asn_org);
      }
    });
  }  // end GeoIP/ASN
  return decorators;
}

}  // namespace netscope::cli

namespace netscope::cli {

// --- Packet recording (--record-pid, --record-process, --auto-pcap): the recorder sees
// packets through MonitorConfig::packet_tap and decides at every snapshot.
namespace {
class RecorderSink : public Sink {
 public:
  explicit RecorderSink(monitor::RecorderConfig c) : recorder_(std::move(c)) {}
  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override {
    if (!named_) {  // interface ids index the snapshot's interface list
      std::vector<std::string> names;
      for (const auto& i : snap->interfaces) names.push_back(i.name);
      recorder_.set_interfaces(std::move(names));
      named_ = true;
    }
    recorder_.on_tick(*snap);
  }
  void finish() override { recorder_.finish(); }
  monitor::Recorder& recorder() { return recorder_; }

 private:
  monitor::Recorder recorder_;
  bool named_ = false;
};
}  // namespace

std::unique_ptr<Sink> make_recorder_sink(const LiveCliOptions& o) {
  if (o.record_pids.empty() && o.record_process.empty() && o.auto_pcap_mbps <= 0 &&
      o.pcap_dir.empty()) {
    return nullptr;
  }
  monitor::RecorderConfig c;
  c.pids = o.record_pids;
  c.process_regex = o.record_process;
  if (o.auto_pcap_mbps > 0) c.auto_mbps = o.auto_pcap_mbps;
  c.auto_hold_s = o.auto_pcap_hold_s;
  c.dir = o.pcap_dir.empty() ? "." : o.pcap_dir;
  c.max_file_bytes = static_cast<std::uint64_t>(o.pcap_max_mb * 1e6);
  c.max_flows = o.max_flows;
  c.version = NETSCOPE_VERSION;
  return std::make_unique<RecorderSink>(std::move(c));
}

monitor::Recorder* find_recorder(Sinks& sinks) {
  for (auto& s : sinks) {
    if (auto* r = dynamic_cast<RecorderSink*>(s.get())) return &r->recorder();
  }
  return nullptr;
}
// --- end packet recording

}  // namespace netscope::cli
