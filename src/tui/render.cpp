#include "tui/render.hpp"

#define NCURSES_WIDECHAR 1
#include <fmt/format.h>
#include <ncursesw/curses.h>

#include <algorithm>
#include <cmath>

#include "tui/detail.hpp"
#include "tui/keymap.hpp"
#include "tui/text.hpp"

namespace netscope::tui {

namespace {

enum Pair : short {
  kHeader = 1,
  kTitle,
  kSelected,
  kWarn,
  kCrit,
  kError,
  kDim,
  kUp,
  kDown,
  kHint,
  kFocusTitle,
};

// ASCII stand-ins when the locale cannot show UTF-8: every code point becomes one cell.
std::string ascii(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    const std::string_view seq = s.substr(i, len);
    if (seq == "…") {
      out += '~';
    } else if (seq == "▲" || seq == "↑") {
      out += '^';
    } else if (seq == "▼" || seq == "↓") {
      out += 'v';
    } else if (seq == "─" || seq == "│") {
      out += seq == "─" ? '-' : '|';
    } else {
      out += '?';
    }
    i += len;
  }
  return out;
}

class Painter {
 public:
  Painter(WINDOW* w, const Style& st) : w_(w), st_(st) {}

  attr_t attr(Pair p) const {
    if (st_.color) {
      attr_t a = COLOR_PAIR(p);
      if (p == kTitle || p == kFocusTitle || p == kError || p == kHeader) a |= A_BOLD;
      if (p == kSelected) a |= A_BOLD;
      return a;
    }
    switch (p) {
      case kHeader:
      case kSelected:
      case kHint:
        return A_REVERSE;
      case kTitle:
      case kError:
        return A_BOLD;
      case kFocusTitle:
        return A_BOLD | A_UNDERLINE;
      case kDim:
        return A_DIM;
      default:
        return A_NORMAL;
    }
  }

  // Writes `text` at (y, x), cut and padded to exactly `width` cells.
  void put(int y, int x, int width, std::string_view text, attr_t a = A_NORMAL,
           bool right = false) {
    if (width <= 0) return;
    std::string s;
    if (right) {
      const std::size_t tw = display_width(text);
      const auto uw = static_cast<std::size_t>(width);
      s = tw >= uw ? fit(text, uw) : std::string(uw - tw, ' ') + sanitize(text);
    } else {
      s = fit(text, static_cast<std::size_t>(width));
    }
    if (!st_.unicode) s = ascii(s);
    wattrset(w_, a);
    mvwaddnstr(w_, y, x, s.c_str(), static_cast<int>(s.size()));
    wattrset(w_, A_NORMAL);
  }

  // A title bar: "── Title ─────".
  void title(int y, int x, int width, std::string_view text, bool focused) {
    if (width <= 0) return;
    const std::string_view bar = st_.unicode ? "─" : "-";
    std::string line;
    line += bar;
    line += bar;
    line += " ";
    line += text;
    line += " ";
    std::size_t w = display_width(line);
    while (w < static_cast<std::size_t>(width)) {
      line += bar;
      ++w;
    }
    put(y, x, width, line, attr(focused ? kFocusTitle : kTitle));
  }

  const Style& style() const { return st_; }
  WINDOW* win() const { return w_; }

