#include "monitor/live_monitor.hpp"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>

#include "capture/file_reader.hpp"
#include "capture/replay_pacer.hpp"
#include "capture/syn_watch.hpp"
#include "core/log.hpp"
#include "decode/packet_view.hpp"
#include "enrich/reverse_dns.hpp"
#include "host/attributor.hpp"
#include "host/local_addresses.hpp"
#include "monitor/attributor_resolver.hpp"
#include "monitor/engine.hpp"
#include "monitor/flow_sample.hpp"
#include "monitor/tick_builder.hpp"

namespace netscope::monitor {

namespace {

core::Timestamp wall_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return core::Timestamp{static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec};
}

// Ended flows kept between two ticks before the list stops growing (a flood of short
// flows). Past it, the tick builder sees the flows vanish and closes them itself; only
// their last second of bytes is lost, and that is counted.
constexpr std::size_t kMaxEndedPerTick = 1u << 20;

}  // namespace

struct LiveMonitor::Impl : public EngineSink, public capture::PacketHandler {
  MonitorConfig cfg;
  SnapshotListener& listener;
  std::atomic<bool> stopping{false};

  std::unique_ptr<capture::LiveCapture> live;
  std::unique_ptr<capture::SynWatch> syn_watch;
  std::unique_ptr<host::Attributor> attributor;
  std::unique_ptr<AttributorResolver> resolver;
  std::unique_ptr<host::LocalAddresses> local_addresses;
  host::LocalNets local_nets;
  bool have_local_nets = false;
  std::unique_ptr<enrich::ReverseDns> rdns;

  std::unique_ptr<capture::FileReader> reader;
  std::unique_ptr<capture::ReplayPacer> pacer;

  std::unique_ptr<Engine> engine;
  std::unique_ptr<TickBuilder> builder;
  std::vector<FlowSample> ended;
  std::uint64_t ended_dropped = 0;
  bool evictions_warned = false;  // the first eviction was reported on stderr
  DnsEventQueue dns_events;       // DNS transactions between two ticks (bounded)
  core::Timestamp started;

  // Flows whose socket the kernel still reports (VLAN and tunnel ids left out: the
  // sockets do not know them). Written by the tick thread, read by the packet path.
  struct KeyHash {
    std::size_t operator()(const core::FlowKey& k) const { return core::hash_flow_key(k); }
  };
  using KeySet = std::unordered_set<core::FlowKey, KeyHash>;
  static core::FlowKey socket_key(const core::IpAddress& a, std::uint16_t pa,
                                  const core::IpAddress& b, std::uint16_t pb, std::uint8_t proto) {
    return core::make_flow_key(a, pa, b, pb, proto, 0, 0).key;
  }
  std::atomic<std::shared_ptr<const KeySet>> kernel_sockets;
  // Ticks since the set was last made from every record (publish_kernel_sockets).
  unsigned kernel_set_age = 0;

  mutable std::mutex mu;  // guards latest_snap and iface_names
  std::shared_ptr<const Snapshot> latest_snap;
  std::vector<std::string> iface_names;

  Impl(MonitorConfig c, SnapshotListener& l) : cfg(std::move(c)), listener(l) {}

  // --- EngineSink: on the packet path.
  void on_flow_end(const flow::Flow& f, flow::EndReason reason) override {
    if (ended.size() < kMaxEndedPerTick) {
      ended.push_back(sample_ended_flow(f, reason));
    } else {
      ++ended_dropped;
    }
  }
  void on_flow_start(const flow::Flow& f) override {
    if (!attributor) return;
    if (f.key.proto != decode::ip_proto::tcp && f.key.proto != decode::ip_proto::udp) return;
    // The client first: see host::Attributor (its socket is preferred when both ends
    // are on this host).
    attributor->request(host::FlowQuery{f.key.proto, f.client(), f.server()});
  }
  void on_dns_event(const flow::Flow& f, dpi::DnsEvent&& e) override {
    dns_events.push(f, std::move(e));
  }
  // --- PacketHandler: live packets.
  void on_packet(const capture::RawPacket& pkt) override { engine->process(pkt); }
  // A batch: decoded ahead and the flows' cache lines prefetched (Engine::process_batch).
  void on_packets(std::span<const capture::RawPacket> pkts) override {
    engine->process_batch(pkts);
  }

