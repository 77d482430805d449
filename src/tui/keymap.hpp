#pragma once
// Every key of the TUI with what it does: the help overlay prints this table and a unit
// test checks that README.md documents each entry, so the three cannot drift apart.

#include <array>
#include <string_view>

namespace netscope::tui {

struct KeyHelp {
  std::string_view keys;
  std::string_view action;
};

inline constexpr std::array<KeyHelp, 23> kKeyHelp{{
    {"q", "quit; press twice to confirm"},
    {"Ctrl-C", "quit now"},
    {"Tab / Shift-Tab", "next / previous view (in a process detail: switch lists)"},
    {"↑ ↓ j k", "move the selection"},
    {"g G", "first / last row"},
    {"PgUp PgDn", "page up / down"},
    {"Enter", "open the detail view"},
    {"Esc", "back, or clear the filter"},
    {"/", "live filter; keep navigating while typing (Enter: done)"},
    {"s / S", "cycle the sort column / flip the direction"},
    {"p", "service names <-> port numbers"},
    {"Space", "pause / resume"},
    {"f", "follow mode: keep the top row selected"},
    {"t", "rates <-> cumulative totals"},
    {"c", "copy the remote address to the clipboard (OSC 52)"},
    {"e", "export the current view to a JSON file in --export-dir"},
    {"x", "send SIGTERM to the selected process (asks y/n)"},
    {"L", "reload the --blacklist files"},
    {"R", "start / stop recording the selected process to a pcapng file in --pcap-dir"},
    {"? h", "this help"},
    {"mouse", "click to select, wheel to scroll"},
    {"Home End", "first / last row"},
    {"Ctrl-U", "clear the filter text while typing"},
}};

// Footer hints, most useful first; the footer keeps as many as fit.
struct KeyHint {
  std::string_view key;
  std::string_view label;
};

inline constexpr std::array<KeyHint, 12> kFooterHints{{
    {"q", "quit"},
    {"?", "help"},
    {"/", "filter"},
    {"Tab", "view"},
    {"Enter", "detail"},
    {"s", "sort"},
    {"Space", "pause"},
    {"t", "totals"},
    {"f", "follow"},
    {"p", "ports"},
    {"e", "export"},
    {"x", "kill"},
}};

}  // namespace netscope::tui
