// TUI frame cost (Google Benchmark): one frame = build the view model from a snapshot's
// SnapshotIndex (filter + sort of every table shown) and draw it with ncurses into a
// 200x60 screen whose output goes to /dev/null (newterm), then doupdate(). The index is
// made once per snapshot on the app's preparer thread, so BM_TuiFrame builds it before
// its loop (or in it, with arrival 1) and BM_TuiSnapshotIndex times it alone. The
// snapshot holds N connections (100,000 by default), N/200 processes and N/20 remotes
// with varied rates, names and states. Reports min / median / max milliseconds per frame
// (wall and this thread's CPU) as counters.
//
//   tui_render [--benchmark_filter=...]

#define NCURSES_WIDECHAR 1
#include <benchmark/benchmark.h>
#include <ncursesw/curses.h>

#include <algorithm>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "monitor/snapshot.hpp"
#include "tui/filter.hpp"
#include "tui/model.hpp"
#include "tui/render.hpp"
#include "tui/state.hpp"

namespace {

using namespace netscope;

std::shared_ptr<const monitor::Snapshot> make_snapshot(std::size_t n) {
  auto s = std::make_shared<monitor::Snapshot>();
  s->time = core::Timestamp::from_sec_usec(1700000000, 0);
  s->started = core::Timestamp::from_sec_usec(1699990000, 0);
  static const char* kStates[] = {"ESTABLISHED", "TIME_WAIT", "SYN_SENT", "CLOSE_WAIT",
                                  "UDP_ACTIVE"};
  static const char* kNames[] = {"firefox", "curl", "sshd", "nginx", "postgres", "chrome"};
  const std::size_t procs = std::max<std::size_t>(1, n / 200);
  const std::size_t remotes = std::max<std::size_t>(1, n / 20);
  std::uint32_t seed = 12345;
  auto rnd = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  s->connections.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    monitor::ConnectionRecord c;
    const bool udp = i % 5 == 4;
    c.proto = udp ? 17 : 6;
    c.proto_name = udp ? "udp" : "tcp";
    c.local_addr = core::IpAddress::from_v4(0x0a000001u);
    c.local_port = static_cast<std::uint16_t>(10000 + i % 50000);
    c.remote_addr = core::IpAddress::from_v4(0x5db80000u + static_cast<std::uint32_t>(i % remotes));
    c.remote_port = static_cast<std::uint16_t>(i % 3 == 0 ? 443 : 1024 + i % 40000);
    c.state = kStates[i % 5];
    c.pid = static_cast<pid_t>(1000 + i % procs);
    c.process = kNames[i % 6];
    c.attribution = "exact";
    c.rate_down = static_cast<double>(rnd() % 1'000'000);
    c.rate_up = static_cast<double>(rnd() % 100'000);
    c.bytes_down = rnd();
    c.bytes_up = rnd();
    c.timeout_s = 300;
    c.last_seen =
        core::Timestamp{s->time.ns - static_cast<std::int64_t>(rnd() % 300) * 1'000'000'000};
    if (i % 3 == 0) c.sni = "host" + std::to_string(i % 977) + ".example.com";
    s->connections.push_back(std::move(c));
  }
  for (std::size_t p = 0; p < procs; ++p) {
    monitor::ProcessRecord r;
    r.pid = static_cast<pid_t>(1000 + p);
    r.name = kNames[p % 6];
    r.user = "user" + std::to_string(p % 7);
    r.rate_down = static_cast<double>(rnd() % 10'000'000);
    r.rate_up = static_cast<double>(rnd() % 1'000'000);
    r.connections = n / procs;
    for (int k = 0; k < 60; ++k) {
      r.history.push_back({static_cast<double>(rnd() % 1000), static_cast<double>(rnd() % 1000)});
    }
    s->processes.push_back(std::move(r));
  }
  for (std::size_t i = 0; i < remotes; ++i) {
    monitor::RemoteRecord r;
    r.addr = core::IpAddress::from_v4(0x5db80000u + static_cast<std::uint32_t>(i));
    r.rate_down = static_cast<double>(rnd() % 1'000'000);
    r.connections = 20;
    s->remotes.push_back(std::move(r));
  }
  s->totals.flows = n;
  return s;
}

// An ncurses screen of 200x60 writing to /dev/null.
struct OffscreenTerminal {
  FILE* out = nullptr;
  FILE* in = nullptr;
  SCREEN* screen = nullptr;
  OffscreenTerminal() {
    std::setlocale(LC_ALL, "C.UTF-8");
    out = std::fopen("/dev/null", "w");
    in = std::fopen("/dev/null", "r");
    screen = newterm("xterm-256color", out, in);
    if (screen != nullptr) resizeterm(60, 200);
  }
  ~OffscreenTerminal() {
    if (screen != nullptr) {
      endwin();
      delscreen(screen);
    }
    if (out != nullptr) std::fclose(out);
    if (in != nullptr) std::fclose(in);
  }
};

// This thread's CPU time: on a shared machine the wall clock also counts the time other
// processes held the CPU, so both are reported.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void report(benchmark::State& state, std::vector<double>& ms, std::vector<double>& cpu_ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  state.counters["min_ms"] = ms.front();
  state.counters["median_ms"] = ms[ms.size() / 2];
  state.counters["max_ms"] = ms.back();
  state.counters["cpu_min_ms"] = cpu_ms.front();
  state.counters["cpu_median_ms"] = cpu_ms[cpu_ms.size() / 2];
  state.counters["cpu_max_ms"] = cpu_ms.back();
}

// Full frame: model build (filter + sort) and draw. Args: connections, draw, overview,
// arrival. With arrival 0 the snapshot's SnapshotIndex is built once before the loop, as
// when a filter edit, a sort change or a key rebuilds the frame between two snapshots;
// with arrival 1 every iteration builds it first, as a frame for a new snapshot does.
void BM_TuiFrame(benchmark::State& state, const char* filter_text) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto snap = make_snapshot(n);
  OffscreenTerminal term;
  if (term.screen == nullptr) {
    state.SkipWithError("newterm failed (no xterm-256color terminfo?)");
    return;
  }
  tui::Renderer renderer({true, true});
  renderer.init_colors();
  tui::UiState s;
  // Args: connections, draw, overview (1: the three tables at once, else Connections).
  s.screen = state.range(2) != 0 ? tui::Screen::overview : tui::Screen::connections;
  tui::tables_on_screen(s, s.model.tables);  // as the app does: build what is shown
  s.filter_text = filter_text;
  tui::apply_filter_text(s);
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  const bool draw = state.range(1) != 0;
  const bool arrival = state.range(3) != 0;
  auto index = std::make_shared<const tui::SnapshotIndex>(snap);
  index->prepare(s.filter, s.model);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    if (arrival) index = std::make_shared<const tui::SnapshotIndex>(snap);
    tui::Frame f = tui::build_frame(index, s.filter, s.sort, s.model);
    tui::sync_selection(s, f);
    if (draw) {
      renderer.draw(stdscr, s, f);
      wnoutrefresh(stdscr);
      doupdate();
    }
    cpu_ms.push_back((thread_cpu_s() - c0) * 1e3);
    const auto t1 = std::chrono::steady_clock::now();
    const double d = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(d);
    ms.push_back(d * 1e3);
    benchmark::DoNotOptimize(f.connections.data());
  }
  state.counters["rows"] = static_cast<double>(n);
  report(state, ms, cpu_ms);
}

