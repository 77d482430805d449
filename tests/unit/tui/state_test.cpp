#include "tui/state.hpp"

#include <gtest/gtest.h>

#include "tui/layout.hpp"
#include "tui_fixture.hpp"

namespace netscope::tui {
namespace {

using testing::frame_of;
using testing::sample_snapshot;

struct Ui {
  UiState s;
  Frame f;
  std::shared_ptr<monitor::Snapshot> snap = sample_snapshot();

  Ui() { rebuild(); }
  void rebuild() {
    f = build_frame(snap, s.filter, s.sort, s.model);
    sync_selection(s, f);
  }
  Command key(int k) {
    Command c = handle_key(s, k, f);
    if (c.kind == Command::Kind::rebuild) rebuild();
    return c;
  }
  void type(std::string_view text) {
    for (char ch : text) key(static_cast<unsigned char>(ch));
  }
};

TEST(TuiState, QuitNeedsTwoPressesAndAnyOtherKeyCancels) {
  Ui ui;
  EXPECT_EQ(ui.key('q').kind, Command::Kind::redraw);
  EXPECT_EQ(ui.s.mode, Mode::confirm_quit);
  EXPECT_EQ(ui.key('j').kind, Command::Kind::redraw);
  EXPECT_EQ(ui.s.mode, Mode::normal);
  ui.key('q');
  EXPECT_EQ(ui.key('q').kind, Command::Kind::quit);
}

TEST(TuiState, CtrlCQuitsAtOnceFromAnyMode) {
  Ui ui;
  EXPECT_EQ(ui.key(key::ctrl_c).kind, Command::Kind::quit);
  ui.key('/');
  EXPECT_EQ(ui.key(key::ctrl_c).kind, Command::Kind::quit);
}

TEST(TuiState, TabCyclesScreensAndSkipsTheOverviewWhenSmall) {
  Ui ui;
  adapt_to_size(ui.s, 160, 48);
  EXPECT_EQ(ui.s.screen, Screen::overview);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.screen, Screen::processes);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.screen, Screen::connections);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.screen, Screen::remotes);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.screen, Screen::overview);
  ui.key(key::back_tab);
  EXPECT_EQ(ui.s.screen, Screen::remotes);
  adapt_to_size(ui.s, 60, 15);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.screen, Screen::processes);  // no overview at 60x15
  ui.key(key::back_tab);
  EXPECT_EQ(ui.s.screen, Screen::remotes);
}

TEST(TuiState, ShrinkingLeavesTheOverviewForTheFocusedTable) {
  Ui ui;
  adapt_to_size(ui.s, 160, 48);
  ui.s.overview_focus = Table::connections;
  adapt_to_size(ui.s, 80, 24);
  EXPECT_EQ(ui.s.screen, Screen::connections);
  adapt_to_size(ui.s, 160, 48);  // grown back: the overview returns
  EXPECT_EQ(ui.s.screen, Screen::overview);
  adapt_to_size(ui.s, 80, 24);
  ui.key(key::tab);  // a view chosen while small stays chosen
  adapt_to_size(ui.s, 160, 48);
  EXPECT_EQ(ui.s.screen, Screen::remotes);
}

TEST(TuiState, OnlyTheChosenTablesAreShown) {
  Ui ui;
  ui.s.tables = {Table::connections};
  adapt_to_size(ui.s, 200, 60);
  EXPECT_EQ(ui.s.screen, Screen::connections);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.screen, Screen::connections);
}

TEST(TuiState, SelectionMovesAndClamps) {
  Ui ui;
  ui.s.screen = Screen::connections;
  ui.key('j');
  EXPECT_EQ(ui.s.selection[1].index, 1u);
  ui.key(key::down);
  ui.key(key::down);
  EXPECT_EQ(ui.s.selection[1].index, 2u);  // 3 rows
  ui.key('g');
  EXPECT_EQ(ui.s.selection[1].index, 0u);
  ui.key('G');
  EXPECT_EQ(ui.s.selection[1].index, 2u);
  ui.key('k');
  EXPECT_EQ(ui.s.selection[1].index, 1u);
  ui.key(key::page_up);
  EXPECT_EQ(ui.s.selection[1].index, 0u);
  ui.key(key::page_down);
  EXPECT_EQ(ui.s.selection[1].index, 2u);
}

