// The compact columns of the SnapshotIndex (sort keys of every connections column, the
// owners, the connections of a process or remote), the index parts made apart on the
// preparer thread (build_parts + adopt), and FrameKeeper, which waits for those parts
// instead of making them on the UI thread. Each is checked against a plain oracle: a
// comparison written here from the column's rules, a linear scan, a lazily built index.

#include "tui/frames.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "tui/filter.hpp"
#include "tui/model.hpp"
#include "tui/state.hpp"
#include "tui_fixture.hpp"

namespace netscope::tui {
namespace {

using monitor::ConnectionRecord;

// Random rows with every shape the sort keys handle: mixed case, texts longer than eight
// bytes, empty texts, IPv4 and IPv6 on both ends, host names on some remotes, missing
// pids and RTTs.
std::shared_ptr<monitor::Snapshot> random_snapshot(std::uint64_t seed, std::size_t n) {
  auto s = std::make_shared<monitor::Snapshot>();
  s->time = testing::kNow;
  static constexpr std::array<const char*, 7> kText{
      "ESTABLISHED", "established", "Established-and-more", "", "a", "B", "SYN_SENT"};
  static constexpr std::array<const char*, 5> kAddr{"10.0.0.1", "10.0.0.2", "::1", "fe80::1",
                                                    "2001:db8::7"};
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t r = next();
    std::optional<pid_t> pid;
    if (r % 4 != 0) pid = static_cast<pid_t>(100 + (r >> 3) % 7);
    auto c = testing::conn(kAddr[(r >> 5) % kAddr.size()], static_cast<std::uint16_t>(r >> 20),
                           static_cast<std::uint16_t>((r >> 36) % 5), static_cast<double>(r % 9),
                           static_cast<double>((r >> 8) % 9), pid, kText[(r >> 11) % kText.size()]);
    c.local_addr = testing::ip(kAddr[(r >> 14) % kAddr.size()]);
    c.proto_name = kText[(r >> 17) % kText.size()];
    c.state = kText[(r >> 23) % kText.size()];
    c.service = kText[(r >> 26) % kText.size()];
    if ((r >> 29) % 3 == 0) c.dpi.edit().sni = kText[(r >> 31) % kText.size()];
    if ((r >> 33) % 3 == 0) c.dpi.edit().http_host = kText[(r >> 35) % kText.size()];
    c.dpi.edit().app = kText[(r >> 38) % kText.size()];
    if ((r >> 41) % 2 == 0) c.remote_host = kText[(r >> 43) % kText.size()];
    if ((r >> 46) % 3 != 0) c.rtt_ms = static_cast<double>((r >> 48) % 5) * 0.5;
    c.kernel_state = kText[(r >> 51) % kText.size()];
    c.country = (r >> 54) % 2 == 0 ? "DE" : "us";
    s->connections.push_back(std::move(c));
  }
  s->processes.push_back(testing::proc("p", 100, 1, 1));
  s->processes.push_back(testing::proc("q", 101, 1, 1));
  s->remotes.push_back(testing::remote("10.0.0.1", "", 1, 1));
  s->remotes.push_back(testing::remote("::1", "", 1, 1));
  return s;
}

// The column rules, written out: text case-insensitively then bytewise; the local end by
// address then port; the remote end host names first (A-Z), then addresses, then port;
// the process attributed first, by name, then pid; unknown RTT below every measured one.
int text_order(std::string_view a, std::string_view b) {
  std::string la(a);
  std::string lb(b);
  for (char& c : la) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : lb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (la != lb) return la < lb ? -1 : 1;
  if (a != b) return a < b ? -1 : 1;
  return 0;
}

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

std::string_view app_host_of(const ConnectionRecord& c) {
  if (!c.dpi->sni.empty()) return c.dpi->sni;
  if (!c.dpi->http_host.empty()) return c.dpi->http_host;
  return c.dpi->app;
}

int column_order(ColumnId col, const ConnectionRecord& a, const ConnectionRecord& b) {
  switch (col) {
    case ColumnId::proto:
      return text_order(a.proto_name, b.proto_name);
    case ColumnId::state:
      return text_order(a.state, b.state);
    case ColumnId::service:
      return text_order(a.service, b.service);
    case ColumnId::app_host:
      return text_order(app_host_of(a), app_host_of(b));
    case ColumnId::process:
      if (a.pid.has_value() != b.pid.has_value()) return a.pid ? -1 : 1;
      if (int c = text_order(a.process, b.process)) return c;
      return three_way(a.pid.value_or(0), b.pid.value_or(0));
    case ColumnId::local:
      if (int c = three_way(a.local_addr, b.local_addr)) return c;
      return three_way(a.local_port, b.local_port);
    case ColumnId::remote: {
      const bool ha = !a.remote_host.empty();
      const bool hb = !b.remote_host.empty();
      if (ha != hb) return ha ? -1 : 1;
      if (ha) {
        if (int c = text_order(a.remote_host, b.remote_host)) return c;
      }
      if (int c = three_way(a.remote_addr, b.remote_addr)) return c;
      return three_way(a.remote_port, b.remote_port);
    }
    case ColumnId::rtt:
      if (a.rtt_ms.has_value() != b.rtt_ms.has_value()) return a.rtt_ms ? 1 : -1;
      return three_way(a.rtt_ms.value_or(0), b.rtt_ms.value_or(0));
    default:
      return 0;
  }
}

Frame sorted_frame(std::shared_ptr<const monitor::Snapshot> snap, ColumnId col, bool desc,
                   const Filter& filter = {}) {
  SortSpec sorts[kTables] = {default_sort(Table::processes), default_sort(Table::connections),
                             default_sort(Table::remotes)};
  const auto& cols = columns(Table::connections);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].id == col) sorts[1] = {i, desc};
  }
  return build_frame(std::move(snap), filter, sorts, ModelOptions{});
}

