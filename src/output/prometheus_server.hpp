#pragma once
// PrometheusExporter: the `--prometheus [ADDR:]PORT` endpoint. It serves /metrics (the
// text exposition format of PrometheusMetrics) and /healthz over HTTP/1.1 from its own
// thread, which also folds the snapshots into the metrics model.
//
// The monitor's tick thread only appends the shared snapshot to a short queue under a
// mutex and wakes the exporter through an eventfd (on_snapshot never blocks; when the
// queue is full the snapshot is dropped and counted, and the counters catch up on the
// next one because they are built from cumulative values).
//
// The exporter thread runs one epoll loop over non-blocking sockets, and holds nothing
// that a client controls without a bound:
//   - at most `max_connections` connections; a new one beyond that replaces the
//     connection that has been quiet longest (idle keep-alive, or a request still
//     arriving), and when every slot is busy sending a response it gets 503;
//   - a request line and header block of at most `limits.max_request_bytes` (else 431,
//     or 414 for the request line alone), at most `limits.max_header_fields` fields;
//   - a request must arrive whole within `request_timeout` of its first byte (or of the
//     connection) (else 408 and close); a keep-alive connection may idle `idle_timeout`;
//     a response that the client does not read within `write_timeout` is abandoned;
//   - a request with a body gets 413 (the endpoint takes none); a method other than GET
//     and HEAD gets 405 (501 when it is not an HTTP method at all); an unknown path 404.
// After an error response the connection is half-closed and drained for a moment before
// it is closed, so that the client reads the status instead of a reset.
//
// The thread drops every capability it inherited as it starts: serving HTTP needs none.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "monitor/live_monitor.hpp"
#include "output/prometheus_http.hpp"
#include "output/prometheus_metrics.hpp"

namespace netscope::output {

struct ExporterConfig {
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6
  std::uint16_t port = 9108;          // 0: any free port (see port())
  PrometheusOptions metrics;
  std::size_t max_connections = 64;
  std::size_t max_queued_snapshots = 8;
  HttpLimits limits;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{10000};
  bool drop_capabilities = true;
};

// Parses `--prometheus [ADDR:]PORT`: "9108" (127.0.0.1), "0.0.0.0:9108", "[::1]:9108",
// "localhost:9108". False with `error` set (without the option's name) when malformed.
bool parse_listen_address(std::string_view text, std::string& address, std::uint16_t& port,
                          std::string& error);

class PrometheusExporter : public monitor::SnapshotListener {
 public:
  // Binds and listens, then starts the exporter thread. Throws std::runtime_error with a
  // message naming the address when the socket cannot be bound.
  explicit PrometheusExporter(ExporterConfig config);
  ~PrometheusExporter() override;
  PrometheusExporter(const PrometheusExporter&) = delete;
  PrometheusExporter& operator=(const PrometheusExporter&) = delete;

  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override;
  // Stops the thread and closes every socket. Idempotent.
  void stop();

  std::uint16_t port() const;  // the bound port
  // CPU time the exporter thread has used so far, in nanoseconds.
  std::int64_t thread_cpu_ns() const;
  // Snapshots the exporter thread has folded into the model.
  std::uint64_t snapshots_applied() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::output
