#pragma once
// Draws one frame of the TUI into an ncurses window: header, the tables of the current
// screen (or a detail view), the help overlay and the footer. It only writes into the
// window; the caller decides when to refresh, so ncurses sends the terminal only the cells
// that changed. No state of its own besides the color set-up.

#include <string>

#include "tui/layout.hpp"
#include "tui/model.hpp"
#include "tui/state.hpp"

typedef struct _win_st WINDOW;  // NOLINT: ncurses' own typedef

namespace netscope::tui {

struct Style {
  bool color = true;    // NO_COLOR / --no-color turn it off: selection in reverse video
  bool unicode = true;  // a UTF-8 locale: box drawing, arrows, sparkline blocks, "…"
};

class Renderer {
 public:
  explicit Renderer(Style style) : style_(style) {}
  // After initscr()/newterm(): sets up color pairs (256 colors when the terminal has them,
  // else the 8 basic ones); turns color off when the terminal has none.
  void init_colors();
  // Draws the whole frame. Updates the scroll positions and page sizes in `s` for the
  // rows that fit.
  void draw(WINDOW* win, UiState& s, const Frame& f);
  const Style& style() const { return style_; }

 private:
  Style style_;
};

// The text of the header row, cut to `width` (exposed for the tests).
std::string header_text(const UiState& s, const Frame& f, int width, bool unicode);
// The footer's key hints that fit in `width`.
std::string footer_hints(int width);
// A sparkline of the last `width` points of `history` (up + down), scaled to its maximum.
std::string sparkline(const std::vector<monitor::RatePoint>& history, int width, bool unicode);

}  // namespace netscope::tui
