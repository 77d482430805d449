// event_db_bench: the SQLite event log (output/event_db) under a steady load of connection
// and DNS events, paced in real time as the live engine would hand them over.
//
//   event_db_bench [--seconds N] [--conn-rate R] [--dns-rate R] [--tick-ms MS] [--window S]
//                  [--steady N] [--unpaced] [--db PATH]
//                  [--lazy] [--until-signal] [--ready-file PATH]
//
// Every tick carries a snapshot like the engine's: the connections opened during the tick
// (open), those opened the tick before (now closed, as short-lived connections are), and
// the closed ones still inside the rate window; plus the tick's DNS transactions and 200
// processes. So each connection is two events (its insert and its close update) and the
// writer sees (window + 1) x rate connection records per second to compare.
//
// It reports whether anything was lost (rows in the database, read back with SQLite,
// against what was offered; snapshots dropped), the latency from handing a snapshot over
// to its commit (p50, p99, max) and, with --unpaced, the highest rate the writer sustains
// (each snapshot is handed over as soon as the previous one is committed).
//
// --steady N adds N long-lived open connections to every snapshot (their counters grow,
// nothing about them needs writing until the end): the cost of comparing a connection
// that did not change, which is what a large live table costs the writer every tick.
//
// As a background load for bench/event_db_packet_path.sh: --lazy builds each snapshot
// just before it is due instead of all of them first (the producer thread's CPU time is
// measured and left out of the writer's); --until-signal runs until SIGTERM or SIGINT
// (at most --seconds) and then checks what was offered so far; --ready-file PATH is
// created once the writer is running.

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "output/event_db.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using netscope::core::IpAddress;
using netscope::core::Timestamp;
namespace monitor = netscope::monitor;

