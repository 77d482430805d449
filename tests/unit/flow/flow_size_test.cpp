// The memory of one flow: the flow table holds one Flow per concurrently active flow, so
// its size decides whether 100k active flows fit in 100 MB. These document the budget
// (flow.hpp asserts the bound at compile time) and fail when a member grows it.

#include <gtest/gtest.h>

#include <limits>

#include "flow/flow.hpp"
#include "tcp_test_util.hpp"

namespace netscope::flow {
namespace {

TEST(FlowSize, flow_fits_the_per_flow_budget) {
  // Was 1088 bytes: TcpTracker 888, of which RttSketch 424 and the health counters 176.
  // Then 632, before the DPI state (24 bytes) joined it.
  EXPECT_LE(sizeof(Flow), 656u);
  EXPECT_LE(sizeof(dpi::FlowState), 24u);
  EXPECT_LE(sizeof(TcpTracker), 432u);
  EXPECT_LE(sizeof(RttSketch), 64u);
  RecordProperty("sizeof_Flow", static_cast<int>(sizeof(Flow)));
  RecordProperty("sizeof_TcpTracker", static_cast<int>(sizeof(TcpTracker)));
}

TEST(FlowSize, health_keeps_its_64_bit_reporting_type) {
  // The tracker stores 32-bit counters; what it hands out is summed over whole captures.
  using Counter = decltype(TcpHealth{}.retransmissions);
  static_assert(std::numeric_limits<Counter>::digits == 64);
  test::Conn c;
  c.handshake();
  const TcpHealth h = c.tracker.health(kClientToServer);
  EXPECT_EQ(h.retransmissions, 0u);
}

}  // namespace
}  // namespace netscope::flow
