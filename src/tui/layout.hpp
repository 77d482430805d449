#pragma once
// Where things go on the screen for a given terminal size: the header row, the footer row
// and one rectangle per table shown. Pure arithmetic, so the adaptation from 200x60 down
// to 40x10 is tested without a terminal.

#include <array>

#include "tui/model.hpp"
#include "tui/state.hpp"

namespace netscope::tui {

struct Rect {
  int y = 0;
  int x = 0;
  int h = 0;
  int w = 0;
  bool empty() const { return h <= 0 || w <= 0; }
};

struct ScreenLayout {
  Rect header;
  Rect body;
  Rect footer;
  std::array<Rect, kTables> panes{};  // empty when that table is not shown
};

// bandwhich's overview (processes | remotes over connections) needs this much.
inline constexpr int kOverviewMinWidth = 120;
inline constexpr int kOverviewMinHeight = 30;

// Updates s.overview_allowed for the size and moves off the overview if it must.
void adapt_to_size(UiState& s, int width, int height);
ScreenLayout compute_layout(const UiState& s, int width, int height);

// A pane holds a title row and a column header row above its rows.
inline int pane_rows(const Rect& r) {
  return r.h > 2 ? r.h - 2 : 0;
}

}  // namespace netscope::tui
