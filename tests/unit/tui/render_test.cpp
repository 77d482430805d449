#include "tui/render.hpp"

#define NCURSES_WIDECHAR 1
#include <gtest/gtest.h>
#include <ncursesw/curses.h>

#include <clocale>
#include <cstdio>
#include <cwchar>
#include <string>

#include "tui/detail.hpp"
#include "tui_fixture.hpp"

namespace netscope::tui {
namespace {

using testing::sample_snapshot;

// An ncurses screen writing to /dev/null; the tests read the cells back.
class Offscreen : public ::testing::Test {
 protected:
  void SetUp() override {
    std::setlocale(LC_ALL, "C.UTF-8");
    out_ = std::fopen("/dev/null", "w");
    in_ = std::fopen("/dev/null", "r");
    screen_ = newterm("xterm-256color", out_, in_);
    if (screen_ == nullptr) GTEST_SKIP() << "no xterm-256color terminfo";
  }
  void TearDown() override {
    if (screen_ != nullptr) {
      endwin();
      delscreen(screen_);
    }
    if (out_ != nullptr) std::fclose(out_);
    if (in_ != nullptr) std::fclose(in_);
  }
  void size(int w, int h) { resizeterm(h, w); }
  std::string line(int y) {
    wchar_t buf[512] = {};
    mvwinnwstr(stdscr, y, 0, buf, 511);
    char mb[2048] = {};
    std::wcstombs(mb, buf, sizeof mb - 1);
    std::string s(mb);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }
  std::string all() {
    std::string out;
    for (int y = 0; y < LINES; ++y) out += line(y) + "\n";
    return out;
  }
  void draw(UiState& s, const Frame& f, Style st = {true, true}) {
    Renderer r(st);
    r.init_colors();
    werase(stdscr);
    r.draw(stdscr, s, f);
  }