TEST(TuiState, SelectionFollowsTheRowAcrossRefreshes) {
  Ui ui;
  ui.s.screen = Screen::connections;
  ui.key('j');  // firefox's connection, second by down rate
  ASSERT_EQ(ui.f.connections[ui.s.selection[1].index]->local_port, 40001);
  ui.snap = sample_snapshot();
  ui.snap->connections[1].rate_down = 1e9;  // it becomes the first row
  ui.rebuild();
  EXPECT_EQ(ui.s.selection[1].index, 0u);
  EXPECT_EQ(ui.f.connections[0]->local_port, 40001);
}

TEST(TuiState, FollowModeKeepsTheTopRowSelected) {
  Ui ui;
  ui.s.screen = Screen::connections;
  ui.key('f');
  EXPECT_TRUE(ui.s.follow);
  ui.snap = sample_snapshot();
  ui.snap->connections[2].rate_down = 1e9;
  ui.rebuild();
  EXPECT_EQ(ui.s.selection[1].index, 0u);
  EXPECT_EQ(ui.f.connections[0]->local_port, 40002);
  ui.key('j');  // moving away ends follow mode
  EXPECT_FALSE(ui.s.follow);
}

TEST(TuiState, VanishedRowLeavesTheSelectionAtItsPosition) {
  Ui ui;
  ui.s.screen = Screen::connections;
  ui.key('G');
  ui.snap = sample_snapshot();
  ui.snap->connections.pop_back();
  ui.rebuild();
  EXPECT_EQ(ui.s.selection[1].index, 1u);
}

TEST(TuiState, SortKeysCycleAndFlip) {
  Ui ui;
  ui.s.screen = Screen::connections;
  const SortSpec before = ui.s.sort[1];
  EXPECT_EQ(ui.key('s').kind, Command::Kind::rebuild);
  EXPECT_EQ(ui.s.sort[1].column, before.column + 1);
  const bool dir = ui.s.sort[1].descending;
  ui.key('S');
  EXPECT_EQ(ui.s.sort[1].descending, !dir);
  EXPECT_EQ(ui.s.sort[0].column,
            default_sort(Table::processes).column);  // other tables keep theirs
}

TEST(TuiState, FilterTypingAppliesLiveAndNavigationStillWorks) {
  Ui ui;
  ui.s.screen = Screen::connections;
  ui.key('/');
  EXPECT_EQ(ui.s.mode, Mode::filter);
  ui.type("port:443");
  EXPECT_EQ(ui.s.filter_text, "port:443");
  EXPECT_EQ(ui.f.connections.size(), 2u);
  ui.key(key::down);  // navigation while typing
  EXPECT_EQ(ui.s.selection[1].index, 1u);
  EXPECT_EQ(ui.s.mode, Mode::filter);
  ui.key('j');  // a letter types
  EXPECT_EQ(ui.s.filter_text, "port:443j");
  ui.key(key::backspace);
  ui.key(key::enter);
  EXPECT_EQ(ui.s.mode, Mode::normal);
  EXPECT_EQ(ui.f.connections.size(), 2u);
  ui.key(key::escape);  // Esc clears the filter
  EXPECT_TRUE(ui.s.filter_text.empty());
  EXPECT_EQ(ui.f.connections.size(), 3u);
}

TEST(TuiState, FilterWithSyntaxErrorAppliesNothing) {
  Ui ui;
  ui.key('/');
  ui.type("port:443 /unclosed(");
  EXPECT_TRUE(ui.s.filter_error.has_value());
  EXPECT_TRUE(ui.s.filter.empty());
  EXPECT_EQ(ui.f.connections.size(), 3u);
}