// What a new snapshot costs before its first frame: the SnapshotIndex (compact sort keys)
// and what the filter will use from it (the bare words' text, the owner rows of the
// connections for a filtered overview). Args: connections, overview.
void BM_TuiSnapshotIndex(benchmark::State& state, const char* filter_text) {
  const auto snap = make_snapshot(static_cast<std::size_t>(state.range(0)));
  tui::UiState s;
  s.screen = state.range(1) != 0 ? tui::Screen::overview : tui::Screen::connections;
  tui::tables_on_screen(s, s.model.tables);
  s.filter_text = filter_text;
  tui::apply_filter_text(s);
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    const tui::SnapshotIndex index(snap);
    index.prepare(s.filter, s.model);
    cpu_ms.push_back((thread_cpu_s() - c0) * 1e3);
    const double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(d);
    ms.push_back(d * 1e3);
    benchmark::DoNotOptimize(index.keys().data());
  }
  report(state, ms, cpu_ms);
}

// An idle redraw: the same frame drawn again (a key that only moves the selection).
void BM_TuiRedraw(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto snap = make_snapshot(n);
  OffscreenTerminal term;
  if (term.screen == nullptr) {
    state.SkipWithError("newterm failed");
    return;
  }
  tui::Renderer renderer({true, true});
  renderer.init_colors();
  tui::UiState s;
  s.screen = tui::Screen::connections;
  tui::Frame f = tui::build_frame(snap, s.filter, s.sort, s.model);
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    tui::handle_key(s, tui::key::down, f);
    renderer.draw(stdscr, s, f);
    wnoutrefresh(stdscr);
    doupdate();
    cpu_ms.push_back((thread_cpu_s() - c0) * 1e3);
    const double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(d);
    ms.push_back(d * 1e3);
  }
  report(state, ms, cpu_ms);
}

// Args: connections, draw (0: the model only: filter + sort + selection), overview, arrival.
BENCHMARK_CAPTURE(BM_TuiFrame, no_filter, "")
    ->Args({10'000, 1, 0, 0})
    ->Args({100'000, 1, 0, 0})
    ->Args({100'000, 0, 0, 0})
    ->Args({100'000, 1, 1, 0})
    ->Args({100'000, 1, 0, 1})
    ->Args({100'000, 1, 1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TuiFrame, filter_port_not_state, "port:443 !state:time_wait")
    ->Args({100'000, 1, 0, 0})
    ->Args({100'000, 1, 1, 0})
    ->Args({100'000, 1, 0, 1})
    ->Args({100'000, 1, 1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TuiFrame, filter_bare_word, "firefox")
    ->Args({100'000, 1, 0, 0})
    ->Args({100'000, 1, 1, 0})
    ->Args({100'000, 1, 0, 1})
    ->Args({100'000, 1, 1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TuiFrame, filter_regex_sni, "sni:/host1[0-9]+\\./")
    ->Args({100'000, 1, 0, 0})
    ->Args({100'000, 1, 1, 0})
    ->Args({100'000, 1, 0, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
// Args: connections, overview.
BENCHMARK_CAPTURE(BM_TuiSnapshotIndex, no_filter, "")
    ->Args({100'000, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TuiSnapshotIndex, filter_port_not_state, "port:443 !state:time_wait")
    ->Args({100'000, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TuiSnapshotIndex, filter_bare_word, "firefox")
    ->Args({100'000, 0})
    ->Args({100'000, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TuiRedraw)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
