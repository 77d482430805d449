#include "cli/sinks.hpp"

#include "core/log.hpp"
#include "enrich/geoip.hpp"
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

Sinks make_sinks(const LiveCliOptions& o) {
  Sinks sinks;
  // One block per sink, in the order they should see each snapshot.
  if (!o.prometheus.empty()) sinks.push_back(make_prometheus_sink(o));  // Prometheus
  if (!o.ipfix.empty()) {  // IPFIX
    output::ipfix::ExporterConfig c;
    c.target = o.ipfix;
    c.meter.active_s = o.ipfix_active_s;
    c.meter.idle_s = o.ipfix_idle_s;
    c.observation_domain = o.ipfix_domain;
    sinks.push_back(std::make_unique<IpfixSink>(std::move(c)));
  }
  return sinks;
}

}  // namespace netscope::cli

namespace netscope::cli {

std::vector<std::function<void(monitor::Snapshot&)>> make_decorators(const LiveCliOptions& o) {
  std::vector<std::function<void(monitor::Snapshot&)>> decorators;
  // One block per decorator, in the order they should run.
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
