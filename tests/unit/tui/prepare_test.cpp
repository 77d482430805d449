#include "tui/prepare.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include "tui_fixture.hpp"

namespace netscope::tui {
namespace {

// Waits (bounded) for the preparer's eventfd and takes the index.
std::shared_ptr<const SnapshotIndex> wait_ready(IndexPreparer& p) {
  for (int i = 0; i < 100; ++i) {
    pollfd fd{p.fd(), POLLIN, 0};
    poll(&fd, 1, 100);
    p.drain();
    if (auto index = p.take()) return index;
  }
  return nullptr;
}

TEST(TuiPrepare, builds_the_index_of_a_submitted_snapshot_off_the_caller) {
  IndexPreparer p;
  const auto snap = testing::sample_snapshot();
  const auto filter = Filter::parse("github", nullptr);
  ASSERT_TRUE(filter.has_value());
  p.submit(snap, *filter, ModelOptions{});
  const auto index = wait_ready(p);
  ASSERT_TRUE(index != nullptr);
  EXPECT_EQ(index->snapshot(), snap);
  ASSERT_EQ(index->keys().size(), snap->connections.size());
  EXPECT_DOUBLE_EQ(index->keys()[0].rate_down, snap->connections[0].rate_down);
  EXPECT_EQ(index->text().rows(), snap->connections.size());
  EXPECT_EQ(p.take(), nullptr);  // taken once
  // A frame from it is the frame of the snapshot.
  const SortSpec sorts[kTables] = {default_sort(Table::processes), default_sort(Table::connections),
                                   default_sort(Table::remotes)};
  const Frame f = build_frame(index, *filter, sorts, ModelOptions{});
  ASSERT_EQ(f.connections.size(), 1u);
  EXPECT_EQ(f.connections[0]->dpi->sni, "github.com");
}

TEST(TuiPrepare, applies_the_prefilter_to_a_copy) {
  IndexPreparer p([](monitor::Snapshot& s) { s.connections.resize(1); });
  const auto snap = testing::sample_snapshot();
  p.submit(snap, Filter{}, ModelOptions{});
  const auto index = wait_ready(p);
  ASSERT_TRUE(index != nullptr);
  EXPECT_EQ(index->snapshot()->connections.size(), 1u);
  EXPECT_EQ(snap->connections.size(), 3u);  // the published snapshot is not touched
}

TEST(TuiPrepare, the_newest_snapshot_wins) {
  IndexPreparer p;
  std::shared_ptr<monitor::Snapshot> last;
  for (int i = 0; i < 20; ++i) {
    last = testing::sample_snapshot();
    p.submit(last, Filter{}, ModelOptions{});
  }
  std::shared_ptr<const SnapshotIndex> index;
  for (int i = 0; i < 50 && (index == nullptr || index->snapshot() != last); ++i) {
    if (auto next = wait_ready(p)) index = next;
  }
  ASSERT_TRUE(index != nullptr);
  EXPECT_EQ(index->snapshot(), last);
}

}  // namespace
}  // namespace netscope::tui