  void open() {
    for (const std::string& cidr : cfg.local_nets) {
      std::string error;
      if (!local_nets.add_cidr(cidr, &error)) {
        throw std::runtime_error("--local-net " + cidr + ": " + error);
      }
      have_local_nets = true;
    }
    EngineConfig ec;
    ec.flows.max_flows = cfg.max_flows;
    ec.flows.timeouts = cfg.timeouts;
    ec.dpi = cfg.dpi;
    ec.tap = cfg.packet_tap;  // the recorder (--record-*), or none
    if (cfg.read_file.empty()) {
      capture::LiveOptions lo = cfg.capture;
      lo.batch = Engine::kBatch;
      lo.loopback_dns = lo.loopback_dns && cfg.dpi;  // the queries are seen only through DPI
      live = std::make_unique<capture::LiveCapture>(std::move(lo));
      iface_names = live->interfaces();
      if (cfg.attribute) {
        host::AttributorConfig ac;
        // Which namespace can hold a flow end's socket (AttributorConfig::local_here).
        // Called on the lookup thread; local_addresses is set before the threads start.
        ac.local_here = [this](const core::IpAddress& a) -> std::optional<bool> {
          if (!local_addresses || local_addresses->version() == 0) return std::nullopt;
          return local_addresses->contains(a);
        };
        attributor = std::make_unique<host::Attributor>(std::move(ac));
        resolver = std::make_unique<AttributorResolver>(*attributor);
        // Kernel facts beat guesses: a flow whose socket the kernel still reports is not
        // aged out by a timeout (the set is rebuilt every tick from the attribution).
        ec.flows.kernel_alive = [this](const flow::Flow& f) {
          const std::shared_ptr<const KeySet> set = kernel_sockets.load();
          return set && set->contains(socket_key(f.key.addr_a, f.key.port_a, f.key.addr_b,
                                                 f.key.port_b, f.key.proto));
        };
      }
      local_addresses = std::make_unique<host::LocalAddresses>();
      if (attributor && cfg.syn_watch) {
        try {
          syn_watch =
              std::make_unique<capture::SynWatch>(iface_names, [this](const capture::SynEvent& e) {
                // The client first: a SYN-ACK is sent by the server.
                if (e.ack) {
                  attributor->request(host::FlowQuery{decode::ip_proto::tcp,
                                                      core::Endpoint{e.dst, e.dport},
                                                      core::Endpoint{e.src, e.sport}});
                  return;
                }
                attributor->request(host::FlowQuery{decode::ip_proto::tcp,
                                                    core::Endpoint{e.src, e.sport},
                                                    core::Endpoint{e.dst, e.dport}});
              });
        } catch (const std::exception& e) {
          listener.on_event(std::string("SYN watch unavailable (") + e.what() +
                            "); short-lived connections may go unattributed");
        }
      }
    } else {
      reader = std::make_unique<capture::FileReader>();
      reader->open(cfg.read_file);
      check_capture_input(*reader, cfg.read_file, cfg.capture.bpf);  // as analyze: exit 2
      pacer = std::make_unique<capture::ReplayPacer>(cfg.speed);
      ec.bpf = cfg.capture.bpf;
    }
    engine = std::make_unique<Engine>(ec, *this);

    TickBuilderConfig tc;
    tc.window_s = cfg.window_s;
    tc.idle_after_s = cfg.timeouts.idle_after;
    tc.refresh_s = static_cast<double>(cfg.refresh.count()) / 1000.0;
    tc.replay = !cfg.read_file.empty();
    tc.keep_history = cfg.keep_history;
    tc.show_localhost = cfg.capture.show_localhost;
    tc.resolver = resolver.get();
    if (local_addresses) {
      tc.is_local = [this](const core::IpAddress& a) {
        return local_addresses->contains(a) || (have_local_nets && local_nets.contains(a));
      };
    } else if (have_local_nets) {
      tc.is_local = [this](const core::IpAddress& a) { return local_nets.contains(a); };
    }
    if (cfg.resolve) {
      tc.host_name = [this](const core::IpAddress& a) -> std::optional<std::string> {
        if (!rdns) return std::nullopt;
        return rdns->lookup(a);
      };
    }
    builder = std::make_unique<TickBuilder>(std::move(tc));
    ended.reserve(4096);
  }

  std::vector<InterfaceStatus> interface_status() {
    std::vector<InterfaceStatus> out;
    if (live) {
      for (const capture::LiveInterfaceStats& s : live->stats()) {
        out.push_back(InterfaceStatus{s.name, s.dropped + s.if_dropped, s.open, s.error});
      }
      return out;
    }
    const auto& ifs = reader->interfaces();
    std::lock_guard lock(mu);
    iface_names.clear();
    for (std::size_t i = 0; i < ifs.size(); ++i) {
      std::string name = ifs[i].name.empty() ? "if" + std::to_string(i) : ifs[i].name;
      iface_names.push_back(name);
      out.push_back(InterfaceStatus{std::move(name), 0, true, ""});
    }
    return out;
  }

