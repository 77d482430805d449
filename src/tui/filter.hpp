#pragma once
// Filter: the TUI's live filter language (README "TUI filter language"), parsed once when
// the user edits the filter and then matched against every row of every frame.
//
//   firefox port:443 !state:time_wait dst:10.0.0.0/8 sni:/goog(le)?\.com$/
//
// Terms separated by spaces are ANDed. A bare word is a case-insensitive substring of any
// field of the row; `key:value` tests one field; a leading `!` negates a term; a value in
// slashes is an ECMAScript regex (case-insensitive); a value in double quotes may hold
// spaces. parse() never throws: a bad filter yields nullopt and a FilterError naming the
// byte offset of the culprit.
//
// Matching is cheap by design (the TUI filters 100,000 connections per frame): needles are
// lowercased once at parse time, numbers, addresses and networks are parsed once, and a
// substring match neither allocates nor formats numbers or addresses unless the needle
// could occur in them. A regex term remembers its answer per distinct field text (bounded
// memo), since std::regex costs microseconds per search and the fields repeat. A Filter is
// immutable after parse(); copies share the parsed terms, and matching from several
// threads at once is safe.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "monitor/snapshot.hpp"

namespace netscope::tui {

struct FilterError {
  std::size_t offset = 0;  // byte offset into the filter text
  std::string message;
};

class Filter {
 public:
  Filter() = default;  // matches everything
  // nullopt and *error (when given) on a syntax error. An all-blank text is the empty filter.
  static std::optional<Filter> parse(std::string_view text, FilterError* error);

  bool empty() const;
  bool matches(const monitor::ConnectionRecord& c) const;
  // Process / remote rows: terms on fields the row lacks are tested against its connections
  // (true if any matches).
  bool matches(const monitor::ProcessRecord& p,
               std::span<const monitor::ConnectionRecord* const> conns) const;
  bool matches(const monitor::RemoteRecord& r,
               std::span<const monitor::ConnectionRecord* const> conns) const;

  // Whether some term needs the row's connections to decide a process / remote row (so a
  // caller may skip gathering them when it does not).
  bool process_needs_connections() const;
  bool remote_needs_connections() const;
  bool needs_connections() const;  // either of the two
  // The text the filter was parsed from (empty for the default filter).
  const std::string& text() const;

  struct Program;  // the parsed terms (filter.cpp)

 private:
  std::shared_ptr<const Program> program_;  // null: matches everything; shared: cheap copies
};

}  // namespace netscope::tui