TEST(TuiState, EnterOpensDetailsAndEscGoesBack) {
  Ui ui;
  ui.s.screen = Screen::processes;
  ui.key(key::enter);
  ASSERT_EQ(ui.s.detail.size(), 1u);
  EXPECT_EQ(ui.s.detail[0].table, Table::processes);
  EXPECT_EQ(ui.s.detail[0].key.pid, std::optional<pid_t>(100));
  ui.key(key::tab);  // focus moves to the DNS list
  EXPECT_EQ(ui.s.detail[0].focus, 1);
  ui.key(key::tab);
  EXPECT_EQ(ui.s.detail[0].focus, 0);
  ui.key(key::enter);  // the process's connection
  ASSERT_EQ(ui.s.detail.size(), 2u);
  EXPECT_EQ(ui.s.detail[1].table, Table::connections);
  EXPECT_EQ(ui.s.detail[1].key.local_port, 40000);
  ui.key(key::escape);
  ui.key(key::escape);
  EXPECT_TRUE(ui.s.detail.empty());
}

TEST(TuiState, PauseTotalsPortsToggle) {
  Ui ui;
  EXPECT_EQ(ui.key(' ').kind, Command::Kind::redraw);
  EXPECT_TRUE(ui.s.paused);
  EXPECT_EQ(ui.key(' ').kind, Command::Kind::resume);
  EXPECT_FALSE(ui.s.paused);
  ui.key('t');
  EXPECT_TRUE(ui.s.model.totals);
  ui.key('p');
  EXPECT_TRUE(ui.s.model.port_numbers);
}

TEST(TuiState, CopyGivesTheSelectedRemoteAddress) {
  Ui ui;
  ui.s.screen = Screen::connections;
  ui.key('j');
  const Command c = ui.key('c');
  EXPECT_EQ(c.kind, Command::Kind::copy);
  EXPECT_EQ(c.text, "140.82.112.3");
  ui.s.screen = Screen::processes;
  EXPECT_EQ(ui.key('c').kind, Command::Kind::redraw);  // a process has no single remote
}

TEST(TuiState, KillAsksNamingTheProcessAndNeedsYes) {
  Ui ui;
  ui.s.screen = Screen::processes;
  ui.key('x');
  EXPECT_EQ(ui.s.mode, Mode::confirm_kill);
  EXPECT_EQ(ui.s.kill_pid, 100);
  EXPECT_EQ(ui.s.kill_name, "curl");
  EXPECT_EQ(ui.key('n').kind, Command::Kind::redraw);
  EXPECT_EQ(ui.s.mode, Mode::normal);
  ui.key('x');
  const Command c = ui.key('y');
  EXPECT_EQ(c.kind, Command::Kind::kill);
  EXPECT_EQ(c.pid, 100);
}

TEST(TuiState, KillRefusesTheUnknownRowAndReplays) {
  Ui ui;
  ui.s.screen = Screen::processes;
  ui.key('G');  // <UNKNOWN>
  EXPECT_EQ(ui.key('x').kind, Command::Kind::redraw);
  EXPECT_EQ(ui.s.mode, Mode::normal);
  ui.key('g');
  ui.s.replay = true;
  ui.key('x');
  EXPECT_EQ(ui.s.mode, Mode::normal);
}

TEST(TuiState, CapitalRTogglesRecordingOfTheSelectedProcess) {
  Ui ui;
  ui.s.screen = Screen::processes;
  ui.key(key::enter);  // the process detail view
  ASSERT_EQ(ui.s.detail.size(), 1u);
  const Command c = ui.key('R');
  EXPECT_EQ(c.kind, Command::Kind::toggle_recording);
  EXPECT_EQ(c.pid, 100);
  EXPECT_EQ(c.text, "curl");
  ui.key(key::escape);  // back
  ui.key('G');          // <UNKNOWN>: no process to record
  EXPECT_EQ(ui.key('R').kind, Command::Kind::redraw);
  ui.key('g');
  ui.s.replay = true;  // a replay's processes are not on this machine
  EXPECT_EQ(ui.key('R').kind, Command::Kind::redraw);
  EXPECT_NE(ui.s.message.find("--record-pid"), std::string::npos);
}