  // A record whose own socket the kernel reported at this tick (an exact owner in a state
  // that still carries traffic): its flow is not aged out (FlowTableConfig::kernel_alive).
  static bool kernel_open(const ConnectionRecord& c) {
    if (c.closed || c.attribution != "exact" || c.kernel_state.empty()) return false;
    return c.kernel_state != "TIME_WAIT" && c.kernel_state != "CLOSE" && c.kernel_state != "CLOSED";
  }

  // The set of kernel_open() connections, for the packet path. It stands while the records
  // the tick built (the rest are unchanged copies) agree with it: an open connection stays
  // listed, so a socket leaves the set only through a record rebuilt as closed or with
  // another kernel state. Rebuilt from every record every kKernelSetRebuild ticks, and
  // whenever a built record disagrees (10,000 idle connections: it was 10,000 nodes
  // allocated, hashed and freed on every tick that built any record).
  void publish_kernel_sockets(const Snapshot& snap) {
    constexpr unsigned kKernelSetRebuild = 10;
    const std::shared_ptr<const KeySet> old = kernel_sockets.load();
    if (old && kernel_set_age < kKernelSetRebuild) {
      const auto agrees = [&](std::uint32_t i) {
        const ConnectionRecord& c = snap.connections[i];
        const bool in = old->contains(
            socket_key(c.local_addr, c.local_port, c.remote_addr, c.remote_port, c.proto));
        return in == kernel_open(c);
      };
      const std::vector<std::uint32_t>& built = builder->last_built();
      if (std::all_of(built.begin(), built.end(), agrees)) {
        ++kernel_set_age;
        return;
      }
    }
    kernel_set_age = 0;
    auto set = std::make_shared<KeySet>();
    if (old) set->reserve(old->size());
    for (const ConnectionRecord& c : snap.connections) {
      if (!kernel_open(c)) continue;
      set->insert(socket_key(c.local_addr, c.local_port, c.remote_addr, c.remote_port, c.proto));
    }
    kernel_sockets.store(std::move(set));
  }

  void do_tick(core::Timestamp now, bool end_of_input, bool publish = true) {
    TickInput in;
    // The table's flows are sampled one at a time as the tick takes them: a buffer of
    // every flow's sample (384 bytes each) is not kept. Then the flows ended since the
    // last tick; their list keeps its capacity from tick to tick.
    in.sample = [this](const std::function<void(const FlowSample&)>& fn) {
      engine->sample_flows(fn);
    };
    in.flows.swap(ended);
    in.time = now;
    in.started = started;
    const flow::FlowTable& table = engine->flows();
    dns_events.take(in.dns);
    in.dns_dropped = dns_events.dropped();
    in.packets = engine->stats().packets;
    in.flows_in_table = table.size();
    in.flows_evicted = table.evicted();
    if (in.flows_evicted != 0 && !evictions_warned) {
      evictions_warned = true;
      // Once: the counter is in every tick, the TUI header and the metrics.
      core::Log::warn(
          fmt::format("the flow table is full (--max-flows {}): the stalest flows are ended early "
                      "and counted as evicted; raise --max-flows to track more at once",
                      cfg.max_flows));
    }
    if (attributor) in.attribution_overflow = attributor->stats().queue_overflow;
    in.interfaces = interface_status();
    in.end_of_input = end_of_input;
    std::shared_ptr<Snapshot> built = builder->tick_shared(in);
    ended.swap(in.flows);
    // A burst of ended flows (a flood's evictions) may have grown the list towards
    // kMaxEndedPerTick samples (~400 MB); that memory is given back once a tick needs a
    // small part of it.
    if (ended.capacity() > 65'536 && ended.size() < ended.capacity() / 8) {
      ended = std::vector<FlowSample>();
      ended.reserve(4096);
    }
    ended.clear();
    if (attributor) publish_kernel_sockets(*built);
    for (const auto& d : cfg.decorators) d(*built);
    std::shared_ptr<const Snapshot> snap = std::move(built);
    {
      std::lock_guard lock(mu);
      latest_snap = snap;
    }
    if (live) {
      for (const std::string& e : live->take_events()) listener.on_event(e);
    }
    if (publish) listener.on_snapshot(snap);
  }

  // Everything that runs on a thread of its own starts here, after the caller's
  // before_threads hook: capabilities are per thread, so dropping them must come first.
  void start_threads() {
    if (cfg.before_threads) cfg.before_threads();
    if (cfg.resolve) rdns = std::make_unique<enrich::ReverseDns>();
    if (local_addresses) {
      std::string error;
      if (!local_addresses->start(&error)) {
        listener.on_event("local addresses unavailable (" + error +
                          "): up and down cannot be told apart");
      }
    }
  }