 private:
  WINDOW* w_;
  const Style& st_;
};

std::string sort_label(Table t, const SortSpec& s, bool unicode) {
  const auto& cols = columns(t);
  const ColumnSpec& c = cols[std::min(s.column, cols.size() - 1)];
  return fmt::format("sorted by {} {}", c.title,
                     s.descending ? (unicode ? "▼" : "v") : (unicode ? "▲" : "^"));
}

void draw_table(Painter& p, UiState& s, const Frame& f, Table t, const Rect& r, bool focused) {
  if (r.empty()) return;
  const std::size_t ti = static_cast<std::size_t>(t);
  const bool uni = p.style().unicode;
  std::string title = fmt::format("{} ({}", table_title(t), f.rows(t));
  if (f.rows(t) != f.total_rows[ti]) title += fmt::format(" of {}", f.total_rows[ti]);
  title += ") · " + sort_label(t, s.sort[ti], uni);
  if (!s.filter_text.empty()) title += " · filter: " + s.filter_text;
  if (s.filter_pending) title += " (filtering…)";
  if (s.model.totals) title += " · totals";
  p.title(r.y, r.x, r.w, title, focused);
  if (r.h < 2) return;
  const auto placement = layout_columns(t, r.w);
  const auto& cols = columns(t);
  // Column headers, the sort column marked with its arrow.
  p.put(r.y + 1, r.x, r.w, "", p.attr(kDim));
  for (const ColumnPlacement& c : placement) {
    std::string head(cols[c.column].title);
    if (c.column == s.sort[ti].column) {
      head += s.sort[ti].descending ? (uni ? "▼" : "v") : (uni ? "▲" : "^");
    }
    p.put(r.y + 1, r.x + c.x, c.width, head, A_BOLD | A_UNDERLINE, cols[c.column].right_align);
  }
  const int rows = pane_rows(r);
  TableSelection& sel = s.selection[ti];
  const std::size_t n = f.rows(t);
  const auto page = static_cast<std::size_t>(std::max(rows, 1));
  if (focused) s.page_rows = page;
  // Keep the selected row on screen for this pane's height.
  if (n > 0) {
    sel.index = std::min(sel.index, n - 1);
    if (sel.index < sel.scroll) sel.scroll = sel.index;
    if (sel.index >= sel.scroll + page) sel.scroll = sel.index - page + 1;
    sel.scroll = std::min(sel.scroll, n > page ? n - page : 0);
  } else {
    sel.scroll = 0;
  }
  if (t == Table::connections) f.ensure_sorted(sel.scroll, sel.scroll + page);
  const core::Timestamp now = f.snapshot ? f.snapshot->time : core::Timestamp{};
  for (int i = 0; i < rows; ++i) {
    const std::size_t row = sel.scroll + static_cast<std::size_t>(i);
    const int y = r.y + 2 + i;
    if (row >= n) {
      p.put(y, r.x, r.w, "");
      continue;
    }
    attr_t a = A_NORMAL;
    if (t == Table::connections) {
      const int stale = staleness_level(*f.connections[row], now);
      if (stale == 1) a = p.attr(kWarn);
      if (stale == 2) a = p.attr(kCrit);
      // A blacklisted connection (--blacklist) stands out above staleness: bold red.
      if (!f.connections[row]->alert.empty()) a = p.attr(kCrit) | A_BOLD;
    }
    if (t == Table::processes && !f.processes[row]->pid) a = p.attr(kDim);
    const bool selected = row == sel.index && focused;
    if (selected) a = p.attr(kSelected);
    p.put(y, r.x, r.w, "", a);
    for (const ColumnPlacement& c : placement) {
      const ColumnSpec& spec = cols[c.column];
      std::string text;
      if (spec.id == ColumnId::sparkline) {
        text = sparkline(f.processes[row]->history, c.width, uni);
      } else {
        text = cell_text(t, spec.id, f, row, s.model);
        if (spec.id == ColumnId::local || spec.id == ColumnId::remote ||
            spec.id == ColumnId::remote_addr || spec.id == ColumnId::app_host) {
          text = truncate_middle(text, static_cast<std::size_t>(c.width));
        }
      }
      attr_t ca = a;
      if (!selected && a == A_NORMAL && p.style().color) {
        if (spec.id == ColumnId::down) ca = p.attr(kDown);
        if (spec.id == ColumnId::up) ca = p.attr(kUp);
      }
      p.put(y, r.x + c.x, c.width, text, ca, spec.right_align);
    }
  }
}

// A bar graph of one direction, `height` rows, newest point on the right.
void draw_graph(Painter& p, int y, int x, int width, int height,
                const std::vector<monitor::RatePoint>& h, bool up, const ModelOptions& opt,
                Pair color) {
  if (width <= 0 || height <= 0) return;
  double max = 0;
  for (const auto& pt : h) max = std::max(max, up ? pt.up : pt.down);
  static constexpr std::string_view kBlocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static constexpr std::string_view kAscii[] = {" ", ".", ".", ":", ":", "+", "+", "#", "#"};
  const bool uni = p.style().unicode;
  const std::size_t n = std::min(h.size(), static_cast<std::size_t>(width));
  const std::size_t first = h.size() - n;
  for (int row = 0; row < height; ++row) {
    std::string line(static_cast<std::size_t>(width) - n, ' ');
    for (std::size_t i = 0; i < n; ++i) {
      const double v = up ? h[first + i].up : h[first + i].down;
      // Eighths of a cell filled from the bottom row up.
      const double eighths = max > 0 ? v / max * 8.0 * height : 0;
      const double here = eighths - 8.0 * (height - 1 - row);
      const int level = static_cast<int>(std::clamp(std::ceil(here), 0.0, 8.0));
      line += uni ? kBlocks[level] : kAscii[level];
    }
    p.put(y + row, x, width, line, p.attr(color));
  }
  (void)opt;
}

void draw_list(Painter& p, int y, int x, int w, int h, const std::vector<std::string>& lines,
               std::size_t selected, bool focused) {
  if (h <= 0) return;
  const auto page = static_cast<std::size_t>(h);
  std::size_t scroll = 0;
  if (selected >= page) scroll = selected - page + 1;
  for (int i = 0; i < h; ++i) {
    const std::size_t k = scroll + static_cast<std::size_t>(i);
    if (k >= lines.size()) {
      p.put(y + i, x, w, "");
      continue;
    }
    p.put(y + i, x, w, lines[k], focused && k == selected ? p.attr(kSelected) : A_NORMAL);
  }
}

void draw_process_detail(Painter& p, UiState& s, const Frame& f, DetailLevel& d, const Rect& b) {
  const monitor::ProcessRecord* pr = f.process(d.key);
  if (pr == nullptr) {
    p.title(b.y, b.x, b.w, "Process", true);
    p.put(b.y + 1, b.x, b.w, "this process is no longer in the snapshot (Esc: back)");
    for (int y = b.y + 2; y < b.y + b.h; ++y) p.put(y, b.x, b.w, "");
    return;
  }
  p.title(b.y, b.x, b.w,
          pr->pid ? fmt::format("Process {} {}", *pr->pid, pr->name)
                  : "Process " + std::string(kUnknownProcess),
          true);
  int y = b.y + 1;
  const int bottom = b.y + b.h;
  // The two lists keep at least 6 rows; the graph and the info lines give way first.
  const int gh = b.h >= 30 ? 3 : 1;
  const std::vector<std::string> info = process_lines(*pr, f, s.model);
  const bool graph = 1 + static_cast<int>(info.size()) + 2 * gh + 2 + 6 <= b.h;
  const int info_rows = std::max(2, b.h - 1 - 6 - (graph ? 2 * gh + 2 : 0));
  for (std::size_t i = 0; i < info.size() && static_cast<int>(i) < info_rows; ++i) {
    if (y >= bottom) return;
    p.put(y++, b.x, b.w, info[i]);
  }
  // The 60 s graph: down above up.
  if (graph) {
    double max_down = 0;
    double max_up = 0;
    for (const auto& pt : pr->history) {
      max_down = std::max(max_down, pt.down);
      max_up = std::max(max_up, pt.up);
    }
    const int gw = std::min(60, b.w - 16);
    p.put(y, b.x, b.w,
          fmt::format("last {} s  down (max {})", pr->history.size(),
                      format_rate(max_down, s.model.units)),
          p.attr(kTitle));
    ++y;
    draw_graph(p, y, b.x + 2, gw, gh, pr->history, false, s.model, kDown);
    y += gh;
    p.put(y, b.x, b.w, fmt::format("up (max {})", format_rate(max_up, s.model.units)),
          p.attr(kTitle));
    ++y;
    draw_graph(p, y, b.x + 2, gw, gh, pr->history, true, s.model, kUp);
    y += gh;
  }
  if (y + 2 >= bottom) return;
  // Its connections and its DNS history, side by side when wide, else stacked.
  const auto conns = detail_connections(f, d);
  const auto dns = detail_dns(f, d);
  std::vector<std::string> conn_lines;
  conn_lines.reserve(conns.size());
  for (const monitor::ConnectionRecord* c : conns) {
    conn_lines.push_back(fmt::format("{} {} {} {} {}/{}", c->proto_name, remote_text(*c, s.model),
                                     c->state, std::string(app_host(*c)),
                                     s.model.totals ? format_total(c->bytes_down, s.model.units)
                                                    : format_rate(c->rate_down, s.model.units),
                                     s.model.totals ? format_total(c->bytes_up, s.model.units)
                                                    : format_rate(c->rate_up, s.model.units)));
  }
  std::vector<std::string> dns_lines;
  dns_lines.reserve(dns.size());
  for (const monitor::DnsEventRecord* e : dns) dns_lines.push_back(dns_line(*e));
  if (!conns.empty()) d.index[0] = std::min(d.index[0], conns.size() - 1);
  if (!dns.empty()) d.index[1] = std::min(d.index[1], dns.size() - 1);
  const std::string ct =
      fmt::format("Connections ({}){}", conns.size(), d.focus == 0 ? " · Enter: detail" : "");
  const std::string dt = fmt::format("DNS queries ({})", dns.size());
  const int h = bottom - y;
  if (b.w >= 100) {
    const int lw = b.w / 2;
    p.title(y, b.x, lw, ct, d.focus == 0);
    p.title(y, b.x + lw + 1, b.w - lw - 1, dt, d.focus == 1);
    draw_list(p, y + 1, b.x, lw, h - 1, conn_lines, d.index[0], d.focus == 0);
    draw_list(p, y + 1, b.x + lw + 1, b.w - lw - 1, h - 1, dns_lines, d.index[1], d.focus == 1);
    s.detail_page = static_cast<std::size_t>(std::max(1, h - 1));
  } else {
    const int h1 = h / 2;
    p.title(y, b.x, b.w, ct, d.focus == 0);
    draw_list(p, y + 1, b.x, b.w, h1 - 1, conn_lines, d.index[0], d.focus == 0);
    p.title(y + h1, b.x, b.w, dt, d.focus == 1);
    draw_list(p, y + h1 + 1, b.x, b.w, h - h1 - 1, dns_lines, d.index[1], d.focus == 1);
    s.detail_page = static_cast<std::size_t>(std::max(1, h1 - 1));
  }
}

void draw_lines_detail(Painter& p, UiState& s, std::string_view title,
                       const std::vector<std::string>& lines, DetailLevel& d, const Rect& b) {
  p.title(b.y, b.x, b.w, title, true);
  const int h = b.h - 1;
  if (h <= 0) return;
  const auto page = static_cast<std::size_t>(h);
  const std::size_t max_scroll = lines.size() > page ? lines.size() - page : 0;
  d.scroll = std::min(d.scroll, max_scroll);
  s.detail_page = page;
  for (int i = 0; i < h; ++i) {
    const std::size_t k = d.scroll + static_cast<std::size_t>(i);
    p.put(b.y + 1 + i, b.x, b.w, k < lines.size() ? lines[k] : "");
  }
}

void draw_remote_detail(Painter& p, UiState& s, const Frame& f, DetailLevel& d, const Rect& b) {
  const monitor::RemoteRecord* r = f.remote(d.key);
  p.title(b.y, b.x, b.w, "Remote " + d.key.remote_addr.to_string(), true);
  int y = b.y + 1;
  const int bottom = b.y + b.h;
  if (r == nullptr) {
    p.put(y, b.x, b.w, "this address is no longer in the snapshot (Esc: back)");
    return;
  }
  for (const std::string& line : remote_lines(*r, s.model)) {
    if (y >= bottom) return;
    p.put(y++, b.x, b.w, line);
  }
  if (y + 1 >= bottom) return;
  const auto conns = detail_connections(f, d);
  std::vector<std::string> lines;
  for (const monitor::ConnectionRecord* c : conns) {
    lines.push_back(fmt::format(
        "{} {} -> {} {} {}", c->proto_name,
        endpoint_text(c->local_addr, c->local_port, c->proto, s.model.port_numbers),
        remote_text(*c, s.model), c->state, c->pid ? c->process : std::string(kUnknownProcess)));
  }
  if (!conns.empty()) d.index[0] = std::min(d.index[0], conns.size() - 1);
  p.title(y, b.x, b.w, fmt::format("Connections ({}) · Enter: detail", conns.size()), true);
  draw_list(p, y + 1, b.x, b.w, bottom - y - 1, lines, d.index[0], true);
  s.detail_page = static_cast<std::size_t>(std::max(1, bottom - y - 1));
}

void draw_detail(Painter& p, UiState& s, const Frame& f, const Rect& b) {
  for (int y = b.y; y < b.y + b.h; ++y) p.put(y, b.x, b.w, "");
  DetailLevel& d = s.detail.back();
  switch (d.table) {
    case Table::processes:
      draw_process_detail(p, s, f, d, b);
      return;
    case Table::remotes:
      draw_remote_detail(p, s, f, d, b);
      return;
    case Table::connections: {
      const monitor::ConnectionRecord* c = f.connection(d.key);
      std::vector<std::string> lines;
      if (c == nullptr || !f.snapshot) {
        lines.push_back("this connection is no longer in the snapshot (Esc: back)");
      } else {
        lines = connection_lines(*c, *f.snapshot, s.model);
      }
      draw_lines_detail(p, s, "Connection", lines, d, b);
      return;
    }
  }
}

void draw_help(Painter& p, int width, int height) {
  const int want_w = 72;
  const int w = std::min(width - 2, want_w);
  const int h = std::min(height - 2, static_cast<int>(kKeyHelp.size()) + 3);
  if (w < 10 || h < 3) return;
  const int y0 = (height - h) / 2;
  const int x0 = (width - w) / 2;
  p.title(y0, x0, w, "Keys (any key closes)", true);
  int y = y0 + 1;
  for (const KeyHelp& k : kKeyHelp) {
    if (y >= y0 + h - 1) break;
    p.put(y++, x0, w, fmt::format(" {:<16} {}", std::string(k.keys), k.action), p.attr(kHint));
  }
  p.put(y, x0, w, " Filter: word port:443 !state:closed process:/^curl/ (README)", p.attr(kHint));
  ++y;
  while (y < y0 + h) p.put(y++, x0, w, "", p.attr(kHint));
}

void draw_footer(Painter& p, const UiState& s, const Rect& r) {
  if (r.empty()) return;
  if (s.mode == Mode::filter || (s.filter_error && s.mode == Mode::normal && s.message.empty())) {
    std::string text = "/" + s.filter_text;
    if (s.filter_error) {
      text +=
          "   error at " + std::to_string(s.filter_error->offset) + ": " + s.filter_error->message;
    }
    p.put(r.y, r.x, r.w, text, s.filter_error ? p.attr(kError) : A_NORMAL);
    if (s.mode == Mode::filter) {
      const int cx = static_cast<int>(std::min<std::size_t>(
          display_width(s.filter_text) + 1, static_cast<std::size_t>(std::max(r.w - 1, 0))));
      wmove(p.win(), r.y, r.x + cx);
    }
    return;
  }
  if (s.mode == Mode::confirm_kill) {
    p.put(r.y, r.x, r.w,
          fmt::format("Send SIGTERM to {} ({})? y/n", s.kill_pid, sanitize(s.kill_name)),
          p.attr(kError));
    return;
  }
  if (!s.message.empty()) {
    p.put(r.y, r.x, r.w, s.message, p.attr(kHint));
    return;
  }
  p.put(r.y, r.x, r.w, footer_hints(r.w), p.attr(kHint));
}

}  // namespace

