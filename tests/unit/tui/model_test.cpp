#include "tui/model.hpp"

#include <gtest/gtest.h>

#include <set>

#include "tui_fixture.hpp"

namespace netscope::tui {
namespace {

using testing::column_index;
using testing::frame_of;
using testing::sample_snapshot;

std::vector<std::string> process_names(const Frame& f) {
  std::vector<std::string> out;
  for (const auto* p : f.processes) out.push_back(p->name);
  return out;
}

std::vector<std::uint16_t> local_ports(const Frame& f) {
  std::vector<std::uint16_t> out;
  for (const auto* c : f.connections) out.push_back(c->local_port);
  return out;
}

Frame sorted(std::shared_ptr<const monitor::Snapshot> s, Table t, ColumnId col, bool desc,
             const ModelOptions& opt = {}) {
  SortSpec sorts[kTables] = {default_sort(Table::processes), default_sort(Table::connections),
                             default_sort(Table::remotes)};
  sorts[static_cast<std::size_t>(t)] = {column_index(t, col), desc};
  return build_frame(std::move(s), Filter{}, sorts, opt);
}

TEST(TuiModel, DefaultSortIsBusiestDownFirst) {
  const Frame f = frame_of(sample_snapshot());
  EXPECT_EQ(process_names(f), (std::vector<std::string>{"curl", "firefox", "<UNKNOWN>"}));
  EXPECT_EQ(local_ports(f), (std::vector<std::uint16_t>{40000, 40001, 40002}));
  ASSERT_EQ(f.remotes.size(), 3u);
  EXPECT_EQ(f.remotes[0]->addr, testing::ip("93.184.216.34"));
}

TEST(TuiModel, UnattributedGroupsFoldIntoOneUnknownRow) {
  const Frame f = frame_of(sample_snapshot());
  ASSERT_EQ(f.processes.size(), 3u);
  const monitor::ProcessRecord* u = f.processes.back();
  EXPECT_FALSE(u->pid.has_value());
  EXPECT_EQ(u->name, "<UNKNOWN>");
  EXPECT_DOUBLE_EQ(u->rate_up, 51);
  EXPECT_EQ(u->unknown_reason, "closed,offline");
  EXPECT_EQ(f.unknown_groups.size(), 2u);
  EXPECT_EQ(f.total_rows[0], 3u);
}

TEST(TuiModel, SortByUpRateBothDirections) {
  Frame f = sorted(sample_snapshot(), Table::connections, ColumnId::up, true);
  EXPECT_EQ(local_ports(f), (std::vector<std::uint16_t>{40001, 40002, 40000}));
  f = sorted(sample_snapshot(), Table::connections, ColumnId::up, false);
  EXPECT_EQ(local_ports(f), (std::vector<std::uint16_t>{40000, 40002, 40001}));
}

TEST(TuiModel, TextColumnsSortCaseInsensitively) {
  auto s = sample_snapshot();
  s->processes[0].name = "Zebra";
  const Frame f = sorted(s, Table::processes, ColumnId::process_name, false);
  EXPECT_EQ(process_names(f), (std::vector<std::string>{"firefox", "Zebra", "<UNKNOWN>"}));
}

TEST(TuiModel, RemoteColumnSortsHostNamesBeforeAddresses) {
  const Frame f = sorted(sample_snapshot(), Table::connections, ColumnId::remote, false);
  // github.com first (a name), then 93.184.216.34 < 192.0.2.7? No: numeric order.
  EXPECT_EQ(local_ports(f), (std::vector<std::uint16_t>{40001, 40000, 40002}));
  ModelOptions numeric;
  numeric.resolve = false;
  const Frame g = sorted(sample_snapshot(), Table::connections, ColumnId::remote, false, numeric);
  // 93.184.216.34 < 140.82.112.3 < 192.0.2.7
  EXPECT_EQ(local_ports(g), (std::vector<std::uint16_t>{40000, 40001, 40002}));
}

TEST(TuiModel, TiesAreBrokenByIdentitySoRowsDoNotSwap) {
  auto s = sample_snapshot();
  for (auto& c : s->connections) c.rate_down = 7;
  const Frame a = sorted(s, Table::connections, ColumnId::down, true);
  const Frame b = sorted(s, Table::connections, ColumnId::down, false);
  EXPECT_EQ(local_ports(a), (std::vector<std::uint16_t>{40000, 40001, 40002}));
  EXPECT_EQ(local_ports(a), local_ports(b));
}

TEST(TuiModel, TotalsModeSortsByBytes) {
  auto s = sample_snapshot();
  s->connections[2].bytes_down = 1'000'000;  // idle now, busiest ever
  ModelOptions opt;
  opt.totals = true;
  const Frame f = sorted(s, Table::connections, ColumnId::down, true, opt);
  EXPECT_EQ(f.connections.front()->local_port, 40002);
}

TEST(TuiModel, UnknownRttSortsBelowMeasured) {
  auto s = sample_snapshot();
  s->connections[0].rtt_ms = 5;
  s->connections[1].rtt_ms = 50;
  const Frame f = sorted(s, Table::connections, ColumnId::rtt, true);
  EXPECT_EQ(local_ports(f), (std::vector<std::uint16_t>{40001, 40000, 40002}));
}

TEST(TuiModel, TopKeepsTheFirstRowsAfterSorting) {
  ModelOptions opt;
  opt.top = 1;
  const Frame f = frame_of(sample_snapshot(), Filter{}, opt);
  ASSERT_EQ(f.connections.size(), 1u);
  EXPECT_EQ(f.connections[0]->local_port, 40000);
  EXPECT_EQ(f.total_rows[1], 3u);
}

TEST(TuiModel, FilterAppliesToEveryTable) {
  FilterError err;
  const auto filter = Filter::parse("firefox", &err);
  ASSERT_TRUE(filter.has_value()) << err.message;
  const Frame f = frame_of(sample_snapshot(), *filter);
  ASSERT_EQ(f.connections.size(), 1u);
  EXPECT_EQ(f.connections[0]->local_port, 40001);
  ASSERT_EQ(f.processes.size(), 1u);
  EXPECT_EQ(f.processes[0]->name, "firefox");
  ASSERT_EQ(f.remotes.size(), 1u);
  EXPECT_EQ(f.remotes[0]->host, "github.com");
  EXPECT_EQ(f.total_rows[1], 3u);
}

TEST(TuiModel, NegatedFilterKeepsTheOthers) {
  FilterError err;
  const auto filter = Filter::parse("!process:firefox", &err);
  ASSERT_TRUE(filter.has_value()) << err.message;
  const Frame f = frame_of(sample_snapshot(), *filter);
  EXPECT_EQ(local_ports(f), (std::vector<std::uint16_t>{40000, 40002}));
}

TEST(TuiModel, FindFollowsTheKeyNotThePosition) {
  auto s = sample_snapshot();
  const Frame a = frame_of(s);
  const RowKey firefox = a.key_at(Table::connections, 1);
  ASSERT_EQ(a.connections[1]->local_port, 40001);
  auto s2 = sample_snapshot();
  s2->connections[1].rate_down = 1e9;  // firefox becomes the busiest
  const Frame b = frame_of(s2);
  EXPECT_EQ(b.find(Table::connections, firefox), std::optional<std::size_t>(0));
  const RowKey unknown = a.key_at(Table::processes, 2);
  EXPECT_FALSE(unknown.pid.has_value());
  EXPECT_EQ(b.find(Table::processes, unknown), std::optional<std::size_t>(2));
}

TEST(TuiModel, CellsShowUnitsPortsAndUnknown) {
  const auto s = sample_snapshot();
  ModelOptions opt;
  EXPECT_EQ(connection_cell(ColumnId::remote, s->connections[1], opt), "github.com:https");
  opt.port_numbers = true;
  EXPECT_EQ(connection_cell(ColumnId::remote, s->connections[1], opt), "github.com:443");
  opt.resolve = false;
  EXPECT_EQ(connection_cell(ColumnId::remote, s->connections[1], opt), "140.82.112.3:443");
  EXPECT_EQ(connection_cell(ColumnId::process, s->connections[2], opt), "<UNKNOWN>");
  EXPECT_EQ(connection_cell(ColumnId::app_host, s->connections[1], opt), "github.com");
  EXPECT_EQ(connection_cell(ColumnId::down, s->connections[0], opt), "5.0 kB/s");
  opt.units.units = Units::bits;
  EXPECT_EQ(connection_cell(ColumnId::down, s->connections[0], opt), "40.0 kbit/s");
  opt.totals = true;
  opt.units = {};
  EXPECT_EQ(connection_cell(ColumnId::down, s->connections[0], opt), "50.0 kB");
  EXPECT_EQ(endpoint_text(testing::ip("2001:db8::1"), 22, 6, true), "[2001:db8::1]:22");
}

TEST(TuiModel, StalenessFollowsTheTimeout) {
  auto c = testing::conn("192.0.2.1", 1, 2, 0, 0, 1, "x");
  c.timeout_s = 100;
  c.last_seen = core::Timestamp{testing::kNow.ns - 74'000'000'000};
  EXPECT_EQ(staleness_level(c, testing::kNow), 0);
  c.last_seen = core::Timestamp{testing::kNow.ns - 75'000'000'000};
  EXPECT_EQ(staleness_level(c, testing::kNow), 1);
  c.last_seen = core::Timestamp{testing::kNow.ns - 90'000'000'000};
  EXPECT_EQ(staleness_level(c, testing::kNow), 2);
  c.timeout_s = 0;
  EXPECT_EQ(staleness_level(c, testing::kNow), 0);
}

// ---- column layout ----

int used_width(const std::vector<ColumnPlacement>& p) {
  if (p.empty()) return 0;
  return p.back().x + p.back().width;
}

std::set<ColumnId> ids(Table t, const std::vector<ColumnPlacement>& p) {
  std::set<ColumnId> out;
  for (const auto& c : p) out.insert(columns(t)[c.column].id);
  return out;
}

TEST(TuiLayout, WideTerminalShowsEveryColumnAndFillsTheWidth) {
  for (Table t : {Table::processes, Table::connections, Table::remotes}) {
    const auto p = layout_columns(t, 200);
    EXPECT_EQ(p.size(), columns(t).size()) << table_name(t);
    EXPECT_EQ(used_width(p), 200) << table_name(t);
  }
}

TEST(TuiLayout, ColumnsNeverOverlapAndStayInsideAtAnyWidth) {
  for (Table t : {Table::processes, Table::connections, Table::remotes}) {
    for (int w = 1; w <= 240; ++w) {
      const auto p = layout_columns(t, w);
      ASSERT_FALSE(p.empty()) << w;
      int x = 0;
      for (const auto& c : p) {
        EXPECT_GE(c.x, x) << table_name(t) << " width " << w;
        EXPECT_GT(c.width, 0);
        x = c.x + c.width + 1;
      }
      EXPECT_LE(used_width(p), w) << table_name(t) << " width " << w;
    }
  }
}

TEST(TuiLayout, NarrowConnectionsKeepRemoteAndRatesFirst) {
  // 60 columns: remote + down + up + process fit, container-like extras go.
  const auto p60 = ids(Table::connections, layout_columns(Table::connections, 60));
  EXPECT_TRUE(p60.count(ColumnId::remote));
  EXPECT_TRUE(p60.count(ColumnId::down));
  EXPECT_TRUE(p60.count(ColumnId::up));
  EXPECT_FALSE(p60.count(ColumnId::service));
  EXPECT_FALSE(p60.count(ColumnId::app_host));
  // 40 columns: remote and down.
  const auto p40 = ids(Table::connections, layout_columns(Table::connections, 40));
  EXPECT_TRUE(p40.count(ColumnId::remote));
  EXPECT_TRUE(p40.count(ColumnId::down));
  EXPECT_FALSE(p40.count(ColumnId::local));
  // 120 columns: all but the least important.
  const auto p120 = ids(Table::connections, layout_columns(Table::connections, 120));
  EXPECT_TRUE(p120.count(ColumnId::local));
  EXPECT_TRUE(p120.count(ColumnId::rtt));
  EXPECT_TRUE(p120.count(ColumnId::state));
}

TEST(TuiLayout, NarrowProcessesKeepNameAndRates) {
  const auto p = ids(Table::processes, layout_columns(Table::processes, 40));
  EXPECT_TRUE(p.count(ColumnId::process_name));
  EXPECT_TRUE(p.count(ColumnId::down));
  EXPECT_TRUE(p.count(ColumnId::up));
  EXPECT_FALSE(p.count(ColumnId::container));
  EXPECT_FALSE(p.count(ColumnId::sparkline));
}

TEST(TuiLayout, SortCyclesEveryColumnWithItsDefaultDirection) {
  for (Table t : {Table::processes, Table::connections, Table::remotes}) {
    SortSpec s = default_sort(t);
    EXPECT_TRUE(s.descending);
    std::set<std::size_t> seen;
    for (std::size_t i = 0; i < columns(t).size(); ++i) {
      s = next_sort(t, s);
      seen.insert(s.column);
      EXPECT_EQ(s.descending, columns(t)[s.column].descending_default);
    }
    EXPECT_EQ(seen.size(), columns(t).size());
  }
}

}  // namespace
}  // namespace netscope::tui

namespace netscope::tui {
namespace {

// Many rows with many ties (rates from a small set, a few states and names): the order
// must follow the column and must not depend on the order of the snapshot's vector.
std::shared_ptr<monitor::Snapshot> tie_heavy(std::uint32_t seed, bool shuffled) {
  auto s = std::make_shared<monitor::Snapshot>();
  s->time = testing::kNow;
  static const char* kStates[] = {"ESTABLISHED", "established", "SYN_SENT", "", "CLOSED"};
  static const char* kNames[] = {"curl", "Curl", "firefox-esr-longname", "firefox-esr-longer", ""};
  for (std::uint32_t i = 0; i < 3000; ++i) {
    auto c = testing::conn("10.1.0.1", static_cast<std::uint16_t>(1000 + i % 700),
                           static_cast<std::uint16_t>(i / 700 + 1), (i * 7) % 5 * 100.0,
                           (i * 13) % 4 == 0 ? -0.0 : (i * 13) % 4 * 1000.0,
                           i % 5 == 0 ? std::nullopt : std::optional<pid_t>(i % 9), kNames[i % 5]);
    c.remote_addr = core::IpAddress::from_v4(0x0a000000u + i % 3);
    c.state = kStates[i % 5];
    if (i % 3 == 0) c.rtt_ms = (i % 4) * 1.5;
    s->connections.push_back(c);
  }
  if (shuffled) {
    for (std::size_t i = s->connections.size() - 1; i > 0; --i) {
      seed = seed * 1664525u + 1013904223u;
      std::swap(s->connections[i], s->connections[seed % (i + 1)]);
    }
  }
  return s;
}

TEST(TuiModel, KeyedConnectionSortFollowsTheColumnAndIgnoresInputOrder) {
  for (ColumnId col : {ColumnId::down, ColumnId::up, ColumnId::rtt, ColumnId::state,
                       ColumnId::process, ColumnId::proto, ColumnId::remote}) {
    for (bool desc : {true, false}) {
      const Frame a = sorted(tie_heavy(1, false), Table::connections, col, desc);
      const Frame b = sorted(tie_heavy(7, true), Table::connections, col, desc);
      ASSERT_EQ(a.connections.size(), b.connections.size());
      for (std::size_t i = 0; i < a.connections.size(); ++i) {
        ASSERT_EQ(key_of(*a.connections[i]), key_of(*b.connections[i]))
            << "column " << static_cast<int>(col) << " desc " << desc << " row " << i;
      }
      for (std::size_t i = 1; i < a.connections.size(); ++i) {
        const auto& p = *a.connections[i - 1];
        const auto& q = *a.connections[i];
        if (col == ColumnId::down) {
          EXPECT_TRUE(desc ? p.rate_down >= q.rate_down : p.rate_down <= q.rate_down) << i;
        }
        if (col == ColumnId::rtt && !desc) {
          EXPECT_TRUE(!p.rtt_ms || (q.rtt_ms && *p.rtt_ms <= *q.rtt_ms)) << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace netscope::tui

namespace netscope::tui {
namespace {

// 20,000 rows are sorted lazily (a prefix up front, the rest on demand); every way of
// reaching a row must see the same order as a full sort.
TEST(TuiModel, LazySortGivesTheSameOrderAsAFullSort) {
  auto big = std::make_shared<monitor::Snapshot>();
  big->time = testing::kNow;
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    auto c = testing::conn("10.1.0.1", static_cast<std::uint16_t>(1 + i % 60'000),
                           static_cast<std::uint16_t>(1 + i / 60'000), (i * 7919) % 1000,
                           (i * 104729) % 5000 * 1.0, 1, "p");
    c.remote_addr = core::IpAddress::from_v4(0x0a000000u + i);
    big->connections.push_back(c);
  }
  const Frame lazy = sorted(big, Table::connections, ColumnId::down, true);
  ASSERT_TRUE(lazy.lazy != nullptr);
  // The row at 15,000 by key_at, then everything.
  const RowKey deep = lazy.key_at(Table::connections, 15'000);
  lazy.ensure_sorted(lazy.connections.size());
  EXPECT_TRUE(lazy.lazy == nullptr);
  for (std::size_t i = 1; i < lazy.connections.size(); ++i) {
    ASSERT_GE(lazy.connections[i - 1]->rate_down, lazy.connections[i]->rate_down) << i;
  }
  EXPECT_EQ(key_of(*lazy.connections[15'000]), deep);
  // find() of a row deep in the unsorted tail gives its final rank.
  const Frame again = sorted(big, Table::connections, ColumnId::down, true);
  const RowKey k = key_of(*lazy.connections[12'345]);
  EXPECT_EQ(again.find(Table::connections, k), std::optional<std::size_t>(12'345));
  EXPECT_EQ(key_of(*again.connections[12'345]), k);
}

TEST(TuiModel, LazySortPutsAnyWindowInOrderLikeAFullSort) {
  auto big = std::make_shared<monitor::Snapshot>();
  big->time = testing::kNow;
  for (std::uint32_t i = 0; i < 30'000; ++i) {
    auto c = testing::conn("10.1.0.1", static_cast<std::uint16_t>(1 + i % 60'000), 80,
                           (i * 7919) % 1000, (i * 104729) % 5000 * 1.0, 1, "p");
    c.remote_addr = core::IpAddress::from_v4(0x0a000000u + (i * 2654435761u) % 100'000);
    big->connections.push_back(c);
  }
  for (const ColumnId col : {ColumnId::down, ColumnId::remote, ColumnId::proto}) {
    const Frame full = sorted(big, Table::connections, col, true);
    full.ensure_sorted(full.connections.size());
    ASSERT_TRUE(full.lazy == nullptr);
    // Windows anywhere, overlapping, out of order, single rows; then the rest.
    const Frame lazy = sorted(big, Table::connections, col, true);
    const std::size_t windows[][2] = {{20'000, 20'060}, {5'000, 5'001},  {19'990, 20'010},
                                      {29'990, 30'000}, {700, 760},      {12'000, 14'500},
                                      {0, 10},          {29'999, 30'000}};
    for (const auto& w : windows) {
      lazy.ensure_sorted(w[0], w[1]);
      for (std::size_t i = w[0]; i < w[1]; ++i) {
        ASSERT_EQ(lazy.connections[i], full.connections[i])
            << "col " << static_cast<int>(col) << " row " << i;
      }
    }
    // A row found deep down is at its final rank, with the rows around it in order.
    const Frame again = sorted(big, Table::connections, col, true);
    const RowKey k = key_of(*full.connections[17'321]);
    EXPECT_EQ(again.find(Table::connections, k), std::optional<std::size_t>(17'321));
    again.ensure_sorted(17'300, 17'340);
    for (std::size_t i = 17'300; i < 17'340; ++i) {
      ASSERT_EQ(again.connections[i], full.connections[i]) << i;
    }
    lazy.ensure_sorted(lazy.connections.size());
    EXPECT_TRUE(lazy.lazy == nullptr);
    EXPECT_EQ(lazy.connections, full.connections);
  }
}

}  // namespace
}  // namespace netscope::tui