  MonitorResult run_live() {
    using clock = std::chrono::steady_clock;
    start_threads();
    if (attributor) attributor->start();
    if (syn_watch) syn_watch->start();
    started = wall_now();
    const auto t0 = clock::now();
    auto next_tick = t0 + cfg.refresh;
    const auto deadline =
        cfg.duration_s ? std::optional(t0 + std::chrono::duration_cast<clock::duration>(
                                                std::chrono::duration<double>(*cfg.duration_s)))
                       : std::nullopt;
    while (!stopping.load(std::memory_order_relaxed)) {
      auto now = clock::now();
      auto until = std::min(next_tick, deadline.value_or(next_tick));
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
      live->dispatch(static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 100)), *this);
      now = clock::now();
      if (deadline && now >= *deadline) break;
      if (now >= next_tick) {
        engine->advance_clock(wall_now());
        do_tick(wall_now(), false);
        next_tick += cfg.refresh;
        if (next_tick <= now) next_tick = now + cfg.refresh;  // fell behind: do not burst
      }
    }
    // Packets still in the kernel ring: a TPACKET_V3 block is handed over when it fills
    // or when its timeout retires it, so wait out one timeout and take what is there.
    for (int i = 0; i < 2; ++i) live->dispatch(cfg.capture.timeout_ms, *this);
    // Lookups asked for by those packets (and by the SYN watch) before the last tick, so
    // that a connection that ended just before the stop is attributed like the others.
    if (attributor) attributor->drain(std::chrono::milliseconds(500));
    // Fold in the last partial interval for the whole-run document.
    engine->advance_clock(wall_now());
    do_tick(wall_now(), false, /*publish=*/false);
    if (syn_watch) syn_watch->stop();
    if (attributor) attributor->stop();
    return {};
  }

  MonitorResult run_replay() {
    start_threads();
    const std::int64_t refresh_ns = std::chrono::nanoseconds(cfg.refresh).count();
    // A quiet stretch longer than this gets no ticks of its own but the last few.
    const std::int64_t max_idle_ticks =
        static_cast<std::int64_t>(cfg.window_s * 1e9) / refresh_ns + 2;
    capture::RawPacket pkt;
    bool first = true;
    std::int64_t next_tick = 0;
    core::Timestamp last{};
    while (!stopping.load(std::memory_order_relaxed) && reader->next(pkt)) {
      if (first) {
        started = pkt.ts;
        next_tick = pkt.ts.ns + refresh_ns;
        first = false;
      }
      if (pkt.ts.ns >= next_tick) {
        const std::int64_t due = (pkt.ts.ns - next_tick) / refresh_ns + 1;
        if (due > max_idle_ticks) {
          for (std::int64_t i = 0; i < 2; ++i) {
            pacer->pace(core::Timestamp{next_tick});
            do_tick(core::Timestamp{next_tick}, false);
            next_tick += refresh_ns;
          }
          next_tick += (due - max_idle_ticks) * refresh_ns;
        }
        while (pkt.ts.ns >= next_tick && !stopping.load(std::memory_order_relaxed)) {
          pacer->pace(core::Timestamp{next_tick});
          do_tick(core::Timestamp{next_tick}, false);
          next_tick += refresh_ns;
        }
      }
      pacer->pace(pkt.ts);
      engine->process(pkt);
      if (pkt.ts.ns > last.ns) last = pkt.ts;
    }
    MonitorResult result;
    if (reader->status() == capture::ReadStatus::truncated ||
        reader->status() == capture::ReadStatus::corrupt) {
      result.exit_code = 3;
      result.error = reader->error();
      listener.on_event(reader->error());
    }
    engine->finish();
    if (first) started = last;
    do_tick(last, /*end_of_input=*/true);
    return result;
  }
};

LiveMonitor::LiveMonitor(MonitorConfig config, SnapshotListener& listener)
    : impl_(std::make_unique<Impl>(std::move(config), listener)) {
  impl_->open();
}

LiveMonitor::~LiveMonitor() {
  if (impl_->syn_watch) impl_->syn_watch->stop();
  if (impl_->attributor) impl_->attributor->stop();
}

MonitorResult LiveMonitor::run() {
  return impl_->live ? impl_->run_live() : impl_->run_replay();
}

void LiveMonitor::stop() {
  impl_->stopping.store(true, std::memory_order_relaxed);
  if (impl_->live) impl_->live->wake();
  if (impl_->pacer) impl_->pacer->interrupt();
}

Snapshot LiveMonitor::whole_run() const {
  Snapshot doc = impl_->builder->whole_run();
  for (const auto& d : impl_->cfg.decorators) d(doc);
  return doc;
}

std::shared_ptr<const Snapshot> LiveMonitor::latest() const {
  std::lock_guard lock(impl_->mu);
  return impl_->latest_snap;
}

std::vector<std::string> LiveMonitor::interfaces() const {
  std::lock_guard lock(impl_->mu);
  return impl_->iface_names;
}

}  // namespace netscope::monitor