TEST(TuiColumnKeys, every_connections_column_sorts_by_its_rules) {
  // 20,000 rows: the lazy path (a sampled threshold, then a screenful) and the full sort.
  for (std::size_t n : {std::size_t{3000}, std::size_t{20'000}}) {
    const auto snap = random_snapshot(n, n);
    for (ColumnId col : {ColumnId::proto, ColumnId::local, ColumnId::remote, ColumnId::state,
                         ColumnId::service, ColumnId::app_host, ColumnId::process, ColumnId::rtt}) {
      for (bool desc : {false, true}) {
        const Frame f = sorted_frame(snap, col, desc);
        ASSERT_EQ(f.connections.size(), n);
        // The first screenful as the frame gives it, then every row.
        for (std::size_t i = 1; i < 512; ++i) {
          int c = column_order(col, *f.connections[i - 1], *f.connections[i]);
          ASSERT_LE(desc ? -c : c, 0) << "column " << static_cast<int>(col) << " row " << i;
        }
        f.ensure_sorted(n);
        for (std::size_t i = 1; i < n; ++i) {
          int c = column_order(col, *f.connections[i - 1], *f.connections[i]);
          ASSERT_LE(desc ? -c : c, 0) << "column " << static_cast<int>(col) << " row " << i;
        }
      }
    }
  }
}

TEST(TuiColumnKeys, a_filtered_frame_sorts_its_rows_the_same_way) {
  const auto snap = random_snapshot(5, 20'000);
  const auto filter = Filter::parse("!state:syn", nullptr);
  ASSERT_TRUE(filter.has_value());
  const Frame f = sorted_frame(snap, ColumnId::remote, false, *filter);
  f.ensure_sorted(f.connections.size());
  ASSERT_GT(f.connections.size(), 0u);
  for (std::size_t i = 1; i < f.connections.size(); ++i) {
    ASSERT_LE(column_order(ColumnId::remote, *f.connections[i - 1], *f.connections[i]), 0) << i;
    ASSERT_TRUE(filter->matches(*f.connections[i]));
  }
}

TEST(TuiIndexColumns, connections_of_a_pid_or_an_address_and_find_match_a_scan) {
  const auto snap = random_snapshot(9, 4000);
  const SnapshotIndex index(snap);
  for (std::optional<pid_t> pid : {std::optional<pid_t>{}, std::optional<pid_t>{100},
                                   std::optional<pid_t>{106}, std::optional<pid_t>{999}}) {
    std::vector<const ConnectionRecord*> want;
    for (const auto& c : snap->connections) {
      if (c.pid == pid) want.push_back(&c);
    }
    EXPECT_EQ(index.connections_of(pid), want);
  }
  for (const char* a : {"10.0.0.1", "fe80::1", "192.0.2.1"}) {
    std::vector<const ConnectionRecord*> want;
    for (const auto& c : snap->connections) {
      if (c.remote_addr == testing::ip(a)) want.push_back(&c);
    }
    EXPECT_EQ(index.connections_to(testing::ip(a)), want) << a;
  }
  for (std::size_t j = 0; j < snap->connections.size(); j += 97) {
    const ConnectionRecord* found = index.find_connection(key_of(snap->connections[j]));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(key_of(*found), key_of(snap->connections[j]));
  }
  RowKey absent = key_of(snap->connections[0]);
  absent.remote_port = 65535;
  absent.local_port = 1;
  EXPECT_EQ(index.find_connection(absent), nullptr);
}

TEST(TuiIndexParts, parts_built_apart_equal_the_lazily_built_ones) {
  const auto snap = random_snapshot(3, 3000);
  const SnapshotIndex lazy(snap);
  const SnapshotIndex adopted(snap);
  const IndexParts all = adopted.missing(Filter{}, true);
  EXPECT_TRUE(all.text);
  EXPECT_NE(all.fields, 0u);
  adopted.adopt(build_parts(snap, all));
  EXPECT_TRUE(adopted.missing(Filter{}, true).empty());
  // Parts of another snapshot are ignored.
  const SnapshotIndex other(random_snapshot(4, 10));
  other.adopt(build_parts(snap, other.missing(Filter{}, true)));
  EXPECT_FALSE(other.missing(Filter{}, true).empty());
  for (std::uint32_t f = 0; f < FieldValues::kCount; ++f) {
    const auto field = static_cast<FieldValues::Field>(f);
    const FieldValues& a = lazy.field(field);
    const FieldValues& b = adopted.field(field);
    ASSERT_EQ(a.ids.size(), snap->connections.size());
    ASSERT_EQ(b.ids.size(), snap->connections.size());
    for (std::size_t j = 0; j < snap->connections.size(); ++j) {
      ASSERT_EQ(a.values[a.ids[j]], FieldValues::of(snap->connections[j], field)) << f;
      ASSERT_EQ(b.values[b.ids[j]], FieldValues::of(snap->connections[j], field)) << f;
    }
  }
  for (const char* text : {"establ", "10.0.0", "a", "state:syn host:b", "!country:de"}) {
    const auto filter = Filter::parse(text, nullptr);
    ASSERT_TRUE(filter.has_value());
    Filter::BareHits ha = filter->bare_hits(lazy.text());
    Filter::BareHits hb = filter->bare_hits(adopted.text());
    filter->field_hits(lazy, ha);
    filter->field_hits(adopted, hb);
    EXPECT_EQ(ha, hb) << text;
  }
}

TEST(TuiFrameKeeper, waits_for_the_parts_a_filter_needs_then_shows_its_rows) {
  const auto snap = random_snapshot(11, 3000);
  UiState s;
  s.screen = Screen::connections;
  tables_on_screen(s, s.model.tables);
  FrameKeeper keeper;
  keeper.set_index(std::make_shared<const SnapshotIndex>(snap));
  std::optional<PartsRequest> request;
  ASSERT_TRUE(keeper.update(s, {}, &request));
  EXPECT_FALSE(request.has_value());  // no filter: nothing to ask for
  EXPECT_EQ(keeper.frame().connections.size(), 3000u);

  // Typing: `/` asks for every part at once.
  handle_key(s, '/', keeper.frame());
  EXPECT_FALSE(keeper.update(s, {}, &request));
  ASSERT_TRUE(request.has_value());
  EXPECT_TRUE(request->which.text);
  const PartsRequest asked = *request;
  request.reset();
  // A bare word before they arrive: the last frame stays, marked as waiting, and nothing
  // is asked twice.
  const Command c = handle_key(s, 'a', keeper.frame());
  ASSERT_EQ(c.kind, Command::Kind::rebuild);
  keeper.request_rebuild();
  EXPECT_FALSE(keeper.update(s, {}, &request));
  EXPECT_TRUE(keeper.waiting());
  EXPECT_FALSE(request.has_value());
  EXPECT_EQ(keeper.frame().connections.size(), 3000u);
  // The parts arrive: the frame is the filter's, as a frame built directly would be.
  keeper.adopt(std::make_unique<BuiltParts>(build_parts(asked.snapshot, asked.which)));
  EXPECT_TRUE(keeper.update(s, {}, &request));
  EXPECT_FALSE(keeper.waiting());
  EXPECT_FALSE(request.has_value());
  const Frame direct = build_frame(snap, s.filter, s.sort, s.model);
  ASSERT_EQ(keeper.frame().connections.size(), direct.connections.size());
  EXPECT_LT(direct.connections.size(), 3000u);
  direct.ensure_sorted(direct.connections.size());
  keeper.frame().ensure_sorted(direct.connections.size());
  for (std::size_t i = 0; i < direct.connections.size(); ++i) {
    ASSERT_EQ(keeper.frame().connections[i], direct.connections[i]) << i;
  }
}

TEST(TuiFrameKeeper, builds_at_once_without_a_preparer_or_for_a_table_never_built) {
  const auto snap = random_snapshot(12, 500);
  UiState s;
  s.screen = Screen::connections;
  s.filter_text = "establ";
  apply_filter_text(s);
  tables_on_screen(s, s.model.tables);
  FrameKeeper keeper;
  keeper.set_index(std::make_shared<const SnapshotIndex>(snap));
  // The table is not built yet: built now, whatever the index lacks.
  std::optional<PartsRequest> request;
  EXPECT_TRUE(keeper.update(s, {}, &request));
  EXPECT_TRUE(request.has_value());
  EXPECT_TRUE(keeper.frame().built[1]);
  // Without a preparer (no request slot), a rebuild is never deferred.
  FrameKeeper alone;
  alone.set_index(std::make_shared<const SnapshotIndex>(snap));
  EXPECT_TRUE(alone.update(s, {}, nullptr));
  EXPECT_EQ(alone.frame().connections.size(), keeper.frame().connections.size());
}

}  // namespace
}  // namespace netscope::tui
