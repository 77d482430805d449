// TickBuilder: every connection that closes appears, closed, in at least one snapshot,
// whatever --window and --refresh are (readers that derive events or IPFIX records
// from consecutive snapshots rely on it), including one that opened and closed between
// two ticks.

#include <gtest/gtest.h>

#include "decode/packet_view.hpp"
#include "monitor/tick_builder.hpp"

namespace netscope::monitor {
namespace {

constexpr std::int64_t kMs = 1'000'000;
const core::IpAddress kLocal = *core::IpAddress::parse("10.0.0.1");
const core::IpAddress kRemote = *core::IpAddress::parse("10.0.0.2");

FlowSample ended_flow(std::int64_t first_ms, std::int64_t last_ms, std::uint16_t port) {
  FlowSample s;
  s.key = core::make_flow_key(kLocal, port, kRemote, 443, decode::ip_proto::tcp).key;
  s.client_is_a = (s.key.addr_a == kLocal && s.key.port_a == port);
  s.client_by = flow::ClientBy::syn;
  s.tcp_state = flow::TcpState::closed;
  s.first_seen = core::Timestamp{first_ms * kMs};
  s.last_seen = core::Timestamp{last_ms * kMs};
  s.dir[flow::kClientToServer].packets = 5;
  s.dir[flow::kClientToServer].bytes = 400;
  s.dir[flow::kServerToClient].packets = 4;
  s.dir[flow::kServerToClient].bytes = 900;
  s.ended = true;
  s.end_reason = flow::EndReason::closed;
  return s;
}

TickInput input_at(std::int64_t ms, std::vector<FlowSample> flows) {
  TickInput in;
  in.time = core::Timestamp{ms * kMs};
  in.flows = std::move(flows);
  in.interfaces = {InterfaceStatus{"veth0", 0, true, ""}};
  return in;
}

class ClosedShown : public ::testing::TestWithParam<std::pair<double, double>> {};

TEST_P(ClosedShown, a_connection_that_opened_and_closed_between_ticks_is_listed_once_closed) {
  const auto [window_s, refresh_s] = GetParam();
  TickBuilderConfig c;
  c.window_s = window_s;
  c.refresh_s = refresh_s;
  c.is_local = [](const core::IpAddress& a) { return a == kLocal; };
  TickBuilder b(std::move(c));
  const auto refresh_ms = static_cast<std::int64_t>(refresh_s * 1000);
  b.tick(input_at(refresh_ms, {}));
  // Opened just after the tick, ended just after that: the next tick is the first to know.
  const Snapshot s =
      b.tick(input_at(2 * refresh_ms, {ended_flow(refresh_ms + 1, refresh_ms + 2, 40000)}));
  ASSERT_EQ(s.connections.size(), 1u) << "window " << window_s << " s, refresh " << refresh_s;
  EXPECT_TRUE(s.connections[0].closed);
  EXPECT_EQ(s.connections[0].close_reason, "closed");
  EXPECT_EQ(s.connections[0].bytes_up, 400u);
  EXPECT_EQ(s.connections[0].packets_down, 4u);
  // Once the window has passed, it is gone.
  std::size_t later = 0;
  for (int i = 3; i < 3 + 20; ++i) later = b.tick(input_at(i * refresh_ms, {})).connections.size();
  EXPECT_EQ(later, 0u);
}

INSTANTIATE_TEST_SUITE_P(WindowsAndRefreshes, ClosedShown,
                         ::testing::Values(std::make_pair(5.0, 1.0), std::make_pair(1.0, 1.0),
                                           std::make_pair(0.5, 2.0), std::make_pair(0.1, 10.0)));

}  // namespace
}  // namespace netscope::monitor
