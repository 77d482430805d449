// TickBuilder: rates over the window, up/down orientation, late attribution, closed
// connections and the whole-run document. Flow samples are written out by hand; the
// resolver is scripted (the real one is exercised by the namespace end-to-end tests).

#include "monitor/tick_builder.hpp"

#include <gtest/gtest.h>

#include <map>

#include "decode/packet_view.hpp"
#include "scripted_resolver.hpp"

namespace netscope::monitor {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
const core::IpAddress kLocal = *core::IpAddress::parse("10.0.0.1");
const core::IpAddress kRemote = *core::IpAddress::parse("10.0.0.2");

FlowSample tcp_flow(std::int64_t first_s, std::uint16_t local_port) {
  FlowSample s;
  s.key = core::make_flow_key(kLocal, local_port, kRemote, 443, decode::ip_proto::tcp).key;
  s.client_is_a = (s.key.addr_a == kLocal && s.key.port_a == local_port);
  s.client_by = flow::ClientBy::syn;
  s.tcp_state = flow::TcpState::established;
  s.first_seen = core::Timestamp{first_s * kSec};
  s.last_seen = s.first_seen;
  s.timeout_ns = 300 * kSec;
  return s;
}

// Client (local) sent `up` bytes, server sent `down` bytes so far.
void set_bytes(FlowSample& s, std::uint64_t up, std::uint64_t down, std::int64_t now_s) {
  s.dir[flow::kClientToServer].bytes = up;
  s.dir[flow::kClientToServer].packets = up / 100;
  s.dir[flow::kServerToClient].bytes = down;
  s.dir[flow::kServerToClient].packets = down / 100;
  s.last_seen = core::Timestamp{now_s * kSec};
}

using test::ScriptedResolver;

TickBuilderConfig live_config(ProcessResolver* r) {
  TickBuilderConfig c;
  c.window_s = 5;
  c.refresh_s = 1;
  c.is_local = [](const core::IpAddress& a) { return a == kLocal; };
  c.resolver = r;
  return c;
}

TickInput input_at(std::int64_t t_s, std::vector<FlowSample> flows) {
  TickInput in;
  in.time = core::Timestamp{t_s * kSec};
  in.started = core::Timestamp{0};
  in.flows = std::move(flows);
  in.interfaces = {InterfaceStatus{"veth0", 0, true, ""}};
  return in;
}

TEST(TickBuilder, steady_rate_is_exact_once_the_window_has_passed) {
  ScriptedResolver res;
  res.owners[40000] = OwnerInfo{42, 7, "exact", "ESTABLISHED", 1.5, std::nullopt};
  TickBuilder b(live_config(&res));
  FlowSample f = tcp_flow(0, 40000);
  Snapshot snap;
  for (std::int64_t t = 1; t <= 10; ++t) {
    set_bytes(f, 1000 * static_cast<std::uint64_t>(t), 250000 * static_cast<std::uint64_t>(t), t);
    snap = b.tick(input_at(t, {f}));
  }
  ASSERT_EQ(snap.connections.size(), 1u);
  const ConnectionRecord& c = snap.connections[0];
  EXPECT_DOUBLE_EQ(c.rate_up, 1000.0);
  EXPECT_DOUBLE_EQ(c.rate_down, 250000.0);
  EXPECT_EQ(c.local_addr, kLocal);
  EXPECT_EQ(c.local_port, 40000);
  EXPECT_EQ(c.remote_port, 443);
  EXPECT_EQ(c.bytes_up, 10000u);
  EXPECT_EQ(c.process, "proc42");
  EXPECT_EQ(c.attribution, "exact");
  EXPECT_EQ(c.kernel_state, "ESTABLISHED");
  ASSERT_TRUE(c.rtt_ms);
  EXPECT_DOUBLE_EQ(*c.rtt_ms, 1.5);
  EXPECT_EQ(c.interface, "veth0");
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_DOUBLE_EQ(snap.processes[0].rate_down, 250000.0);
  EXPECT_EQ(snap.processes[0].bytes_down, 2500000u);
  EXPECT_EQ(snap.processes[0].history.size(), 10u);
  ASSERT_EQ(snap.remotes.size(), 1u);
  EXPECT_EQ(snap.remotes[0].connections, 1u);
  EXPECT_EQ(snap.totals.bytes_down, 2500000u);
  EXPECT_EQ(snap.interfaces.at(0).bytes_up, 10000u);
}

TEST(TickBuilder, young_connection_is_averaged_over_the_whole_window) {
  TickBuilder b(live_config(nullptr));
  FlowSample f = tcp_flow(9, 40000);
  // Nothing for 9 s, then 5000 bytes in the last second: 1000 B/s over a 5 s window.
  for (std::int64_t t = 1; t <= 9; ++t) b.tick(input_at(t, {}));
  set_bytes(f, 5000, 0, 10);
  const Snapshot snap = b.tick(input_at(10, {f}));
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_DOUBLE_EQ(snap.connections[0].rate_up, 1000.0);
}

// A socket whose holder could not be read (another user's process, no CAP_SYS_PTRACE or
// CAP_DAC_READ_SEARCH) says so: unknown:no_permission, its own <UNKNOWN> reason.
TEST(TickBuilder, a_socket_without_permission_to_find_its_holder_is_unknown_no_permission) {
  ScriptedResolver res;
  res.misses[40005] = "no_permission";
  TickBuilder b(live_config(&res));
  FlowSample f = tcp_flow(0, 40005);
  set_bytes(f, 100, 200, 1);
  const Snapshot snap = b.tick(input_at(1, {f}));
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_EQ(snap.connections[0].attribution, "unknown:no_permission");
  EXPECT_FALSE(snap.connections[0].pid);
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_EQ(snap.processes[0].name, "<UNKNOWN>");
  EXPECT_EQ(snap.processes[0].unknown_reason, "no_permission");
  EXPECT_EQ(snap.processes[0].bytes_up, 100u);
}

TEST(TickBuilder, late_attribution_moves_bytes_from_unknown_to_the_process) {
  ScriptedResolver res;
  TickBuilder b(live_config(&res));
  FlowSample f = tcp_flow(0, 40001);
  set_bytes(f, 100, 200, 1);
  Snapshot snap = b.tick(input_at(1, {f}));
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_EQ(snap.processes[0].name, "<UNKNOWN>");
  EXPECT_EQ(snap.processes[0].unknown_reason, "pending");
  EXPECT_EQ(snap.connections[0].attribution, "unknown:pending");

  res.owners[40001] = OwnerInfo{77, 1, "exact", "ESTABLISHED", std::nullopt, std::nullopt};
  set_bytes(f, 300, 600, 2);
  snap = b.tick(input_at(2, {f}));
  std::uint64_t unknown_bytes = 0;
  std::uint64_t proc_bytes = 0;
  for (const ProcessRecord& p : snap.processes) {
    (p.pid ? proc_bytes : unknown_bytes) += p.bytes_up + p.bytes_down;
  }
  EXPECT_EQ(proc_bytes, 900u);
  EXPECT_EQ(unknown_bytes, 0u);
}

TEST(TickBuilder, closed_connection_leaves_the_tick_but_stays_in_the_whole_run) {
  ScriptedResolver res;
  res.owners[40002] = OwnerInfo{5, 1, "exact", "ESTABLISHED", std::nullopt, std::nullopt};
  TickBuilderConfig cfg = live_config(&res);
  cfg.keep_history = true;
  TickBuilder b(cfg);
  FlowSample f = tcp_flow(0, 40002);
  set_bytes(f, 500, 500, 1);
  b.tick(input_at(1, {f}));
  f.ended = true;
  f.end_reason = flow::EndReason::closed;
  set_bytes(f, 600, 700, 2);
  Snapshot snap = b.tick(input_at(2, {f}));
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_TRUE(snap.connections[0].closed);
  EXPECT_EQ(snap.connections[0].close_reason, "closed");
  res.dead[5] = true;
  for (std::int64_t t = 3; t <= 12; ++t) snap = b.tick(input_at(t, {}));
  EXPECT_TRUE(snap.connections.empty());
  const Snapshot all = b.whole_run();
  ASSERT_EQ(all.connections.size(), 1u);
  EXPECT_TRUE(all.connections[0].closed);
  EXPECT_EQ(all.connections[0].bytes_down, 700u);
  ASSERT_EQ(all.processes.size(), 1u);
  EXPECT_TRUE(all.processes[0].exited);
  EXPECT_EQ(all.processes[0].bytes_up, 600u);
}

TEST(TickBuilder, replay_learns_local_addresses_from_syn_senders) {
  TickBuilderConfig cfg;
  cfg.replay = true;
  TickBuilder b(cfg);
  FlowSample f = tcp_flow(0, 40003);  // kLocal sent the SYN
  set_bytes(f, 100, 9000, 1);
  // A UDP flow where the learned-local address is endpoint b and not the client.
  FlowSample u;
  u.key = core::make_flow_key(kRemote, 53, kLocal, 5353, decode::ip_proto::udp).key;
  u.client_is_a = (u.key.addr_a == kRemote);
  u.dir[flow::kClientToServer].bytes = 70;  // from kRemote
  u.dir[flow::kServerToClient].bytes = 30;  // from kLocal
  const Snapshot snap = b.tick(input_at(1, {f, u}));
  ASSERT_EQ(snap.connections.size(), 2u);
  for (const ConnectionRecord& c : snap.connections) {
    EXPECT_EQ(c.local_addr, kLocal);
    EXPECT_EQ(c.attribution, "unknown:offline");
    if (c.proto == decode::ip_proto::udp) {
      EXPECT_EQ(c.bytes_up, 30u);
      EXPECT_EQ(c.bytes_down, 70u);
      EXPECT_EQ(c.state, "UDP_ACTIVE");
    } else {
      EXPECT_EQ(c.bytes_down, 9000u);
    }
  }
}

TEST(TickBuilder, forwarded_and_loopback_traffic) {
  ScriptedResolver res;
  TickBuilderConfig cfg = live_config(&res);
  TickBuilder b(cfg);
  FlowSample fwd;
  fwd.key = core::make_flow_key(*core::IpAddress::parse("192.0.2.1"), 1000,
                                *core::IpAddress::parse("192.0.2.2"), 80, decode::ip_proto::tcp)
                .key;
  fwd.dir[0].bytes = 10;
  FlowSample lo;
  lo.key = core::make_flow_key(*core::IpAddress::parse("127.0.0.1"), 1000,
                               *core::IpAddress::parse("127.0.0.1"), 80, decode::ip_proto::tcp)
               .key;
  lo.dir[0].bytes = 10;
  const Snapshot snap = b.tick(input_at(1, {fwd, lo}));
  ASSERT_EQ(snap.connections.size(), 1u);  // loopback hidden by default
  EXPECT_EQ(snap.connections[0].attribution, "unknown:forwarded");
}

TEST(TickBuilder, forwarded_flow_owned_by_a_container_socket_is_turned_around) {
  // 172.17.0.2 (a container behind this host) talks to 192.0.2.9; neither is local. The
  // container's socket holds 172.17.0.2:5000, so that is the local side, whichever
  // side the flow table called the client.
  class ContainerResolver : public ScriptedResolver {
   public:
    Resolution resolve(std::uint8_t, const core::Endpoint& local,
                       const core::Endpoint& remote) override {
      Resolution r;
      OwnerInfo o{900, 3, "exact", "ESTABLISHED", std::nullopt, std::nullopt};
      o.local = local.port == 5000 ? local : remote;
      r.owner = o;
      return r;
    }
  } res;
  TickBuilder b(live_config(&res));
  const core::IpAddress container = *core::IpAddress::parse("172.17.0.2");
  const core::IpAddress server = *core::IpAddress::parse("192.0.2.9");
  FlowSample f;
  f.key = core::make_flow_key(server, 80, container, 5000, decode::ip_proto::tcp).key;
  f.client_is_a = (f.key.addr_a == server);   // wrongly: the server as client
  f.dir[flow::kClientToServer].bytes = 5000;  // from the server
  f.dir[flow::kClientToServer].packets = 5;
  f.dir[flow::kServerToClient].bytes = 300;  // from the container
  f.dir[flow::kServerToClient].packets = 3;
  const Snapshot snap = b.tick(input_at(1, {f}));
  ASSERT_EQ(snap.connections.size(), 1u);
  const ConnectionRecord& c = snap.connections[0];
  EXPECT_EQ(c.local_addr, container);
  EXPECT_EQ(c.local_port, 5000);
  EXPECT_EQ(c.pid, 900);
  EXPECT_EQ(c.bytes_up, 300u);
  EXPECT_EQ(c.bytes_down, 5000u);
  ASSERT_EQ(snap.remotes.size(), 1u);
  EXPECT_EQ(snap.remotes[0].addr, server);
  EXPECT_EQ(snap.remotes[0].bytes_down, 5000u);
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_EQ(snap.processes[0].bytes_up, 300u);
}

TEST(TickBuilder, peer_socket_in_another_namespace_is_not_the_local_owner) {
  // Our side (kLocal:40010) has no known socket yet, but the server's socket in another
  // namespace of this host matches the reverse orientation. The addresses say which
  // side is ours, so the server process is not taken as the owner.
  class PeerResolver : public ScriptedResolver {
   public:
    Resolution resolve(std::uint8_t, const core::Endpoint&, const core::Endpoint& remote) override {
      Resolution r;
      r.owner = OwnerInfo{31, 1, "exact", "ESTABLISHED", std::nullopt, remote};
      return r;
    }
  } res;
  TickBuilder b(live_config(&res));
  FlowSample f = tcp_flow(0, 40010);
  set_bytes(f, 100, 100, 1);
  const Snapshot snap = b.tick(input_at(1, {f}));
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_EQ(snap.connections[0].local_port, 40010);
  EXPECT_FALSE(snap.connections[0].pid);
  EXPECT_EQ(snap.connections[0].attribution, "unknown:pending");
  // The lookup for our side, asked at the first tick, has had its answer by the second;
  // still only the peer's socket at the third: ours is gone (a client that ended within
  // milliseconds), which is what unknown:closed says, not "not looked up yet".
  set_bytes(f, 200, 200, 2);
  EXPECT_EQ(b.tick(input_at(2, {f})).connections[0].attribution, "unknown:pending");
  set_bytes(f, 300, 300, 3);
  const Snapshot third = b.tick(input_at(3, {f}));
  ASSERT_EQ(third.connections.size(), 1u);
  EXPECT_EQ(third.connections[0].attribution, "unknown:closed");
  EXPECT_FALSE(third.connections[0].pid);
}

TEST(TickBuilder, own_socket_found_after_the_peer_clears_the_closed_guess) {
  // The peer's socket first, then ours (a lookup slowed by a loaded host): the owner wins.
  class LateResolver : public ScriptedResolver {
   public:
    int calls = 0;
    Resolution resolve(std::uint8_t, const core::Endpoint&, const core::Endpoint& remote) override {
      Resolution r;
      ++calls;
      if (calls < 4) {
        r.owner = OwnerInfo{31, 1, "exact", "ESTABLISHED", std::nullopt, remote};
      } else {
        r.owner = OwnerInfo{77, 1, "exact", "ESTABLISHED", std::nullopt, std::nullopt};
      }
      return r;
    }
  } res;
  TickBuilder b(live_config(&res));
  FlowSample f = tcp_flow(0, 40011);
  Snapshot snap;
  for (std::int64_t t = 1; t <= 3; ++t) {
    set_bytes(f, 100 * static_cast<std::uint64_t>(t), 100, t);
    snap = b.tick(input_at(t, {f}));
  }
  EXPECT_EQ(snap.connections[0].attribution, "unknown:closed");
  set_bytes(f, 400, 100, 4);
  snap = b.tick(input_at(4, {f}));
  ASSERT_EQ(snap.connections.size(), 1u);
  ASSERT_TRUE(snap.connections[0].pid);
  EXPECT_EQ(*snap.connections[0].pid, 77);
  EXPECT_EQ(snap.connections[0].attribution, "exact");
}

}  // namespace
}  // namespace netscope::monitor
