// The cost of a Prometheus scrape (issue: "a scrape with 10,000 series costs under 20 ms
// of netscope CPU"). The exporter runs as in netscope (its own thread, a real loopback
// socket); the client here is the scraper. A fresh snapshot lands before every scrape, so
// each scrape renders the whole exposition (the worst case: scrapes more frequent than
// ticks reuse the rendering). Reported per scrape, as manual time: the exporter thread's
// CPU (CLOCK of pthread_getcpuclockid) from the request to the last byte of the response,
// which is all the CPU netscope spends on a scrape. Also: the model update that each
// snapshot costs the same thread, and the bare render.
//
// 10,000 series: 2,500 process groups (--prometheus-top 2500) x {bytes, packets} x
// {up, down}, plus the fixed families.

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "output/prometheus_metrics.hpp"
#include "output/prometheus_server.hpp"

using namespace netscope;

namespace {

constexpr std::size_t kGroups = 2500;

monitor::Snapshot make_snapshot(std::uint64_t tick) {
  monitor::Snapshot s;
  s.time = core::Timestamp::from_sec_usec(1'700'000'000 + static_cast<std::int64_t>(tick), 0);
  s.tick = tick;
  s.processes.reserve(kGroups);
  for (std::size_t i = 0; i < kGroups; ++i) {
    monitor::ProcessRecord p;
    p.pid = static_cast<pid_t>(1000 + i);
    p.start_time = core::Timestamp{static_cast<std::int64_t>(i)};
    p.name = "worker-" + std::to_string(i);
    p.user = i % 3 == 0 ? "root" : "www-data";
    p.container = i % 5 == 0 ? "docker:4f1b2c3d4e5f" : "";
    p.bytes_up = (tick + 1) * (1000 + i);
    p.bytes_down = (tick + 1) * (50'000 + 7 * i);
    p.packets_up = (tick + 1) * (10 + i % 17);
    p.packets_down = (tick + 1) * (40 + i % 23);
    p.connections = 1;
    s.processes.push_back(std::move(p));
  }
  monitor::InterfaceRecord eth0;
  eth0.name = "eth0";
  s.interfaces.push_back(eth0);
  return s;
}

std::int64_t series_in(const std::string& text) {
  std::int64_t n = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    if (text[at] != '#') ++n;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return n;
}

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("connect");
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One keep-alive GET /metrics; the body.
  std::string scrape() {
    static const std::string req = "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      throw std::runtime_error("send");
    }
    buf_.clear();
    std::size_t need = std::string::npos;
    std::size_t body_at = 0;
    char chunk[1 << 16];
    while (need == std::string::npos || buf_.size() < need) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) throw std::runtime_error("recv");
      buf_.append(chunk, static_cast<std::size_t>(n));
      if (need == std::string::npos) {
        const std::size_t end = buf_.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        const std::size_t cl = buf_.find("Content-Length: ");
        body_at = end + 4;
        need = body_at + std::stoul(buf_.substr(cl + 16));
      }
    }
    return buf_.substr(body_at);
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

void wait_applied(const output::PrometheusExporter& e, std::uint64_t n) {
  while (e.snapshots_applied() < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void BM_ScrapeOverHttp(benchmark::State& state) {
  output::ExporterConfig cfg;
  cfg.port = 0;
  cfg.drop_capabilities = false;
  cfg.metrics.top = kGroups;
  cfg.metrics.version = "bench";
  output::PrometheusExporter exporter(cfg);
  Client client(exporter.port());
  std::uint64_t tick = 0;
  exporter.on_snapshot(std::make_shared<const monitor::Snapshot>(make_snapshot(tick++)));
  wait_applied(exporter, tick);
  std::int64_t series = series_in(client.scrape());
  std::size_t bytes = 0;
  double update_cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto snap = std::make_shared<const monitor::Snapshot>(make_snapshot(tick++));
    const std::int64_t before_update = exporter.thread_cpu_ns();
    exporter.on_snapshot(snap);
    wait_applied(exporter, tick);
    const std::int64_t before = exporter.thread_cpu_ns();
    update_cpu += static_cast<double>(before - before_update) / 1e9;
    state.ResumeTiming();
    const std::string body = client.scrape();
    const std::int64_t after = exporter.thread_cpu_ns();
    state.SetIterationTime(static_cast<double>(after - before) / 1e9);
    bytes += body.size();
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["bytes_per_scrape"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
  state.counters["update_cpu_ms"] = 1e3 * update_cpu / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ScrapeOverHttp)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_Render(benchmark::State& state) {
  output::PrometheusMetrics m(output::PrometheusOptions{.top = kGroups, .version = "bench"});
  m.update(make_snapshot(0));
  m.update(make_snapshot(1));
  std::string out;
  for (auto _ : state) {
    out.clear();
    m.render(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["series"] = static_cast<double>(series_in(out));
}
BENCHMARK(BM_Render)->Unit(benchmark::kMillisecond);

void BM_Update(benchmark::State& state) {
  output::PrometheusMetrics m(output::PrometheusOptions{.top = kGroups, .version = "bench"});
  std::uint64_t tick = 0;
  std::vector<monitor::Snapshot> snaps;
  for (int i = 0; i < 8; ++i) snaps.push_back(make_snapshot(static_cast<std::uint64_t>(i)));
  for (auto _ : state) {
    // Cumulative values must grow: replay the prepared ticks with a moving offset.
    state.PauseTiming();
    monitor::Snapshot s = snaps[tick % snaps.size()];
    for (auto& p : s.processes) p.bytes_down += tick * 1000;
    s.time.ns += static_cast<std::int64_t>(tick) * 1'000'000'000;
    ++tick;
    state.ResumeTiming();
    m.update(s);
  }
}
BENCHMARK(BM_Update)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
