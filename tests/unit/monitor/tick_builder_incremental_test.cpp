// TickBuilder, incremental ticks: the record of a connection that did not change is the
// previous snapshot's, copied; a changed one is rebuilt; rates of an idle connection decay
// to zero and then stop changing; closed connections still show as closed. A randomized
// property test runs an incremental builder and one that rebuilds every record
// (TickBuilderConfig::incremental = false) over the same inputs and requires the same
// snapshots, field by field.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "decode/packet_view.hpp"
#include "monitor/tick_builder.hpp"
#include "scripted_resolver.hpp"

namespace netscope::monitor {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
const core::IpAddress kLocal = *core::IpAddress::parse("10.0.0.1");

core::IpAddress remote_addr(int i) {
  return *core::IpAddress::parse("10.9.0." + std::to_string(1 + i % 20));
}

// A resolver whose answers change only when `gen` is bumped, like the live one's socket
// table (ProcessResolver::generation).
class GenResolver : public test::ScriptedResolver {
 public:
  std::uint64_t gen = 1;
  std::uint64_t generation() const override { return gen; }
};

FlowSample flow(std::uint8_t proto, std::uint16_t local_port, const core::IpAddress& remote,
                std::uint16_t remote_port, std::int64_t first_ns) {
  FlowSample s;
  s.key = core::make_flow_key(kLocal, local_port, remote, remote_port, proto).key;
  s.client_is_a = (s.key.addr_a == kLocal && s.key.port_a == local_port);
  s.client_by = flow::ClientBy::syn;
  if (proto == decode::ip_proto::tcp) s.tcp_state = flow::TcpState::established;
  s.first_seen = core::Timestamp{first_ns};
  s.last_seen = s.first_seen;
  s.timeout_ns = (proto == decode::ip_proto::tcp ? 300 : 30) * kSec;
  s.active_timeout_ns = s.timeout_ns;
  return s;
}

void add_traffic(FlowSample& s, std::uint64_t up, std::uint64_t down, std::int64_t now_ns) {
  s.dir[flow::kClientToServer].bytes += up;
  s.dir[flow::kClientToServer].packets += 1 + up / 1000;
  s.dir[flow::kClientToServer].payload_bytes += up / 2;
  s.dir[flow::kServerToClient].bytes += down;
  s.dir[flow::kServerToClient].packets += down > 0 ? 1 + down / 1000 : 0;
  s.last_seen = core::Timestamp{now_ns};
}

TickBuilderConfig config(ProcessResolver* r, bool incremental) {
  TickBuilderConfig c;
  c.window_s = 5;
  c.refresh_s = 1;
  c.is_local = [](const core::IpAddress& a) { return a == kLocal; };
  c.resolver = r;
  c.incremental = incremental;
  return c;
}

TickInput input_at(std::int64_t t_ns, std::vector<FlowSample> flows) {
  TickInput in;
  in.time = core::Timestamp{t_ns};
  in.started = core::Timestamp{0};
  in.flows = std::move(flows);
  in.interfaces = {InterfaceStatus{"veth0", 0, true, ""}};
  return in;
}

OwnerInfo owner(pid_t pid) {
  OwnerInfo o;
  o.pid = pid;
  o.start_ticks = 7;
  o.quality = "exact";
  o.kernel_state = "ESTABLISHED";
  o.kernel_rtt_ms = 1.5;
  return o;
}

TEST(TickBuilderIncremental, unchanged_connection_record_is_reused_and_changed_one_rebuilt) {
  GenResolver res;
  res.owners[40000] = owner(100);
  res.owners[40001] = owner(101);
  TickBuilder b(config(&res, true));
  FlowSample a = flow(decode::ip_proto::tcp, 40000, remote_addr(0), 443, 0);
  FlowSample c = flow(decode::ip_proto::tcp, 40001, remote_addr(1), 443, 0);
  add_traffic(a, 1000, 5000, kSec / 2);
  add_traffic(c, 1000, 5000, kSec / 2);
  // Traffic in the first second only; after the window (5 s) both rates are zero.
  std::shared_ptr<Snapshot> last;
  for (int t = 1; t <= 8; ++t) last = b.tick_shared(input_at(t * kSec, {a, c}));
  ASSERT_EQ(last->connections.size(), 2u);
  for (const ConnectionRecord& r : last->connections) {
    EXPECT_EQ(r.rate_up, 0);
    EXPECT_EQ(r.rate_down, 0);
  }
  EXPECT_EQ(b.last_stats().records_reused, 2u);
  EXPECT_EQ(b.last_stats().records_built, 0u);

  // One of them moves: only that one is rebuilt, and shows the new bytes and a rate.
  add_traffic(c, 4000, 0, 9 * kSec - kSec / 2);
  const std::shared_ptr<Snapshot> next = b.tick_shared(input_at(9 * kSec, {a, c}));
  EXPECT_EQ(b.last_stats().records_reused, 1u);
  EXPECT_EQ(b.last_stats().records_built, 1u);
  for (const ConnectionRecord& r : next->connections) {
    if (r.local_port == 40001) {
      EXPECT_EQ(r.bytes_up, 5000u);
      EXPECT_GT(r.rate_up, 0);
      EXPECT_EQ(r.process, "proc101");
    } else {
      EXPECT_EQ(r.bytes_up, 1000u);
      EXPECT_EQ(r.rate_up, 0);
      EXPECT_EQ(r.process, "proc100");
    }
  }
  // The previous snapshot is untouched by the next tick.
  for (const ConnectionRecord& r : last->connections) EXPECT_EQ(r.rate_up, 0);

  // The socket table changed elsewhere (another connection's socket): the owners are
  // asked again, the same answers come back, and nothing is rebuilt.
  res.gen = 2;
  b.tick_shared(input_at(10 * kSec, {a, c}));
  EXPECT_EQ(b.last_stats().records_built, 0u);
  EXPECT_TRUE(b.last_built().empty());
  // It changed for one of them: only that record is rebuilt (the other's rate stands:
  // the same bytes in the window).
  res.gen = 3;
  res.owners[40000].kernel_state = "CLOSE_WAIT";
  const std::shared_ptr<Snapshot> after = b.tick_shared(input_at(11 * kSec, {a, c}));
  EXPECT_EQ(b.last_stats().records_built, 1u);
  ASSERT_EQ(b.last_built().size(), 1u);
  EXPECT_EQ(after->connections[b.last_built()[0]].local_port, 40000);
  for (const ConnectionRecord& r : after->connections) {
    EXPECT_EQ(r.kernel_state, r.local_port == 40000 ? "CLOSE_WAIT" : "ESTABLISHED");
  }
}

TEST(TickBuilderIncremental, rates_decay_to_zero_then_stop_changing) {
  GenResolver res;
  res.owners[40000] = owner(100);
  TickBuilder b(config(&res, true));
  FlowSample a = flow(decode::ip_proto::tcp, 40000, remote_addr(0), 443, 0);
  // 10,000 bytes down every second for 10 s, then nothing.
  double prev = -1;
  int reused_ticks = 0;
  for (int t = 1; t <= 25; ++t) {
    if (t <= 10) add_traffic(a, 0, 10'000, t * kSec - kSec / 4);
    const Snapshot s = *b.tick_shared(input_at(t * kSec, {a}));
    ASSERT_EQ(s.connections.size(), 1u);
    const double rate = s.connections[0].rate_down;
    if (t > 5 && t <= 10) {
      EXPECT_DOUBLE_EQ(rate, 10'000);  // steady, the window is full
    }
    if (t > 10 && t < 15) {
      EXPECT_LT(rate, prev);  // decaying
      EXPECT_GT(rate, 0);
    }
    if (t >= 15) {
      EXPECT_EQ(rate, 0);
    }
    if (b.last_stats().records_reused == 1) {
      ++reused_ticks;
      EXPECT_EQ(rate, prev);
      EXPECT_GE(t, 16);  // reused only once the rate stands still
    }
    ASSERT_EQ(s.processes.size(), 1u);
    EXPECT_EQ(s.processes[0].rate_down, rate);
    EXPECT_EQ(s.totals.rate_down, rate);
    prev = rate;
  }
  // t = 16..25, except t = 20: 10 s without a packet, where a clock-dependent part of a
  // record may change (the *_IDLE states), so it is rebuilt once.
  EXPECT_EQ(reused_ticks, 9);
}

TEST(TickBuilderIncremental, closed_connections_still_show_closed) {
  GenResolver res;
  res.owners[40000] = owner(100);
  res.owners[40001] = owner(101);
  TickBuilder b(config(&res, true));
  FlowSample a = flow(decode::ip_proto::tcp, 40000, remote_addr(0), 443, 0);
  FlowSample c = flow(decode::ip_proto::tcp, 40001, remote_addr(1), 443, 0);
  add_traffic(a, 100, 100, kSec / 2);
  add_traffic(c, 100, 100, kSec / 2);
  for (int t = 1; t <= 8; ++t) b.tick_shared(input_at(t * kSec, {a, c}));
  ASSERT_EQ(b.last_stats().records_reused, 2u);
  // `a` ends with an end notice; `c` vanishes from the table without one.
  FlowSample ended = a;
  ended.ended = true;
  ended.end_reason = flow::EndReason::idle_timeout;
  ended.timeout_ns = 0;
  const Snapshot s = *b.tick_shared(input_at(9 * kSec, {ended}));
  ASSERT_EQ(s.connections.size(), 2u);
  EXPECT_EQ(b.last_stats().records_built, 2u);
  for (const ConnectionRecord& r : s.connections) {
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(r.close_reason, r.local_port == 40000 ? "idle_timeout" : "unknown");
    EXPECT_EQ(r.kernel_state, "");
  }
  // Still listed, closed, while within the window (rebuilt or reused: the same).
  const Snapshot s2 = *b.tick_shared(input_at(10 * kSec, {}));
  ASSERT_EQ(s2.connections.size(), 2u);
  for (const ConnectionRecord& r : s2.connections) EXPECT_TRUE(r.closed);
  // Gone after the window.
  Snapshot s3;
  for (int t = 11; t <= 16; ++t) s3 = *b.tick_shared(input_at(t * kSec, {}));
  EXPECT_TRUE(s3.connections.empty());
}

// --- property test: incremental == rebuilt over random sequences

struct World {
  std::vector<FlowSample> open;
  std::vector<FlowSample> ended;  // ended since the last tick
  // Pool indexes of the flows (FlowSample::table_index), reused last-freed first as the
  // flow table reuses its entries.
  std::vector<std::uint32_t> free_index;
  std::uint32_t next_index = 0;
  std::uint32_t take_index() {
    if (free_index.empty()) return next_index++;
    const std::uint32_t i = free_index.back();
    free_index.pop_back();
    return i;
  }
  std::map<core::IpAddress, std::string> names;
};

void expect_same(const Snapshot& inc, const Snapshot& full, int seed, int tick) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " tick " + std::to_string(tick));
  ASSERT_EQ(inc.connections.size(), full.connections.size());
  for (std::size_t i = 0; i < inc.connections.size(); ++i) {
    EXPECT_TRUE(inc.connections[i] == full.connections[i])
        << "connection " << i << " port " << inc.connections[i].local_port << " state "
        << inc.connections[i].state << " vs " << full.connections[i].state << ", rate "
        << inc.connections[i].rate_up << " vs " << full.connections[i].rate_up;
  }
  ASSERT_EQ(inc.processes.size(), full.processes.size());
  for (std::size_t i = 0; i < inc.processes.size(); ++i) {
    const ProcessRecord& p = inc.processes[i];
    const ProcessRecord& q = full.processes[i];
    EXPECT_EQ(p.pid, q.pid);
    EXPECT_EQ(p.name, q.name);
    EXPECT_EQ(p.unknown_reason, q.unknown_reason);
    EXPECT_EQ(p.bytes_up, q.bytes_up);
    EXPECT_EQ(p.bytes_down, q.bytes_down);
    EXPECT_EQ(p.packets_up, q.packets_up);
    EXPECT_EQ(p.packets_down, q.packets_down);
    EXPECT_EQ(p.rate_up, q.rate_up);
    EXPECT_EQ(p.rate_down, q.rate_down);
    EXPECT_EQ(p.connections, q.connections);
    ASSERT_EQ(p.history.size(), q.history.size());
    for (std::size_t h = 0; h < p.history.size(); ++h) {
      EXPECT_EQ(p.history[h].up, q.history[h].up);
      EXPECT_EQ(p.history[h].down, q.history[h].down);
    }
  }
  ASSERT_EQ(inc.remotes.size(), full.remotes.size());
  for (std::size_t i = 0; i < inc.remotes.size(); ++i) {
    EXPECT_EQ(inc.remotes[i].addr, full.remotes[i].addr);
    EXPECT_EQ(inc.remotes[i].host, full.remotes[i].host);
    EXPECT_EQ(inc.remotes[i].bytes_up, full.remotes[i].bytes_up);
    EXPECT_EQ(inc.remotes[i].bytes_down, full.remotes[i].bytes_down);
    EXPECT_EQ(inc.remotes[i].rate_up, full.remotes[i].rate_up);
    EXPECT_EQ(inc.remotes[i].rate_down, full.remotes[i].rate_down);
    EXPECT_EQ(inc.remotes[i].connections, full.remotes[i].connections);
  }
  EXPECT_EQ(inc.totals.bytes_up, full.totals.bytes_up);
  EXPECT_EQ(inc.totals.bytes_down, full.totals.bytes_down);
  EXPECT_EQ(inc.totals.rate_up, full.totals.rate_up);
  EXPECT_EQ(inc.totals.rate_down, full.totals.rate_down);
}

// Per-process totals must also equal what the listed and forgotten connections carried:
// the sum over processes of bytes equals the sum over interfaces.
void expect_consistent(const Snapshot& s) {
  std::uint64_t procs = 0;
  for (const ProcessRecord& p : s.processes) procs += p.bytes_up + p.bytes_down;
  std::uint64_t listed = 0;
  for (const ConnectionRecord& c : s.connections) listed += c.bytes_up + c.bytes_down;
  EXPECT_LE(listed, s.totals.bytes_up + s.totals.bytes_down);
  EXPECT_LE(procs, s.totals.bytes_up + s.totals.bytes_down);
}

// Samples handed over one at a time (TickInput::sample): a new connection is placed once
// every sample of the tick is in, so a local address learned from a later sample (a SYN
// sender, no --local-net) decides its sides as when the samples come in a vector.
TEST(TickBuilderIncremental, samples_one_at_a_time_learn_local_addresses_like_a_vector) {
  FlowSample udp = flow(decode::ip_proto::udp, 5353, remote_addr(1), 53, kSec / 2);
  udp.client_is_a = !udp.client_is_a;  // the remote looks like the client
  udp.client_by = flow::ClientBy::first_packet;
  add_traffic(udp, 100, 300, kSec / 2);
  FlowSample tcp = flow(decode::ip_proto::tcp, 40000, remote_addr(2), 443, kSec / 2);
  add_traffic(tcp, 500, 5000, kSec / 2);
  TickBuilderConfig c = config(nullptr, true);
  c.is_local = nullptr;
  TickBuilder by_vector(c);
  TickBuilder by_one(c);
  const Snapshot sv = by_vector.tick(input_at(kSec, {udp, tcp}));
  TickInput in = input_at(kSec, {});
  in.sample = [&](const std::function<void(const FlowSample&)>& fn) {
    fn(udp);
    fn(tcp);
  };
  const Snapshot so = by_one.tick(in);
  ASSERT_EQ(sv.connections.size(), 2u);
  ASSERT_EQ(so.connections.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(sv.connections[i] == so.connections[i]) << i;
    EXPECT_EQ(so.connections[i].local_addr, kLocal) << i;
  }
}

TEST(TickBuilderIncremental, property_incremental_ticks_equal_rebuilt_ticks) {
  std::size_t reused_total = 0;
  std::size_t in_place_total = 0;
  for (int seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
    const auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
    GenResolver res_inc;
    GenResolver res_full;
    World w;
    TickBuilderConfig ci = config(&res_inc, true);
    TickBuilderConfig cf = config(&res_full, false);
    const auto names = [&w](const core::IpAddress& a) -> std::optional<std::string> {
      if (auto it = w.names.find(a); it != w.names.end()) return it->second;
      return std::nullopt;
    };
    ci.host_name = names;
    cf.host_name = names;
    ci.keep_history = cf.keep_history = (seed % 2 == 0);
    if (seed % 3 == 0) ci.is_local = cf.is_local = nullptr;  // learned from the SYNs
    TickBuilder inc(ci);
    TickBuilder full(cf);
    std::vector<std::pair<std::shared_ptr<Snapshot>, Snapshot>> held;
    std::uint16_t next_port = 30000;
    std::int64_t now = 0;
    for (int tick = 0; tick < 60; ++tick) {
      // Time: mostly one refresh, sometimes a pause of several (a slow tick).
      now += chance(10) ? kSec * static_cast<std::int64_t>(2 + rng() % 12) : kSec;
      // New connections.
      const int opens = static_cast<int>(rng() % 4);
      for (int i = 0; i < opens; ++i) {
        const int kind = static_cast<int>(rng() % 10);
        const std::uint8_t proto = kind < 6   ? decode::ip_proto::tcp
                                   : kind < 9 ? decode::ip_proto::udp
                                              : decode::ip_proto::icmp;
        const std::uint16_t port = proto == decode::ip_proto::icmp ? 0 : next_port++;
        FlowSample s = flow(proto, port, remote_addr(static_cast<int>(rng() % 40)),
                            proto == decode::ip_proto::icmp ? 0 : 443,
                            now - static_cast<std::int64_t>(rng() % kSec));
        add_traffic(s, rng() % 3000, rng() % 30000, now - 1);
        s.table_index = w.take_index();
        w.open.push_back(s);
      }
      // Traffic, state changes, DPI, ends.
      for (std::size_t i = 0; i < w.open.size();) {
        FlowSample& s = w.open[i];
        s.dpi.reset();
        if (chance(25)) add_traffic(s, rng() % 2000, rng() % 20000, now - 1);
        if (chance(3) && s.key.proto == decode::ip_proto::tcp) {
          s.tcp_state = chance(50) ? flow::TcpState::fin_wait1 : flow::TcpState::close_wait;
          s.last_seen = core::Timestamp{now - 1};
          s.dir[0].packets += 1;
        }
        if (chance(4)) {
          auto info = std::make_shared<dpi::DpiInfo>();
          info->app = chance(50) ? "TLS" : "HTTP";
          info->sni = "host" + std::to_string(rng() % 5) + ".example";
          s.dpi = std::move(info);
        }
        if (chance(3)) {
          FlowSample e = s;
          e.ended = true;
          e.end_reason = flow::EndReason::closed;
          e.timeout_ns = 0;
          e.table_index = FlowSample::kNoIndex;  // ended flows come without one
          w.free_index.push_back(s.table_index);
          w.ended.push_back(e);
          w.open.erase(w.open.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        if (chance(1)) {  // vanishes without an end notice
          w.free_index.push_back(s.table_index);
          w.open.erase(w.open.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        ++i;
      }
      // The socket table changes now and then: new owners, changed kernel states.
      if (chance(20)) {
        ++res_inc.gen;
        ++res_full.gen;
        for (const FlowSample& s : w.open) {
          const std::uint16_t lp = s.client_is_a ? s.key.port_a : s.key.port_b;
          if (lp == 0 || !chance(40)) continue;
          OwnerInfo o = owner(static_cast<pid_t>(100 + rng() % 4));
          if (chance(30)) o.kernel_state = "CLOSE_WAIT";
          if (chance(30)) o.kernel_rtt_ms = static_cast<double>(rng() % 50);
          res_inc.owners[lp] = o;
          res_full.owners[lp] = o;
        }
      }
      // Names of remotes appear (reverse DNS answers).
      if (chance(10)) w.names[remote_addr(static_cast<int>(rng() % 40))] = "r.example";

      // The reference builder finds every connection by its key (no pool indexes).
      std::vector<FlowSample> flows = w.open;
      for (FlowSample& s : flows) s.table_index = FlowSample::kNoIndex;
      flows.insert(flows.end(), w.ended.begin(), w.ended.end());
      // The incremental builder takes the open flows' samples one at a time with their pool
      // indexes, as the live tick does (TickInput::sample), and the ended ones in the vector.
      TickInput in_inc = input_at(now, w.ended);
      const std::vector<FlowSample> open = w.open;
      in_inc.sample = [&open](const std::function<void(const FlowSample&)>& fn) {
        for (const FlowSample& s : open) fn(s);
      };
      w.ended.clear();
      const TickInput in = input_at(now, flows);
      // Readers hold some snapshots for a while (the builder must not recycle those) and
      // let go of the others (which the builder then updates in place).
      std::shared_ptr<Snapshot> published = inc.tick_shared(in_inc);
      const Snapshot si = *published;
      if (chance(30)) held.emplace_back(std::move(published), si);
      if (!held.empty() && chance(40)) held.erase(held.begin());
      for (const auto& [p, copy] : held) expect_same(*p, copy, seed, tick);
      const Snapshot sf = *full.tick_shared(in);
      reused_total += inc.last_stats().records_reused;
      in_place_total += inc.last_stats().records_in_place;
      EXPECT_EQ(full.last_stats().records_reused, 0u);
      expect_same(si, sf, seed, tick);
      expect_consistent(si);
      if (testing::Test::HasFailure()) return;
    }
    if (ci.keep_history) expect_same(inc.whole_run(), full.whole_run(), seed, -1);
  }
  // The sequences leave many connections idle for a while: reuse must have happened.
  EXPECT_GT(reused_total, 50u);
  EXPECT_GT(in_place_total, 20u);  // and snapshots released by readers were recycled
}

}  // namespace
}  // namespace netscope::monitor