TEST(TuiState, CapitalLAsksToReloadTheBlacklist) {
  Ui ui;
  EXPECT_EQ(ui.key('L').kind, Command::Kind::reload_blacklist);
}

TEST(TuiState, HelpOpensAndAnyKeyClosesIt) {
  Ui ui;
  ui.key('?');
  EXPECT_EQ(ui.s.mode, Mode::help);
  EXPECT_EQ(ui.key('q').kind, Command::Kind::redraw);  // closes help, does not quit
  EXPECT_EQ(ui.s.mode, Mode::normal);
  ui.key('h');
  EXPECT_EQ(ui.s.mode, Mode::help);
}

TEST(TuiState, ClickSelectsAndWheelScrolls) {
  Ui ui;
  adapt_to_size(ui.s, 160, 48);
  handle_click(ui.s, Table::connections, 2, ui.f);
  EXPECT_EQ(ui.s.overview_focus, Table::connections);
  EXPECT_EQ(ui.s.selection[1].index, 2u);
  handle_wheel(ui.s, -1, ui.f);
  EXPECT_EQ(ui.s.selection[1].index, 0u);
}

TEST(TuiScreenLayout, OverviewSplitsAndSmallTerminalsStillGetATable) {
  UiState s;
  adapt_to_size(s, 160, 48);
  ScreenLayout l = compute_layout(s, 160, 48);
  EXPECT_EQ(l.header.h, 1);
  EXPECT_EQ(l.footer.y, 47);
  EXPECT_FALSE(l.panes[0].empty());
  EXPECT_FALSE(l.panes[1].empty());
  EXPECT_FALSE(l.panes[2].empty());
  EXPECT_EQ(l.panes[0].y, l.panes[2].y);  // side by side
  EXPECT_GT(l.panes[1].y, l.panes[0].y);  // connections below
  EXPECT_LE(l.panes[2].x + l.panes[2].w, 160);
  for (auto [w, h] : {std::pair{60, 15}, std::pair{40, 10}, std::pair{119, 30}}) {
    adapt_to_size(s, w, h);
    l = compute_layout(s, w, h);
    EXPECT_NE(s.screen, Screen::overview) << w << "x" << h;
    const Rect& r = l.panes[static_cast<std::size_t>(active_table(s))];
    EXPECT_EQ(r.w, w);
    EXPECT_EQ(r.h, h - 2);
  }
  // Degenerate sizes do not produce negative rectangles.
  l = compute_layout(s, 0, 1);
  EXPECT_TRUE(l.body.empty());
}

}  // namespace
}  // namespace netscope::tui

namespace netscope::tui {
namespace {

TEST(TuiState, HiddenTablesAreNotBuiltAndKeepTheirSelection) {
  UiState s;
  auto snap = testing::sample_snapshot();
  Frame f = build_frame(snap, s.filter, s.sort, s.model);
  sync_selection(s, f);
  s.screen = Screen::processes;
  handle_key(s, 'j', f);  // firefox
  const RowKey firefox = s.selection[0].key;
  s.screen = Screen::connections;
  tables_on_screen(s, s.model.tables);
  EXPECT_FALSE(s.model.tables[0]);
  EXPECT_TRUE(s.model.tables[1]);
  f = build_frame(snap, s.filter, s.sort, s.model);
  EXPECT_FALSE(f.built[0]);
  EXPECT_TRUE(f.processes.empty());
  EXPECT_EQ(f.connections.size(), 3u);
  sync_selection(s, f);
  EXPECT_EQ(s.selection[0].key, firefox);  // waits for the processes view
  s.screen = Screen::overview;
  tables_on_screen(s, s.model.tables);
  EXPECT_TRUE(s.model.tables[0] && s.model.tables[1] && s.model.tables[2]);
}

}  // namespace
}  // namespace netscope::tui
