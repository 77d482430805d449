// IPFIX export cost: one minute of a busy host's snapshots through the real exporter
// (FlowMeter, MessageEncoder, UDP send to a local socket on the exporter's thread).
//
// The workload: 100,000 connections per minute (1,667 new ones per 1 s tick), each
// lasting 3 s with traffic both ways, closed by FIN; snapshots list, as the tick builder
// does, every open connection and those closed within the 5 s window, so each of the 60
// snapshots holds ~13,000 connections and each tick ends ~1,667 flows (two records each).
// The snapshots are built beforehand: the tick builder makes them whether or not IPFIX
// is on. The timed part is submit() of 60 snapshots plus finish(), with the process's
// CPU time measured; `core_pct` is that CPU time over the 60 s of traffic it represents.

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "monitor/snapshot.hpp"
#include "output/ipfix_exporter.hpp"

namespace {

using netscope::core::IpAddress;
using netscope::core::Timestamp;
using netscope::monitor::ConnectionRecord;
using netscope::monitor::Snapshot;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'800'000'000;  // Unix seconds of the first tick

std::vector<std::shared_ptr<const Snapshot>> minute(int per_minute, int life_s, int window_s) {
  const int per_tick = per_minute / 60;
  std::vector<std::shared_ptr<const Snapshot>> out;
  for (int t = 1; t <= 60; ++t) {
    auto snap = std::make_shared<Snapshot>();
    snap->tick = static_cast<std::uint64_t>(t);
    snap->time = Timestamp{(kT0 + t) * kSec};
    // Connections born at ticks t-life-window .. t-1 are listed (open, or closed within
    // the window); those born before the first tick are left out (a cold start).
    for (int born = std::max(0, t - life_s - window_s); born < t; ++born) {
      const int age = t - born;
      for (int i = 0; i < per_tick; ++i) {
        const int id = born * per_tick + i;
        ConnectionRecord c;
        c.proto = 6;
        c.proto_name = "tcp";
        c.local_addr = IpAddress::from_v4(0x0A000001);
        c.local_port = static_cast<std::uint16_t>(10'000 + id % 50'000);
        c.remote_addr = IpAddress::from_v4(0xC6336400u + static_cast<std::uint32_t>(id % 200));
        c.remote_port = 443;
        c.state = age >= life_s ? "TIME_WAIT" : "ESTABLISHED";
        c.pid = 1000 + id % 50;
        c.process = "worker";
        c.dpi.edit().app = "TLS";
        c.dpi.edit().sni = "api" + std::to_string(id % 200) + ".example.net";
        const int active = std::min(age, life_s);
        c.packets_up = static_cast<std::uint64_t>(10 * active);
        c.bytes_up = c.packets_up * 120;
        c.packets_down = static_cast<std::uint64_t>(20 * active);
        c.bytes_down = c.packets_down * 1400;
        c.first_seen = Timestamp{(kT0 + born) * kSec + 1000 * i};
        c.last_seen = Timestamp{(kT0 + born + active) * kSec};
        c.closed = age >= life_s;
        c.close_reason = c.closed ? "closed" : "";
        snap->connections.push_back(std::move(c));
      }
    }
    out.push_back(std::move(snap));
  }
  return out;
}

// A local UDP socket that receives (and never reads) the export.
struct Collector {
  int fd = -1;
  std::uint16_t port = 0;
  Collector() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Collector() { close(fd); }
};

void BM_IpfixExport_minute(benchmark::State& state) {
  const int per_minute = static_cast<int>(state.range(0));
  const auto snaps = minute(per_minute, 3, 5);
  std::size_t listed = 0;
  for (const auto& s : snaps) listed += s->connections.size();
  Collector collector;
  netscope::output::ipfix::ExporterStats stats;
  for (auto _ : state) {
    netscope::output::ipfix::ExporterConfig cfg;
    cfg.target = "127.0.0.1:" + std::to_string(collector.port);
    cfg.queue_capacity = 128;
    netscope::output::ipfix::IpfixExporter exporter(cfg);
    for (const auto& s : snaps) exporter.submit(s);
    exporter.finish();
    stats = exporter.stats();
  }
  state.counters["records"] = static_cast<double>(stats.records);
  state.counters["messages"] = static_cast<double>(stats.messages);
  state.counters["dropped"] = static_cast<double>(stats.snapshots_dropped);
  state.counters["listed_per_tick"] = static_cast<double>(listed) / 60.0;
}
BENCHMARK(BM_IpfixExport_minute)
    ->Arg(100'000)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
