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
#include "tui/frames.hpp"
#include "tui/layout.hpp"
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
    if (i % 3 == 0) c.dpi.edit().sni = "host" + std::to_string(i % 977) + ".example.com";
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

// The sort keys of one connections column for a snapshot (SnapshotIndex::column_keys):
// what a sort change costs before the sort itself. Arg: the column (Connections view).
void BM_TuiColumnKeys(benchmark::State& state) {
  const auto snap = make_snapshot(100'000);
  const auto col = tui::columns(tui::Table::connections)[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(std::string(col.title));
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  for (auto _ : state) {
    const tui::SnapshotIndex index(snap);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    benchmark::DoNotOptimize(index.column_keys(col.id, tui::ModelOptions{}).data());
    cpu_ms.push_back((thread_cpu_s() - c0) * 1e3);
    const double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(d);
    ms.push_back(d * 1e3);
  }
  report(state, ms, cpu_ms);
}
BENCHMARK(BM_TuiColumnKeys)
    ->DenseRange(0, 5)
    ->Arg(8)
    ->Arg(9)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---- frame kinds: what the app's UI thread does for each event, at 100,000 connections --
// The app's loop (src/tui/app.cpp) without the terminal's input, through the same
// FrameKeeper: a new snapshot's index comes from the preparer (made here outside the timed
// region, as the preparer thread does), a key goes through handle_key(), then a frame is
// made (rebuilt when needed) and drawn. When the FrameKeeper asks the preparer for index
// parts (a filter that needs them), they are made untimed, as on the preparer thread, and
// the frame they let through is timed as one more frame.

struct Timer {
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  double total_s = 0;
  template <typename F>
  void time(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    f();
    cpu_ms.push_back((thread_cpu_s() - c0) * 1e3);
    const double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ms.push_back(d * 1e3);
    total_s += d;
  }
};

class Sim {
 public:
  Sim(std::shared_ptr<const monitor::Snapshot> snap, tui::Screen screen, const char* filter)
      : snap_(std::move(snap)), renderer_({true, true}) {
    renderer_.init_colors();
    s_.screen = screen;
    s_.filter_text = filter;
    tui::apply_filter_text(s_);
  }
  // The preparer's part for a new snapshot (untimed).
  void arrive() {
    tui::adapt_to_size(s_, 200, 60);
    tui::tables_on_screen(s_, s_.model.tables);
    auto index = std::make_shared<const tui::SnapshotIndex>(snap_);
    index->prepare(s_.filter, s_.model, s_.mode == tui::Mode::filter);
    keeper_.set_index(std::move(index));
  }
  // The UI thread's part: one frame, timed by `t` (null: untimed), and the one that
  // follows when parts were asked for.
  void step(Timer* t, int k = -1) {
    std::optional<tui::PartsRequest> request;
    const auto frame = [&] {
      if (k >= 0) {
        const tui::Command c = tui::handle_key(s_, k, keeper_.frame());
        if (c.kind == tui::Command::Kind::rebuild) keeper_.request_rebuild();
        k = -1;
      }
      tui::adapt_to_size(s_, 200, 60);
      tui::tables_on_screen(s_, s_.model.tables);
      keeper_.update(s_, {}, &request);
      s_.filter_pending = keeper_.waiting();
      renderer_.draw(stdscr, s_, keeper_.frame());
      wnoutrefresh(stdscr);
      doupdate();
    };
    run(t, frame);
    if (request) {
      keeper_.adopt(
          std::make_unique<tui::BuiltParts>(tui::build_parts(request->snapshot, request->which)));
      request.reset();
      run(t, frame);
    }
  }
  void key(Timer* t, int k) { step(t, k); }
  tui::UiState& state() { return s_; }

 private:
  template <typename F>
  static void run(Timer* t, F&& f) {
    if (t != nullptr) {
      t->time(f);
    } else {
      f();
    }
  }
  std::shared_ptr<const monitor::Snapshot> snap_;
  tui::Renderer renderer_;
  tui::UiState s_;
  tui::FrameKeeper keeper_;
};

const std::shared_ptr<const monitor::Snapshot>& snapshot_100k() {
  static const auto snap = make_snapshot(100'000);
  return snap;
}

// One scenario: `setup` runs untimed once per iteration, then `frames` (timed per frame).
enum class Kind { first, steady, type, sort, tab, detail };

tui::Screen screen_of(int v) {
  switch (v) {
    case 0:
      return tui::Screen::overview;
    case 1:
      return tui::Screen::processes;
    case 2:
      return tui::Screen::connections;
    default:
      return tui::Screen::remotes;
  }
}

// Args: screen (0 overview, 1 processes, 2 connections, 3 remotes).
// first:  the first frame of a fresh UI (filter `text`).
// steady: a new snapshot's frame while `text` is the filter.
// type:   `/` then `text` typed key by key over a snapshot shown with no filter.
// sort:   `s` through every column of the focused table, then `S` (filter `text`).
// tab:    Tab through every screen and back (filter `text`).
// detail: Enter on the selected row, j j, Tab, Esc (filter `text`).
void BM_TuiFrameKind(benchmark::State& state, Kind kind, const char* text) {
  OffscreenTerminal term;
  if (term.screen == nullptr) {
    state.SkipWithError("newterm failed");
    return;
  }
  const auto& snap = snapshot_100k();
  const tui::Screen screen = screen_of(static_cast<int>(state.range(0)));
  Timer t;
  std::unique_ptr<Sim> steady;
  if (kind == Kind::steady) {
    steady = std::make_unique<Sim>(snap, screen, text);
    steady->arrive();
    steady->step(nullptr);
  }
  for (auto _ : state) {
    const double before = t.total_s;
    switch (kind) {
      case Kind::first: {
        Sim sim(snap, screen, text);
        sim.arrive();
        sim.step(&t);
        break;
      }
      case Kind::steady:
        steady->arrive();
        steady->step(&t);
        break;
      case Kind::type: {
        Sim sim(snap, screen, "");
        sim.arrive();
        sim.step(nullptr);
        sim.key(&t, '/');
        for (const char* p = text; *p != '\0'; ++p) sim.key(&t, *p);
        break;
      }
      case Kind::sort: {
        Sim sim(snap, screen, text);
        sim.arrive();
        sim.step(nullptr);
        const std::size_t n = tui::columns(tui::active_table(sim.state())).size();
        for (std::size_t i = 0; i < n; ++i) sim.key(&t, 's');
        sim.key(&t, 'S');
        break;
      }
      case Kind::tab: {
        Sim sim(snap, screen, text);
        sim.arrive();
        sim.step(nullptr);
        for (int i = 0; i < 4; ++i) sim.key(&t, tui::key::tab);
        break;
      }
      case Kind::detail: {
        Sim sim(snap, screen, text);
        sim.arrive();
        sim.step(nullptr);
        sim.key(&t, tui::key::enter);
        sim.key(&t, 'j');
        sim.key(&t, 'j');
        sim.key(&t, tui::key::tab);
        sim.key(&t, tui::key::escape);
        break;
      }
    }
    state.SetIterationTime(t.total_s - before);
  }
  state.counters["frames"] = static_cast<double>(t.ms.size());
  report(state, t.ms, t.cpu_ms);
}

#define FRAME_KIND(name, kind, text, ...)              \
  BENCHMARK_CAPTURE(BM_TuiFrameKind, name, kind, text) \
      ->ArgsProduct({{__VA_ARGS__}})                   \
      ->UseManualTime()                                \
      ->Unit(benchmark::kMillisecond)
FRAME_KIND(first, Kind::first, "", 0, 2);
FRAME_KIND(steady_none, Kind::steady, "", 0, 2);
FRAME_KIND(steady_word, Kind::steady, "firefox", 0, 2);
FRAME_KIND(steady_keyword, Kind::steady, "port:443 !state:time_wait", 0, 2);
FRAME_KIND(steady_regex, Kind::steady, "sni:/host1[0-9]+\\./", 0, 2);
FRAME_KIND(steady_bare_regex, Kind::steady, "/^fire/", 2);
FRAME_KIND(type_word, Kind::type, "firefox", 0, 2);
FRAME_KIND(type_keyword, Kind::type, "port:443", 0, 2);
FRAME_KIND(type_regex, Kind::type, "sni:/host1[0-9]+\\./", 0, 2);
FRAME_KIND(type_negation, Kind::type, "!state:time_wait", 0, 2);
FRAME_KIND(type_address, Kind::type, "93.184", 2);
FRAME_KIND(sort, Kind::sort, "", 2);
FRAME_KIND(sort_filtered, Kind::sort, "port:443 !state:time_wait", 2);
FRAME_KIND(tab, Kind::tab, "", 0);
FRAME_KIND(tab_filtered, Kind::tab, "port:443 !state:time_wait", 0);
FRAME_KIND(detail_process, Kind::detail, "", 1);
FRAME_KIND(detail_connection, Kind::detail, "", 2);
FRAME_KIND(detail_remote, Kind::detail, "", 3);

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
