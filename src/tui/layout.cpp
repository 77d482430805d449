#include "tui/layout.hpp"

#include <algorithm>

namespace netscope::tui {

namespace {

bool shows(const UiState& s, Table t) {
  return std::find(s.tables.begin(), s.tables.end(), t) != s.tables.end();
}

}  // namespace

void adapt_to_size(UiState& s, int width, int height) {
  s.overview_allowed =
      width >= kOverviewMinWidth && height >= kOverviewMinHeight && s.tables.size() > 1;
  fit_screen(s);
}

ScreenLayout compute_layout(const UiState& s, int width, int height) {
  ScreenLayout l;
  width = std::max(width, 0);
  height = std::max(height, 0);
  if (height >= 1) l.header = {0, 0, 1, width};
  if (height >= 2) l.footer = {height - 1, 0, 1, width};
  if (height >= 3) l.body = {1, 0, height - 2, width};
  if (l.body.empty()) return l;
  const Rect b = l.body;
  if (s.screen != Screen::overview) {
    const Table t = active_table(s);
    l.panes[static_cast<std::size_t>(t)] = b;
    return l;
  }
  const bool p = shows(s, Table::processes);
  const bool c = shows(s, Table::connections);
  const bool r = shows(s, Table::remotes);
  // Top half: processes | remotes; bottom: connections (bandwhich's arrangement).
  int top_h = (p || r) ? (c ? b.h / 2 : b.h) : 0;
  const int bottom_h = b.h - top_h;
  if (p && r) {
    const int left_w = b.w * 55 / 100;
    l.panes[0] = {b.y, b.x, top_h, left_w};
    l.panes[2] = {b.y, b.x + left_w + 1, top_h, b.w - left_w - 1};
  } else if (p) {
    l.panes[0] = {b.y, b.x, top_h, b.w};
  } else if (r) {
    l.panes[2] = {b.y, b.x, top_h, b.w};
  }
  if (c) l.panes[1] = {b.y + top_h, b.x, bottom_h, b.w};
  return l;
}

}  // namespace netscope::tui