  FILE* out_ = nullptr;
  FILE* in_ = nullptr;
  SCREEN* screen_ = nullptr;
};

TEST_F(Offscreen, OverviewAt160x48ShowsThreeTablesAndTheHeader) {
  size(160, 48);
  auto snap = sample_snapshot();
  snap->end_of_input = true;
  snap->replay = true;
  UiState s;
  const Frame f = testing::frame_of(snap);
  sync_selection(s, f);
  draw(s, f);
  const std::string text = all();
  EXPECT_NE(line(0).find("[END]"), std::string::npos) << line(0);
  EXPECT_NE(line(0).find("↓ 5.2 kB/s"), std::string::npos) << line(0);
  EXPECT_NE(text.find("Processes (3)"), std::string::npos);
  EXPECT_NE(text.find("Remotes (3)"), std::string::npos);
  EXPECT_NE(text.find("Connections (3)"), std::string::npos);
  EXPECT_NE(text.find("github.com:https"), std::string::npos);
  EXPECT_NE(text.find("<UNKNOWN>"), std::string::npos);
  EXPECT_NE(line(47).find("q quit"), std::string::npos);
  EXPECT_EQ(line(0).find("evicted"), std::string::npos) << line(0);
  // A full flow table (--max-flows) says how many flows it ended early.
  snap->totals.flows_evicted = 1234;
  draw(s, testing::frame_of(snap));
  EXPECT_NE(line(0).find("(evicted 1234)"), std::string::npos) << line(0);
}

TEST_F(Offscreen, EveryScreenDetailAndOverlayDrawsFrom200x60DownTo1x1) {
  auto snap = sample_snapshot();
  snap->processes[0].dns_history.push_back({});
  snap->processes[0].dns_history.back().query = "example.com";
  snap->processes[0].dns_history.back().qtype = "A";
  for (auto [w, h] : {std::pair{200, 60}, std::pair{120, 30}, std::pair{60, 15}, std::pair{40, 10},
                      std::pair{20, 5}, std::pair{1, 1}}) {
    size(w, h);
    UiState s;
    Frame f = testing::frame_of(snap);
    for (Screen sc : {Screen::overview, Screen::processes, Screen::connections, Screen::remotes}) {
      s.screen = sc;
      draw(s, f);
    }
    s.screen = Screen::processes;
    handle_key(s, key::enter, f);
    draw(s, f);
    if (w >= 60 && h >= 15) {
      EXPECT_NE(all().find("DNS queries (1)"), std::string::npos) << w << "x" << h << all();
      EXPECT_NE(all().find("example.com"), std::string::npos) << w << "x" << h;
    }
    handle_key(s, key::enter, f);  // its connection
    draw(s, f);
    if (h >= 30) {
      EXPECT_NE(all().find("TCP health"), std::string::npos) << all();
    }
    handle_key(s, key::escape, f);
    handle_key(s, key::escape, f);
    handle_key(s, '?', f);
    draw(s, f, {false, false});
    if (w >= 60 && h >= 15) {
      EXPECT_NE(all().find("Keys (any key closes)"), std::string::npos);
    }
    for (int y = 0; y < h; ++y) EXPECT_LE(line(y).size(), static_cast<std::size_t>(w) * 3);
  }
}

TEST_F(Offscreen, BlacklistedConnectionsAreBoldRed) {
  size(160, 48);
  auto snap = sample_snapshot();
  snap->connections[1].alert = "github.com";
  UiState s;  // the overview: the processes table has the focus and the selection
  const Frame f = testing::frame_of(snap);
  sync_selection(s, f);
  int alert_row = -1;
  int plain_row = -1;
  draw(s, f);
  for (int y = 0; y < LINES; ++y) {
    const std::string l = line(y);
    if (l.find("github.com") != std::string::npos) alert_row = y;
    if (l.find("192.0.2.7") != std::string::npos) plain_row = y;
  }
  ASSERT_GE(alert_row, 0) << all();
  ASSERT_GE(plain_row, 0) << all();
  const auto attrs_at = [](int y) {
    for (int x = 0; x < COLS; ++x) {
      const chtype ch = mvwinch(stdscr, y, x);
      if ((ch & A_CHARTEXT) != ' ') return ch & (A_ATTRIBUTES | A_COLOR);
    }
    return chtype{0};
  };
  EXPECT_NE(attrs_at(alert_row) & A_BOLD, 0u);
  EXPECT_EQ(attrs_at(plain_row) & A_BOLD, 0u);
  EXPECT_NE(PAIR_NUMBER(attrs_at(alert_row)), PAIR_NUMBER(attrs_at(plain_row)));
}

TEST_F(Offscreen, FilterErrorAndConfirmationShowInTheFooter) {
  size(100, 20);
  UiState s;
  Frame f = testing::frame_of(sample_snapshot());
  handle_key(s, '/', f);
  for (char c : std::string("port:abc")) handle_key(s, c, f);
  draw(s, f);
  EXPECT_NE(line(19).find("/port:abc"), std::string::npos) << line(19);
  EXPECT_NE(line(19).find("error at"), std::string::npos) << line(19);
  handle_key(s, key::escape, f);
  s.screen = Screen::processes;
  handle_key(s, 'x', f);
  draw(s, f);
  EXPECT_NE(line(19).find("Send SIGTERM to 100 (curl)? y/n"), std::string::npos) << line(19);
}

TEST(TuiRenderText, SparklineScalesToItsMaximumAndPadsOnTheLeft) {
  std::vector<monitor::RatePoint> h = {{0, 0}, {1, 1}, {2, 2}, {4, 4}};
  EXPECT_EQ(sparkline(h, 6, true), "   ▂▄█");
  EXPECT_EQ(sparkline(h, 2, false), "-#");
  EXPECT_EQ(sparkline({}, 3, true), "   ");
}

TEST(TuiRenderText, FooterHintsShortenWithTheWidth) {
  EXPECT_EQ(footer_hints(14), "q quit  ? help");
  EXPECT_EQ(footer_hints(3), "");
  EXPECT_NE(footer_hints(200).find("x kill"), std::string::npos);
}

}  // namespace
}  // namespace netscope::tui
