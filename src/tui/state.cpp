#include "tui/state.hpp"

#include <algorithm>

#include "tui/detail.hpp"

namespace netscope::tui {

namespace {

std::size_t table_index(Table t) {
  return static_cast<std::size_t>(t);
}

Screen screen_of(Table t) {
  switch (t) {
    case Table::processes:
      return Screen::processes;
    case Table::connections:
      return Screen::connections;
    case Table::remotes:
      return Screen::remotes;
  }
  return Screen::processes;
}

void append_utf8(std::string& s, int cp) {
  const auto u = static_cast<unsigned>(cp);
  if (u < 0x80) {
    s += static_cast<char>(u);
  } else if (u < 0x800) {
    s += static_cast<char>(0xC0 | (u >> 6));
    s += static_cast<char>(0x80 | (u & 0x3F));
  } else if (u < 0x10000) {
    s += static_cast<char>(0xE0 | (u >> 12));
    s += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (u & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (u >> 18));
    s += static_cast<char>(0x80 | ((u >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (u & 0x3F));
  }
}

void pop_utf8(std::string& s) {
  while (!s.empty()) {
    const auto c = static_cast<unsigned char>(s.back());
    s.pop_back();
    if ((c & 0xC0) != 0x80) break;  // stop after the lead byte
  }
}

void keep_visible(TableSelection& sel, std::size_t rows, std::size_t page) {
  if (page == 0) page = 1;
  if (rows == 0) {
    sel.index = 0;
    sel.scroll = 0;
    return;
  }
  sel.index = std::min(sel.index, rows - 1);
  if (sel.index < sel.scroll) sel.scroll = sel.index;
  if (sel.index >= sel.scroll + page) sel.scroll = sel.index - page + 1;
  const std::size_t max_scroll = rows > page ? rows - page : 0;
  sel.scroll = std::min(sel.scroll, max_scroll);
}

// Moves the selection of the focused table (or detail list) by `delta` rows, or to the
// first / last row.
enum class Move { by, first, last };

std::size_t moved(std::size_t index, std::size_t rows, Move how, long delta) {
  if (rows == 0) return 0;
  switch (how) {
    case Move::first:
      return 0;
    case Move::last:
      return rows - 1;
    case Move::by:
      break;
  }
  const long target = static_cast<long>(index) + delta;
  if (target < 0) return 0;
  return std::min(static_cast<std::size_t>(target), rows - 1);
}

Command move_selection(UiState& s, const Frame& f, Move how, long delta) {
  if (!s.detail.empty()) {
    DetailLevel& d = s.detail.back();
    if (d.table == Table::connections) {
      // The connection detail scrolls its lines; the renderer clamps the end.
      if (how == Move::first) {
        d.scroll = 0;
      } else if (how == Move::last) {
        d.scroll = static_cast<std::size_t>(-1) / 2;
      } else {
        const long t = static_cast<long>(d.scroll) + delta;
        d.scroll = t < 0 ? 0 : static_cast<std::size_t>(t);
      }
      return {Command::Kind::redraw};
    }
    const std::size_t rows =
        d.focus == 0 ? detail_connections(f, d).size() : detail_dns(f, d).size();
    std::size_t& idx = d.index[d.focus == 0 ? 0 : 1];
    idx = moved(idx, rows, how, delta);
    return {Command::Kind::redraw};
  }
  const Table t = active_table(s);
  TableSelection& sel = s.selection[table_index(t)];
  const std::size_t rows = f.rows(t);
  sel.index = moved(sel.index, rows, how, delta);
  sel.key = f.key_at(t, sel.index);
  if (s.follow && sel.index != 0) {
    s.follow = false;
    s.message = "follow off";
  }
  keep_visible(sel, rows, s.page_rows);
  return {Command::Kind::redraw};
}

Command open_detail(UiState& s, const Frame& f) {
  DetailLevel level;
  if (!s.detail.empty()) {
    const DetailLevel& d = s.detail.back();
    if (d.table == Table::connections || d.focus != 0) return {};
    const auto conns = detail_connections(f, d);
    if (d.index[0] >= conns.size()) return {};
    level.table = Table::connections;
    level.key = key_of(*conns[d.index[0]]);
  } else {
    const Table t = active_table(s);
    const TableSelection& sel = s.selection[table_index(t)];
    if (sel.index >= f.rows(t)) return {};
    level.table = t;
    level.key = f.key_at(t, sel.index);
  }
  s.detail.push_back(level);
  return {Command::Kind::redraw};
}

// The process a `x` would signal: the selected process, or the owner of the selected
// connection.
std::optional<std::pair<pid_t, std::string>> selected_process(const UiState& s, const Frame& f) {
  const monitor::ProcessRecord* p = nullptr;
  const monitor::ConnectionRecord* c = nullptr;
  if (!s.detail.empty()) {
    const DetailLevel& d = s.detail.back();
    if (d.table == Table::processes) p = f.process(d.key);
    if (d.table == Table::connections) c = f.connection(d.key);
  } else {
    const Table t = active_table(s);
    const std::size_t i = s.selection[table_index(t)].index;
    if (t == Table::processes && i < f.processes.size()) p = f.processes[i];
    if (t == Table::connections && i < f.connections.size()) {
      f.ensure_sorted(i, i + 1);
      c = f.connections[i];
    }
  }
  if (p != nullptr && p->pid) return std::make_pair(*p->pid, p->name);
  if (c != nullptr && c->pid) return std::make_pair(*c->pid, c->process);
  return std::nullopt;
}

Command cycle_screen(UiState& s, int step) {
  const std::vector<Screen> all = screens(s);
  if (all.empty()) return {};
  std::size_t i = 0;
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (all[k] == s.screen) i = k;
  }
  const std::size_t n = all.size();
  i = (i + n + static_cast<std::size_t>(step < 0 ? n - 1 : 1)) % n;
  s.screen = all[i];
  s.overview_forced_off = false;  // the user chose a view
  return {Command::Kind::redraw};
}

Command filter_key(UiState& s, int k, const Frame& f) {
  switch (k) {
    case key::enter:
      s.mode = Mode::normal;
      return {Command::Kind::redraw};
    case key::escape:
      s.mode = Mode::normal;
      s.filter_text.clear();
      apply_filter_text(s);
      return {Command::Kind::rebuild};
    case key::backspace:
      pop_utf8(s.filter_text);
      apply_filter_text(s);
      return {Command::Kind::rebuild};
    case key::ctrl_u:
      s.filter_text.clear();
      apply_filter_text(s);
      return {Command::Kind::rebuild};
    case key::ctrl_c:
      return {Command::Kind::quit};
    // Navigation keeps working while typing.
    case key::up:
      return move_selection(s, f, Move::by, -1);
    case key::down:
      return move_selection(s, f, Move::by, 1);
    case key::page_up:
      return move_selection(s, f, Move::by, -static_cast<long>(s.page_rows));
    case key::page_down:
      return move_selection(s, f, Move::by, static_cast<long>(s.page_rows));
    case key::home:
      return move_selection(s, f, Move::first, 0);
    case key::end:
      return move_selection(s, f, Move::last, 0);
    case key::tab:
      return cycle_screen(s, 1);
    case key::back_tab:
      return cycle_screen(s, -1);
    default:
      break;
  }
  if (k >= 0x20 && k != 0x7f && k < key::kBase) {
    append_utf8(s.filter_text, k);
    apply_filter_text(s);
    return {Command::Kind::rebuild};
  }
  return {};
}

}  // namespace

Table active_table(const UiState& s) {
  switch (s.screen) {
    case Screen::overview:
      return s.overview_focus;
    case Screen::processes:
      return Table::processes;
    case Screen::connections:
      return Table::connections;
    case Screen::remotes:
      return Table::remotes;
  }
  return Table::processes;
}

std::vector<Screen> screens(const UiState& s) {
  std::vector<Screen> out;
  if (s.overview_allowed && s.tables.size() > 1) out.push_back(Screen::overview);
  for (Table t : s.tables) out.push_back(screen_of(t));
  return out;
}

void fit_screen(UiState& s) {
  const std::vector<Screen> all = screens(s);
  if (all.empty()) return;
  if (s.overview_forced_off && !all.empty() && all.front() == Screen::overview) {
    s.screen = Screen::overview;
    s.overview_forced_off = false;
  }
  if (std::find(all.begin(), all.end(), s.screen) == all.end()) {
    if (s.screen == Screen::overview) s.overview_forced_off = true;
    // Leaving the overview: keep showing the table that had the focus.
    const Screen want = screen_of(s.overview_focus);
    s.screen = std::find(all.begin(), all.end(), want) != all.end() ? want : all.front();
  }
  if (std::find(s.tables.begin(), s.tables.end(), s.overview_focus) == s.tables.end() &&
      !s.tables.empty()) {
    s.overview_focus = s.tables.front();
  }
}

void apply_filter_text(UiState& s) {
  FilterError err;
  std::optional<Filter> parsed = Filter::parse(s.filter_text, &err);
  if (parsed) {
    s.filter = std::move(*parsed);
    s.filter_error.reset();
  } else {
    s.filter = Filter{};  // a broken filter applies nothing
    s.filter_error = err;
  }
}

void tables_on_screen(const UiState& s, bool (&out)[kTables]) {
  for (bool& b : out) b = false;
  if (s.screen == Screen::overview) {
    for (Table t : s.tables) out[static_cast<std::size_t>(t)] = true;
  } else {
    out[static_cast<std::size_t>(active_table(s))] = true;
  }
}

std::string remote_of_selection(const UiState& s, const Frame& f) {
  if (!s.detail.empty()) {
    const DetailLevel& d = s.detail.back();
    if (d.table == Table::connections) {
      const monitor::ConnectionRecord* c = f.connection(d.key);
      return c != nullptr ? c->remote_addr.to_string() : "";
    }
    if (d.table == Table::remotes) return d.key.remote_addr.to_string();
    const auto conns = detail_connections(f, d);
    if (d.focus == 0 && d.index[0] < conns.size())
      return conns[d.index[0]]->remote_addr.to_string();
    return "";
  }
  const Table t = active_table(s);
  const std::size_t i = s.selection[table_index(t)].index;
  if (t == Table::connections && i < f.connections.size()) {
    f.ensure_sorted(i, i + 1);
    return f.connections[i]->remote_addr.to_string();
  }
  if (t == Table::remotes && i < f.remotes.size()) return f.remotes[i]->addr.to_string();
  return "";
}

Command handle_key(UiState& s, int k, const Frame& f) {
  switch (s.mode) {
    case Mode::help:
      if (k == key::ctrl_c) return {Command::Kind::quit};
      s.mode = Mode::normal;  // any key closes the overlay
      return {Command::Kind::redraw};
    case Mode::confirm_quit:
      if (k == 'q' || k == 'Q' || k == key::ctrl_c) return {Command::Kind::quit};
      s.mode = Mode::normal;
      s.message.clear();
      return {Command::Kind::redraw};
    case Mode::confirm_kill:
      s.mode = Mode::normal;
      if (k == 'y' || k == 'Y') {
        Command c{Command::Kind::kill};
        c.pid = s.kill_pid;
        return c;
      }
      if (k == key::ctrl_c) return {Command::Kind::quit};
      s.message = "not sent";
      return {Command::Kind::redraw};
    case Mode::filter:
      return filter_key(s, k, f);
    case Mode::normal:
      break;
  }
  s.message.clear();
  switch (k) {
    case key::ctrl_c:
      return {Command::Kind::quit};
    case 'q':
    case 'Q':
      s.mode = Mode::confirm_quit;
      s.message = "press q again to quit";
      return {Command::Kind::redraw};
    case key::tab:
    case key::back_tab:
      if (!s.detail.empty()) {
        DetailLevel& d = s.detail.back();
        if (d.table == Table::processes) d.focus = 1 - d.focus;
        return {Command::Kind::redraw};
      }
      return cycle_screen(s, k == key::tab ? 1 : -1);
    case key::up:
    case 'k':
      return move_selection(s, f, Move::by, -1);
    case key::down:
    case 'j':
      return move_selection(s, f, Move::by, 1);
    case 'g':
    case key::home:
      return move_selection(s, f, Move::first, 0);
    case 'G':
    case key::end:
      return move_selection(s, f, Move::last, 0);
    case key::page_up:
      return move_selection(s, f, Move::by,
                            -static_cast<long>(s.detail.empty() ? s.page_rows : s.detail_page));
    case key::page_down:
      return move_selection(s, f, Move::by,
                            static_cast<long>(s.detail.empty() ? s.page_rows : s.detail_page));
    case key::enter:
      return open_detail(s, f);
    case key::escape:
      if (!s.detail.empty()) {
        s.detail.pop_back();
        return {Command::Kind::redraw};
      }
      if (!s.filter_text.empty()) {
        s.filter_text.clear();
        apply_filter_text(s);
        return {Command::Kind::rebuild};
      }
      return {};
    case '/':
      s.mode = Mode::filter;
      return {Command::Kind::redraw};
    case 's':
    case 'S': {
      if (!s.detail.empty()) return {};
      const Table t = active_table(s);
      SortSpec& sort = s.sort[table_index(t)];
      if (k == 's') {
        sort = next_sort(t, sort);
      } else {
        sort.descending = !sort.descending;
      }
      return {Command::Kind::rebuild};
    }
    case 'p':
      s.model.port_numbers = !s.model.port_numbers;
      return {Command::Kind::rebuild};
    case ' ':
      s.paused = !s.paused;
      return {s.paused ? Command::Kind::redraw : Command::Kind::resume};
    case 'f':
      s.follow = !s.follow;
      s.message = s.follow ? "follow on: the top row stays selected" : "follow off";
      return {Command::Kind::rebuild};
    case 't':
      s.model.totals = !s.model.totals;
      return {Command::Kind::rebuild};
    case 'c': {
      Command c{Command::Kind::copy};
      c.text = remote_of_selection(s, f);
      if (c.text.empty()) {
        s.message = "no remote address selected";
        return {Command::Kind::redraw};
      }
      return c;
    }
    case 'e':
      return {Command::Kind::export_view};
    case 'L':
      return {Command::Kind::reload_blacklist};
    case 'R': {
      const auto target = selected_process(s, f);
      if (!target) {
        s.message = "no process selected";
        return {Command::Kind::redraw};
      }
      if (s.replay) {
        s.message = "a --read replay: record with --record-pid instead";
        return {Command::Kind::redraw};
      }
      Command c{Command::Kind::toggle_recording};
      c.pid = target->first;
      c.text = target->second;
      return c;
    }
    case 'x': {
      const auto target = selected_process(s, f);
      if (!target) {
        s.message = "no process selected";
        return {Command::Kind::redraw};
      }
      if (s.replay) {
        s.message = "a --read replay: its processes are not on this machine";
        return {Command::Kind::redraw};
      }
      s.kill_pid = target->first;
      s.kill_name = target->second;
      s.mode = Mode::confirm_kill;
      return {Command::Kind::redraw};
    }
    case '?':
    case 'h':
      s.mode = Mode::help;
      return {Command::Kind::redraw};
    default:
      return {};
  }
}

Command handle_click(UiState& s, Table t, std::size_t row, const Frame& f) {
  if (!s.detail.empty() || s.mode != Mode::normal) return {};
  if (s.screen == Screen::overview) s.overview_focus = t;
  if (active_table(s) != t) return {};
  TableSelection& sel = s.selection[table_index(t)];
  const std::size_t i = sel.scroll + row;
  if (i >= f.rows(t)) return {Command::Kind::redraw};
  sel.index = i;
  sel.key = f.key_at(t, i);
  if (s.follow && i != 0) s.follow = false;
  return {Command::Kind::redraw};
}

Command handle_wheel(UiState& s, int direction, const Frame& f) {
  return move_selection(s, f, Move::by, direction < 0 ? -3 : 3);
}

void sync_selection(UiState& s, const Frame& f) {
  for (std::size_t ti = 0; ti < kTables; ++ti) {
    const auto t = static_cast<Table>(ti);
    TableSelection& sel = s.selection[ti];
    if (!f.built[ti]) continue;  // not on screen: its selection waits
    const std::size_t rows = f.rows(t);
    if (s.follow) {
      sel.index = 0;
    } else if (auto i = f.find(t, sel.key)) {
      sel.index = *i;
    }
    // A row that left (filtered out, closed): stay at its position.
    if (rows > 0) sel.index = std::min(sel.index, rows - 1);
    sel.key = f.key_at(t, sel.index);
    keep_visible(sel, rows, s.page_rows);
  }
}

}  // namespace netscope::tui