std::string sparkline(const std::vector<monitor::RatePoint>& history, int width, bool unicode) {
  static constexpr std::string_view kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static constexpr char kAscii[] = {'_', '.', ':', '-', '=', '+', '*', '#'};
  if (width <= 0) return "";
  const std::size_t n = std::min(history.size(), static_cast<std::size_t>(width));
  const std::size_t first = history.size() - n;
  double max = 0;
  for (std::size_t i = first; i < history.size(); ++i) {
    max = std::max(max, history[i].up + history[i].down);
  }
  std::string out(static_cast<std::size_t>(width) - n, ' ');
  for (std::size_t i = first; i < history.size(); ++i) {
    const double v = history[i].up + history[i].down;
    if (!(v > 0) || !(max > 0)) {
      out += ' ';
      continue;
    }
    const int level = std::clamp(static_cast<int>(std::ceil(v / max * 8.0)) - 1, 0, 7);
    if (unicode) {
      out += kBlocks[level];
    } else {
      out += kAscii[level];
    }
  }
  return out;
}

std::string footer_hints(int width) {
  std::string out;
  for (const KeyHint& h : kFooterHints) {
    const std::string item = fmt::format("{}{} {}", out.empty() ? "" : "  ", h.key, h.label);
    if (display_width(out) + display_width(item) > static_cast<std::size_t>(std::max(width, 0))) {
      break;
    }
    out += item;
  }
  return out;
}