struct Options {
  double seconds = 10;
  std::uint64_t conn_rate = 10'000;
  std::uint64_t dns_rate = 5'000;
  int tick_ms = 1000;
  double window_s = 5;
  std::uint64_t steady = 0;
  bool unpaced = false;
  bool lazy = false;
  bool until_signal = false;
  std::string db;
  std::string ready_file;
};

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::int64_t count(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

monitor::ConnectionRecord connection(std::uint64_t i, Timestamp t) {
  monitor::ConnectionRecord c;
  c.proto = 6;
  c.proto_name = "tcp";
  c.local_addr = IpAddress::from_v4(0x0a000001u);
  c.local_port = static_cast<std::uint16_t>(1024 + i % 60000);
  c.remote_addr = IpAddress::from_v4(0xcb007100u + static_cast<std::uint32_t>(i % 250));
  c.remote_port = 443;
  c.state = "ESTABLISHED";
  c.pid = static_cast<pid_t>(1000 + i % 200);
  c.process = "worker" + std::to_string(i % 200);
  c.attribution = "exact";
  c.dpi.edit().app = "TLS";
  c.dpi.edit().sni = "host" + std::to_string(i % 5000) + ".example.com";
  c.bytes_up = 800 + i % 1000;
  c.bytes_down = 20'000 + i % 50'000;
  c.packets_up = 10;
  c.packets_down = 20;
  c.first_seen = t;
  c.last_seen = t;
  return c;
}

std::shared_ptr<const monitor::Snapshot> make_tick(const Options& o, std::uint64_t tick,
                                                   Timestamp t) {
  auto s = std::make_shared<monitor::Snapshot>();
  s->tick = tick;
  s->time = t;
  const std::uint64_t per_tick = o.conn_rate * static_cast<std::uint64_t>(o.tick_ms) / 1000;
  const std::uint64_t dns_per_tick = o.dns_rate * static_cast<std::uint64_t>(o.tick_ms) / 1000;
  const std::uint64_t window_ticks = static_cast<std::uint64_t>(o.window_s * 1000 / o.tick_ms) + 1;
  const std::int64_t tick_ns = std::int64_t{o.tick_ms} * 1'000'000;
  // Connections opened in ticks [tick - window_ticks, tick]; all but this tick's are closed.
  const std::uint64_t from = tick > window_ticks ? tick - window_ticks : 0;
  s->connections.reserve((tick - from + 1) * per_tick + o.steady);
  for (std::uint64_t k = from; k <= tick; ++k) {
    const Timestamp opened{t.ns - static_cast<std::int64_t>(tick - k) * tick_ns};
    for (std::uint64_t j = 0; j < per_tick; ++j) {
      monitor::ConnectionRecord c = connection(k * per_tick + j, opened);
      if (k < tick) {
        c.closed = true;
        c.close_reason = "closed";
        c.last_seen = Timestamp{opened.ns + tick_ns / 2};
        c.bytes_down += 1000;
      }
      s->connections.push_back(std::move(c));
    }
  }
  // Long-lived connections (--steady): opened before the run, open throughout.
  for (std::uint64_t j = 0; j < o.steady; ++j) {
    monitor::ConnectionRecord c =
        connection(j, Timestamp{t.ns - static_cast<std::int64_t>(tick + 1) * tick_ns});
    c.local_addr = IpAddress::from_v4(0x0a000002u);  // apart from the short-lived ones
    c.bytes_up += tick * 100;
    c.bytes_down += tick * 1000;
    c.packets_up += tick;
    c.packets_down += tick * 2;
    c.last_seen = t;
    s->connections.push_back(std::move(c));
  }
  for (std::uint64_t j = 0; j < dns_per_tick; ++j) {
    monitor::DnsEventRecord d;
    d.time =
        Timestamp{t.ns - tick_ns +
                  static_cast<std::int64_t>(j) * tick_ns / static_cast<std::int64_t>(dns_per_tick)};
    d.pid = static_cast<pid_t>(1000 + j % 200);
    d.process = "worker" + std::to_string(j % 200);
    d.server = IpAddress::from_v4(0x0a000035u);
    d.query = "q" + std::to_string(tick * dns_per_tick + j) + ".example.com";
    d.qtype = "A";
    d.rcode = j % 10 == 0 ? "NXDOMAIN" : "NOERROR";
    d.rcode_code = j % 10 == 0 ? 3 : 0;
    if (j % 10 != 0) d.answers = {"203.0.113." + std::to_string(j % 250)};
    d.latency_ms = 1.25;
    s->dns.push_back(std::move(d));
  }
  for (int p = 0; p < 200; ++p) {
    monitor::ProcessRecord pr;
    pr.pid = 1000 + p;
    pr.name = "worker" + std::to_string(p);
    pr.cmdline = "/usr/bin/worker --id " + std::to_string(p);
    pr.user = "svc";
    s->processes.push_back(std::move(pr));
  }
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--unpaced") {
      o.unpaced = true;
    } else if (a == "--lazy") {
      o.lazy = true;
    } else if (a == "--until-signal") {
      o.until_signal = true;
    } else if (a == "--ready-file" && (v = next())) {
      o.ready_file = v;
    } else if (a == "--steady" && (v = next())) {
      o.steady = std::strtoull(v, nullptr, 10);
    } else if (a == "--seconds" && (v = next())) {
      o.seconds = std::atof(v);
    } else if (a == "--conn-rate" && (v = next())) {
      o.conn_rate = std::strtoull(v, nullptr, 10);
    } else if (a == "--dns-rate" && (v = next())) {
      o.dns_rate = std::strtoull(v, nullptr, 10);
    } else if (a == "--tick-ms" && (v = next())) {
      o.tick_ms = std::atoi(v);
    } else if (a == "--window" && (v = next())) {
      o.window_s = std::atof(v);
    } else if (a == "--db" && (v = next())) {
      o.db = v;
    } else {
      std::fprintf(stderr, "event_db_bench: bad option %s\n", a.c_str());
      return false;
    }
  }
  return o.seconds > 0 && o.tick_ms > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  std::string dir;
  if (o.db.empty()) {
    char tmpl[] = "/tmp/event_db_bench_XXXXXX";
    dir = ::mkdtemp(tmpl);
    o.db = dir + "/events.db";
  }
  std::uint64_t ticks = static_cast<std::uint64_t>(o.seconds * 1000 / o.tick_ms);
  const auto base = Timestamp{1'767'225'600LL * 1'000'000'000};
  const auto time_of = [&](std::uint64_t k) {
    return Timestamp{base.ns + static_cast<std::int64_t>(k) * o.tick_ms * 1'000'000};
  };
  if (o.until_signal) {
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
  }

  // Build the snapshots first, so that building them does not count against the writer
  // (--lazy: each one just before it is due, on the producer thread, whose CPU is left out).
  std::vector<std::shared_ptr<const monitor::Snapshot>> snaps;
  if (!o.lazy) {
    for (std::uint64_t k = 0; k < ticks; ++k) snaps.push_back(make_tick(o, k, time_of(k)));
  }

  netscope::output::EventDbOptions eo;
  eo.path = o.db;
  eo.netscope_version = "bench";
  std::vector<double> latency_ms;
  double producer_cpu = 0;
  const auto started = Clock::now();
  const std::clock_t cpu_started = std::clock();
  {
    netscope::output::EventDb db(eo);
    if (!o.ready_file.empty()) {
      if (std::FILE* f = std::fopen(o.ready_file.c_str(), "w")) std::fclose(f);
    }
    std::uint64_t handed_over = 0;
    for (std::uint64_t k = 0; k < ticks && g_stop == 0; ++k) {
      std::shared_ptr<const monitor::Snapshot> snap;
      if (o.lazy) {
        const double before = thread_cpu_s();
        snap = make_tick(o, k, time_of(k));
        producer_cpu += thread_cpu_s() - before;
      } else {
        snap = snaps[k];
      }
      const auto due = started + std::chrono::milliseconds(o.tick_ms) * k;
      if (!o.unpaced) std::this_thread::sleep_until(due);
      if (g_stop != 0) break;
      const auto handed = Clock::now();
      db.enqueue(std::move(snap));
      ++handed_over;
      // Latency to commit: flush() returns once everything handed over is committed.
      db.flush();
      latency_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - handed).count());
    }
    ticks = handed_over;
    db.finish();
    const auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    // The producer sleeps or waits in flush(): the process's CPU time is the writer's
    // (less what --lazy spent building snapshots).
    const double cpu =
        static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC - producer_cpu;
    const double traffic_s = static_cast<double>(ticks) * o.tick_ms / 1000.0;
    const netscope::output::EventDbStats st = db.stats();

    const std::uint64_t per_tick = o.conn_rate * static_cast<std::uint64_t>(o.tick_ms) / 1000;
    const std::uint64_t dns_per_tick = o.dns_rate * static_cast<std::uint64_t>(o.tick_ms) / 1000;
    const std::uint64_t want_conns = per_tick * ticks + (ticks > 0 ? o.steady : 0);
    const std::uint64_t want_closed = ticks > 0 ? per_tick * (ticks - 1) : 0;
    const std::uint64_t want_dns = dns_per_tick * ticks;
    const std::int64_t conns = count(o.db, "SELECT count(*) FROM connections");
    const std::int64_t closed =
        count(o.db, "SELECT count(*) FROM connections WHERE close_reason = 'closed'");
    const std::int64_t dns = count(o.db, "SELECT count(*) FROM dns_queries");
    const bool lossless = conns == static_cast<std::int64_t>(want_conns) &&
                          closed == static_cast<std::int64_t>(want_closed) &&
                          dns == static_cast<std::int64_t>(want_dns) && st.snapshots_dropped == 0 &&
                          st.write_errors == 0;
    const double events = static_cast<double>(want_conns + want_closed + want_dns);
    std::printf(
        "event_db_bench: %s, %llu ticks of %d ms, %llu conn/s, %llu dns/s, window %.0f s, "
        "%llu steady connections\n",
        o.unpaced ? "unpaced" : "paced", static_cast<unsigned long long>(ticks), o.tick_ms,
        static_cast<unsigned long long>(o.conn_rate), static_cast<unsigned long long>(o.dns_rate),
        o.window_s, static_cast<unsigned long long>(o.steady));
    std::printf("  offered: %llu connections (%llu closed), %llu DNS transactions\n",
                static_cast<unsigned long long>(want_conns),
                static_cast<unsigned long long>(want_closed),
                static_cast<unsigned long long>(want_dns));
    std::printf(
        "  in the database: %lld connections (%lld closed), %lld DNS rows; %llu snapshots "
        "dropped, %llu write errors, %llu commits -> %s\n",
        static_cast<long long>(conns), static_cast<long long>(closed), static_cast<long long>(dns),
        static_cast<unsigned long long>(st.snapshots_dropped),
        static_cast<unsigned long long>(st.write_errors),
        static_cast<unsigned long long>(st.commits), lossless ? "nothing lost" : "LOST EVENTS");
    std::printf("  hand-over to commit: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                percentile(latency_ms, 0.5), percentile(latency_ms, 0.99),
                percentile(latency_ms, 1.0));
    std::printf("  %.1f s wall, %.0f events/s written%s\n", elapsed, events / elapsed,
                o.unpaced ? " (the writer's ceiling)" : "");
    std::printf(
        "  writer CPU: %.2f s for %.0f s of traffic = %.1f %% of one core; %.0f events per "
        "CPU second; %.1f ms per snapshot\n",
        cpu, traffic_s, 100.0 * cpu / traffic_s, events / cpu,
        ticks > 0 ? 1000.0 * cpu / static_cast<double>(ticks) : 0.0);
    if (o.lazy)
      std::printf("  (producer CPU building snapshots, left out: %.2f s)\n", producer_cpu);
    if (!dir.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((o.db + suffix).c_str());
      ::rmdir(dir.c_str());
    }
    return lossless ? 0 : 1;
  }
}
