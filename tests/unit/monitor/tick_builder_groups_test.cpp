// TickBuilder: the per-process and per-remote groups stay bounded in a long live run
// (TickBuilderConfig::max_idle_remotes): a scan's remotes and short-lived processes are
// forgotten once no connection holds them, while a group a connection still holds, and
// (below the bound) a remote that comes back, keep their running totals. A whole-run
// document (keep_history) keeps every group.

#include <gtest/gtest.h>

#include "decode/packet_view.hpp"
#include "monitor/tick_builder.hpp"
#include "scripted_resolver.hpp"

namespace netscope::monitor {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
const core::IpAddress kLocal = *core::IpAddress::parse("10.0.0.1");

core::IpAddress scanned(int i) {
  return core::IpAddress::from_v4(0xc6120000u + static_cast<std::uint32_t>(i));  // 198.18/15
}

// A TCP connection from kLocal:port to remote:443 with `up` bytes sent and 1000 received.
FlowSample flow(const core::IpAddress& remote, std::uint16_t port, std::int64_t first_s,
                std::int64_t last_s, std::uint64_t up, bool ended) {
  FlowSample s;
  s.key = core::make_flow_key(kLocal, port, remote, 443, decode::ip_proto::tcp).key;
  s.client_is_a = (s.key.addr_a == kLocal && s.key.port_a == port);
  s.client_by = flow::ClientBy::syn;
  s.tcp_state = ended ? flow::TcpState::closed : flow::TcpState::established;
  s.first_seen = core::Timestamp{first_s * kSec};
  s.last_seen = core::Timestamp{last_s * kSec};
  s.dir[flow::kClientToServer].packets = 4;
  s.dir[flow::kClientToServer].bytes = up;
  s.dir[flow::kServerToClient].packets = 3;
  s.dir[flow::kServerToClient].bytes = 1000;
  s.ended = ended;
  if (ended) s.end_reason = flow::EndReason::closed;
  return s;
}

TickInput at(std::int64_t s, std::vector<FlowSample> flows) {
  TickInput in;
  in.time = core::Timestamp{s * kSec};
  in.flows = std::move(flows);
  in.interfaces = {InterfaceStatus{"veth0", 0, true, ""}};
  return in;
}

TickBuilderConfig config(std::size_t max_idle_remotes) {
  TickBuilderConfig c;
  c.window_s = 5;
  c.refresh_s = 1;
  c.max_idle_remotes = max_idle_remotes;
  c.is_local = [](const core::IpAddress& a) { return a == kLocal; };
  return c;
}

const RemoteRecord* remote(const Snapshot& s, const core::IpAddress& a) {
  for (const RemoteRecord& r : s.remotes) {
    if (r.addr == a) return &r;
  }
  return nullptr;
}

TEST(TickBuilderGroups, a_scan_is_forgotten_past_the_bound_but_a_held_remote_keeps_its_total) {
  TickBuilder b(config(1000));
  const core::IpAddress kept = *core::IpAddress::parse("203.0.113.9");
  // One connection stays open (and idle) through the whole scan.
  const FlowSample open = flow(kept, 39999, 1, 1, 5000, false);
  std::size_t most = 0;
  for (int i = 0; i < 6000; ++i) {
    // Each second one short connection to a new address, which ends at once.
    const std::int64_t t = i + 1;
    b.tick(at(t, {open, flow(scanned(i), static_cast<std::uint16_t>(40000 + i % 20000), t, t, 100,
                             true)}));
    most = std::max(most, b.last_stats().remote_groups);
  }
  EXPECT_LE(most, 1000u + 1);  // the bound is checked after each tick's listing
  EXPECT_GE(b.last_stats().remotes_forgotten, 5000u);
  const Snapshot s = b.tick(at(6001, {open}));
  const RemoteRecord* r = remote(s, kept);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->bytes_up, 5000u);
  EXPECT_EQ(r->bytes_down, 1000u);
}

TEST(TickBuilderGroups, below_the_bound_a_remote_that_comes_back_keeps_its_running_total) {
  TickBuilder b(config(1000));
  const core::IpAddress back = *core::IpAddress::parse("203.0.113.7");
  b.tick(at(1, {flow(back, 40000, 1, 1, 700, true)}));
  for (int t = 2; t < 30; ++t) b.tick(at(t, {}));  // long gone from the window
  EXPECT_EQ(b.last_stats().remote_groups, 1u);
  const Snapshot s = b.tick(at(30, {flow(back, 40001, 30, 30, 300, true)}));
  const RemoteRecord* r = remote(s, back);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->bytes_up, 1000u);
  EXPECT_EQ(b.last_stats().remotes_forgotten, 0u);
}

TEST(TickBuilderGroups, exited_processes_are_forgotten_once_idle_live_ones_are_kept) {
  test::ScriptedResolver resolver;
  TickBuilderConfig c = config(1000);
  c.resolver = &resolver;
  TickBuilder b(std::move(c));
  const core::IpAddress server = *core::IpAddress::parse("203.0.113.5");
  // A process that stays alive, with one short connection at the start.
  resolver.owners[30000] = OwnerInfo{};
  resolver.owners[30000].pid = 777;
  resolver.owners[30000].start_ticks = 1;
  b.tick(at(1, {flow(server, 30000, 1, 1, 10, false)}));
  std::size_t most = 0;
  for (int i = 0; i < 2000; ++i) {
    // Short-lived processes: each opens one connection (attributed at the first tick that
    // sees it), which ends at the next, and exits.
    const auto port = static_cast<std::uint16_t>(40000 + i);
    const auto pid = static_cast<pid_t>(1000 + i);
    resolver.owners[port].pid = pid;
    resolver.owners[port].start_ticks = 1;
    const std::int64_t t = 2 * i + 2;
    std::vector<FlowSample> flows{flow(server, port, t, t, 100, false)};
    if (i == 0) flows.push_back(flow(server, 30000, 1, 2, 10, true));
    b.tick(at(t, flows));
    b.tick(at(t + 1, {flow(server, port, t, t + 1, 100, true)}));
    resolver.dead[pid] = true;
    most = std::max(most, b.last_stats().process_groups);
  }
  for (int t = 4002; t < 4020; ++t) b.tick(at(t, {}));
  // <UNKNOWN>, the live process, and at most the last few short-lived ones.
  EXPECT_LE(most, 12u);
  EXPECT_EQ(b.last_stats().process_groups, 2u);
}

TEST(TickBuilderGroups, a_whole_run_document_keeps_every_group) {
  TickBuilderConfig c = config(100);
  c.keep_history = true;
  TickBuilder b(std::move(c));
  for (int i = 0; i < 500; ++i) {
    const std::int64_t t = i + 1;
    b.tick(at(t, {flow(scanned(i), static_cast<std::uint16_t>(40000 + i), t, t, 100, true)}));
  }
  EXPECT_EQ(b.whole_run().remotes.size(), 500u);
  EXPECT_EQ(b.last_stats().remotes_forgotten, 0u);
}

}  // namespace
}  // namespace netscope::monitor
