#include "cli/sinks.hpp"

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

Sinks make_sinks(const LiveCliOptions& o) {
  Sinks sinks;
  // One block per sink, in the order they should see each snapshot.
  if (!o.prometheus.empty()) sinks.push_back(make_prometheus_sink(o));  // Prometheus
  return sinks;
}

}  // namespace netscope::cli

namespace netscope::cli {

std::vector<std::function<void(monitor::Snapshot&)>> make_decorators(const LiveCliOptions& /*o*/) {
  std::vector<std::function<void(monitor::Snapshot&)>> decorators;
  // One block per decorator, in the order they should run.
  return decorators;
}

}  // namespace netscope::cli