std::string header_text(const UiState& s, const Frame& f, int width, bool unicode) {
  std::vector<std::string> parts;  // in order of importance; joined left to right
  std::string flags;
  if (s.paused) flags += "[PAUSED] ";
  const monitor::Snapshot* snap = f.snapshot.get();
  if (snap != nullptr && snap->end_of_input) flags += "[END] ";
  std::string out = "netscope " + flags;
  if (snap == nullptr)
    return fit(out + "waiting for the first refresh…",
               static_cast<std::size_t>(std::max(width, 0)));
  const monitor::Totals& t = snap->totals;
  const std::string_view dn = unicode ? "↓" : "down";
  const std::string_view upa = unicode ? "↑" : "up";
  std::string ifaces;
  for (const monitor::InterfaceRecord& i : snap->interfaces) {
    if (!ifaces.empty()) ifaces += ",";
    ifaces += i.name;
    if (!i.up) ifaces += "(down)";
  }
  std::string clock;
  const std::int64_t secs =
      std::max<std::int64_t>(0, (snap->time.ns - snap->started.ns) / 1'000'000'000);
  if (snap->replay) {
    const std::string iso = core::to_rfc3339(snap->time);
    clock = "replay " + iso.substr(0, std::min<std::size_t>(19, iso.size())) + "Z";
  } else {
    clock = fmt::format("up {:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
  }
  parts.push_back(fmt::format("{} {}  {} {}", dn, format_rate(t.rate_down, s.model.units), upa,
                              format_rate(t.rate_up, s.model.units)));
  parts.push_back(clock);
  // Flows the full table (--max-flows) ended early: shown once there are any.
  parts.push_back(t.flows_evicted == 0
                      ? fmt::format("flows {}", t.flows)
                      : fmt::format("flows {} (evicted {})", t.flows, t.flows_evicted));
  parts.push_back(fmt::format("{:.0f} pkt/s", t.packets_per_s));
  parts.push_back(fmt::format("drops {}", t.kernel_drops));
  if (!ifaces.empty()) parts.push_back(ifaces);
  const auto limit = static_cast<std::size_t>(std::max(width, 0));
  for (const std::string& part : parts) {
    const std::string next = out + (out.ends_with(' ') ? "" : "  ") + part;
    if (display_width(next) > limit) continue;
    out = next;
  }
  return fit(out, limit);
}

void Renderer::init_colors() {
  if (!style_.color) return;
  if (!has_colors()) {
    style_.color = false;
    return;
  }
  start_color();
  use_default_colors();
  const bool rich = COLORS >= 256;
  // 256 colors: softer tones; else the 8 basic ones.
  init_pair(kHeader, COLOR_BLACK, rich ? 75 : COLOR_CYAN);
  init_pair(kTitle, rich ? 75 : COLOR_CYAN, -1);
  init_pair(kFocusTitle, rich ? 214 : COLOR_YELLOW, -1);
  init_pair(kSelected, COLOR_BLACK, rich ? 153 : COLOR_WHITE);
  init_pair(kWarn, rich ? 220 : COLOR_YELLOW, -1);
  init_pair(kCrit, rich ? 196 : COLOR_RED, -1);
  init_pair(kError, rich ? 196 : COLOR_RED, -1);
  init_pair(kDim, rich ? 244 : COLOR_WHITE, -1);
  init_pair(kUp, rich ? 114 : COLOR_GREEN, -1);
  init_pair(kDown, rich ? 81 : COLOR_CYAN, -1);
  init_pair(kHint, COLOR_BLACK, rich ? 250 : COLOR_WHITE);
}

void Renderer::draw(WINDOW* win, UiState& s, const Frame& f) {
  int height = 0;
  int width = 0;
  getmaxyx(win, height, width);
  Painter p(win, style_);
  adapt_to_size(s, width, height);
  const ScreenLayout l = compute_layout(s, width, height);
  if (!l.header.empty()) {
    p.put(0, 0, width, header_text(s, f, width, style_.unicode), p.attr(kHeader));
  }
  if (!l.body.empty()) {
    if (!s.detail.empty()) {
      draw_detail(p, s, f, l.body);
    } else {
      // Blank the whole body first: panes may not cover the gaps between them.
      for (int y = l.body.y; y < l.body.y + l.body.h; ++y) p.put(y, 0, width, "");
      for (std::size_t i = 0; i < kTables; ++i) {
        const auto t = static_cast<Table>(i);
        draw_table(p, s, f, t, l.panes[i], active_table(s) == t);
      }
      if (s.screen == Screen::overview && !l.panes[0].empty() && !l.panes[2].empty()) {
        // The divider between processes and remotes.
        for (int y = l.panes[0].y; y < l.panes[0].y + l.panes[0].h; ++y) {
          p.put(y, l.panes[0].x + l.panes[0].w, 1, style_.unicode ? "│" : "|", p.attr(kTitle));
        }
      }
    }
  }
  if (s.mode == Mode::help) draw_help(p, width, height);
  draw_footer(p, s, l.footer);
  if (s.mode != Mode::filter) wmove(win, std::max(height - 1, 0), 0);
}

}  // namespace netscope::tui
