#pragma once
// The TUI's state and its key handling, as a state machine with no terminal: a key (or a
// click) changes UiState and may ask the app for a side effect (quit, export, copy,
// signal a process). The app draws from UiState and a Frame; the tests drive
// handle_key() directly.

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tui/filter.hpp"
#include "tui/model.hpp"

namespace netscope::tui {

// Keys that are not characters, numbered above Unicode so that a Key is one int.
namespace key {
inline constexpr int kBase = 0x110000;
inline constexpr int up = kBase + 1;
inline constexpr int down = kBase + 2;
inline constexpr int left = kBase + 3;
inline constexpr int right = kBase + 4;
inline constexpr int page_up = kBase + 5;
inline constexpr int page_down = kBase + 6;
inline constexpr int home = kBase + 7;
inline constexpr int end = kBase + 8;
inline constexpr int enter = kBase + 9;
inline constexpr int escape = kBase + 10;
inline constexpr int tab = kBase + 11;
inline constexpr int back_tab = kBase + 12;
inline constexpr int backspace = kBase + 13;
inline constexpr int ctrl_c = 3;
inline constexpr int ctrl_u = 21;
}  // namespace key

enum class Screen { overview, processes, connections, remotes };

enum class Mode {
  normal,
  filter,        // typing after `/`
  help,          // the `?` overlay
  confirm_quit,  // `q` once
  confirm_kill,  // `x`: y/n
};

// One level of the detail stack (`Enter` pushes, `Esc` pops).
struct DetailLevel {
  Table table = Table::processes;
  RowKey key;
  int focus = 0;                           // process detail: 0 its connections, 1 its DNS
  std::array<std::size_t, 2> index{0, 0};  // selection in each list
  std::size_t scroll = 0;                  // connection detail: first line shown
};

struct TableSelection {
  RowKey key;
  std::size_t index = 0;
  std::size_t scroll = 0;  // first row shown
};

struct UiState {
  std::vector<Table> tables{Table::processes, Table::connections, Table::remotes};
  bool overview_allowed = true;  // the terminal is >= 120x30 and more than one table shows
  Screen screen = Screen::overview;
  Table overview_focus = Table::processes;
  bool overview_forced_off = false;  // left because the terminal shrank: come back on growth
  Mode mode = Mode::normal;
  bool paused = false;
  bool follow = false;
  ModelOptions model;
  SortSpec sort[kTables] = {default_sort(Table::processes), default_sort(Table::connections),
                            default_sort(Table::remotes)};
  TableSelection selection[kTables];
  std::string filter_text;
  Filter filter;  // what applies (empty while the text has an error)
  std::optional<FilterError> filter_error;
  // The tables still show the previous filter's rows: the preparer thread is making the
  // index parts the new filter needs (FrameKeeper); the titles say "filtering…".
  bool filter_pending = false;
  std::vector<DetailLevel> detail;
  std::size_t page_rows = 10;  // rows of the focused list, set by the renderer
  std::size_t detail_page = 10;
  pid_t kill_pid = 0;  // confirm_kill target
  std::string kill_name;
  bool replay = false;  // processes are not on this machine
  std::string message;  // one-line status (export path, errors)
};

// What the app must do after a key.
struct Command {
  enum class Kind {
    none,
    redraw,
    rebuild,
    quit,
    export_view,
    copy,
    kill,
    resume,
    reload_blacklist,
    toggle_recording,
  };
  Command() = default;
  Command(Kind k) : kind(k) {}  // NOLINT(google-explicit-constructor): `return {Kind::x};`
  Kind kind = Kind::none;
  std::string text;  // copy: the text
  pid_t pid = 0;     // kill, toggle_recording: the target
};

// The table the selection keys act on (none while a detail view is open).
Table active_table(const UiState& s);
// Screens in Tab order for the current terminal.
std::vector<Screen> screens(const UiState& s);
// Keeps the screen valid when the terminal shrinks below the overview size.
void fit_screen(UiState& s);

Command handle_key(UiState& s, int k, const Frame& f);
// A click on row `row` (0-based within the visible rows) of table t.
Command handle_click(UiState& s, Table t, std::size_t row, const Frame& f);
// Wheel: +1 down, -1 up (three rows a notch).
Command handle_wheel(UiState& s, int direction, const Frame& f);

// After a rebuild: find the selected key again (follow mode: select the top row), keep
// the index in range and the selected row on screen.
void sync_selection(UiState& s, const Frame& f);

// The filter text changed: parse it; on a syntax error apply nothing.
void apply_filter_text(UiState& s);

// The tables the current screen shows (ModelOptions::tables).
void tables_on_screen(const UiState& s, bool (&out)[kTables]);

// The text of the focused row's remote address, for `c` (empty when there is none).
std::string remote_of_selection(const UiState& s, const Frame& f);

}  // namespace netscope::tui
