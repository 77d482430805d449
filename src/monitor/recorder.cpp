// Recorder: the packet path (on_packet) and the tick (on_tick). See recorder.hpp.

#include "monitor/recorder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "core/log.hpp"
#include "monitor/recorder_impl.hpp"

namespace netscope::monitor {

// --- DecisionTable

DecisionTable::DecisionTable(std::size_t max_flows) {
  std::size_t cap = 1024;
  while (cap < max_flows * 2) cap *= 2;
  slots_.resize(cap);
  mask_ = cap - 1;
}

bool DecisionTable::put(const core::FlowKey& key, std::uint32_t recording) {
  if ((used_ + 1) * 2 > slots_.size()) return false;  // keep probes short: at most half full
  for (std::size_t i = core::hash_flow_key(key) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.generation != generation_) {
      s = Slot{key, recording, generation_};
      ++used_;
      return true;
    }
    if (s.key == key) {
      s.recording = recording;
      return true;
    }
  }
}

const std::uint32_t* DecisionTable::find(const core::FlowKey& key) const {
  for (std::size_t i = core::hash_flow_key(key) & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.generation != generation_) return nullptr;
    if (s.key == key) return &s.recording;
  }
}

// --- Recorder

namespace {

constexpr std::uint32_t kNotRecorded = 0;
// Control records held while the ring is full (push_control).
constexpr std::size_t kMaxDeferred = 65'536;

std::int64_t seconds_ns(double s) {
  return static_cast<std::int64_t>(s * 1e9);
}

}  // namespace

struct Recorder::Impl {
  RecorderConfig cfg;
  std::optional<std::regex> process_regex;
  RecorderRing ring;
  DecisionTable table;

  // Packet path counters (one writer: the packet thread; read by stats()).
  std::atomic<std::uint64_t> packets_queued{0};
  std::atomic<std::uint64_t> queue_overflow{0};
  std::atomic<bool> finished{false};

  // Tick state (the tick thread only).
  struct Active {
    std::uint32_t id = 0;
    std::string reason;
    std::int64_t last_above_ns = 0;
    std::int64_t exited_ns = -1;  // when a tick first saw the process gone
  };
  std::map<pid_t, Active> active;
  struct Decision {
    std::uint32_t recording = kNotRecorded;
    std::int64_t last_seen_ns = 0;
  };
  std::unordered_map<core::FlowKey, Decision, FlowKeyHash> decisions;
  std::vector<RecordHeader> deferred;  // control records the full ring refused (kMaxDeferred)
  std::set<pid_t> wanted_pids;         // --record-pid and toggled on
  std::set<pid_t> unwanted_pids;       // toggled off (beats the regex and auto)
  std::set<pid_t> ended_pids;          // recorded until they exited
  std::uint32_t next_id = 1;

  // Shared with other threads under mu.
  mutable std::mutex mu;
  std::vector<pid_t> toggles;
  std::set<pid_t> recorded;
  std::map<std::uint32_t, RecordingInfo> infos;
  std::vector<std::string> interface_names;
  std::vector<std::string> files;
  RecorderStats writer_stats;
  std::uint64_t recordings = 0;

  std::unique_ptr<RecorderWriter> writer;
  std::atomic<bool> stop_writer{false};
  std::thread thread;

  explicit Impl(RecorderConfig c) : cfg(std::move(c)), ring(cfg.queue_bytes), table(cfg.max_flows) {
    if (!cfg.process_regex.empty()) {
      try {
        process_regex.emplace(cfg.process_regex, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw std::runtime_error("--record-process \"" + cfg.process_regex + "\": " + e.what());
      }
    }
    struct stat st {};
    if (::stat(cfg.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw std::runtime_error("--pcap-dir " + cfg.dir + ": not a directory");
    }
    if (::access(cfg.dir.c_str(), W_OK | X_OK) != 0) {
      throw std::runtime_error("--pcap-dir " + cfg.dir + ": " + std::strerror(errno));
    }
    wanted_pids.insert(cfg.pids.begin(), cfg.pids.end());
    writer = std::make_unique<RecorderWriter>(cfg, ring, mu, infos, interface_names, files,
                                              writer_stats);
    thread = std::thread([this] { writer->run(stop_writer); });
  }

  ~Impl() { finish(); }

  void finish() {
    finished.store(true);
    if (thread.joinable()) {
      stop_writer.store(true);
      thread.join();
    }
  }

  void push_control(RecordKind kind, std::uint32_t id, const core::FlowKey& key = {}) {
    RecordHeader h;
    h.kind = kind;
    h.recording = id;
    h.key = key;
    if (deferred.empty() && ring.try_push(h, {})) return;
    // The ring stays full (the disk under --pcap-dir stalls): starts and stops always wait
    // their turn, but past kMaxDeferred a flow's decision or a tick is dropped and counted
    // (that flow's waiting packets then age out in the writer).
    const bool droppable = kind == RecordKind::decide || kind == RecordKind::tick;
    if (droppable && deferred.size() >= kMaxDeferred) {
      queue_overflow.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    deferred.push_back(h);
  }

  void push_deferred() {
    std::size_t done = 0;
    while (done < deferred.size() && ring.try_push(deferred[done], {})) ++done;
    deferred.erase(deferred.begin(), deferred.begin() + static_cast<std::ptrdiff_t>(done));
  }

  void start(pid_t pid, const std::string& name, const std::string& reason, std::int64_t now) {
    const std::uint32_t id = next_id++;
    {
      std::lock_guard lock(mu);
      infos[id] = RecordingInfo{name, pid, reason};
      ++recordings;
    }
    active[pid] = Active{id, reason, now};
    push_control(RecordKind::start, id);
    core::Log::info("recording " + name + " (pid " + std::to_string(pid) + ", " + reason + ")");
  }

  void stop(pid_t pid) {
    auto it = active.find(pid);
    if (it == active.end()) return;
    const std::uint32_t id = it->second.id;
    for (auto& [key, d] : decisions) {
      if (d.recording == id) d.recording = kNotRecorded;
    }
    active.erase(it);
    push_control(RecordKind::stop, id);
  }

  bool wants(const ProcessRecord& p) const {
    if (unwanted_pids.contains(*p.pid)) return false;
    if (wanted_pids.contains(*p.pid)) return true;
    return process_regex && std::regex_search(p.name, *process_regex);
  }

  // Returns the pids that exited at least exit_linger_s ago: they are stopped after their
  // flows are decided, so that a short-lived process seen for the first time after it
  // exited still gets the packets its flows left in the writer's buffers.
  std::vector<pid_t> decide_processes(const Snapshot& snap, std::int64_t now) {
    std::vector<pid_t> exited;
    std::vector<pid_t> flips;
    {
      std::lock_guard lock(mu);
      flips.swap(toggles);
    }
    for (pid_t pid : flips) {
      if (active.contains(pid) || wanted_pids.contains(pid)) {
        wanted_pids.erase(pid);
        unwanted_pids.insert(pid);
        stop(pid);
      } else {
        unwanted_pids.erase(pid);
        wanted_pids.insert(pid);
      }
    }
    const double threshold = cfg.auto_mbps ? *cfg.auto_mbps * 1e6 : 0;
    for (const ProcessRecord& p : snap.processes) {
      if (!p.pid) continue;
      if (p.exited) {
        if (!active.contains(*p.pid) && !ended_pids.contains(*p.pid) && wants(p)) {
          start(*p.pid, p.name, "process", now);
        }
        auto it = active.find(*p.pid);
        if (it != active.end() && it->second.exited_ns < 0) it->second.exited_ns = now;
        continue;
      }
      const bool above =
          cfg.auto_mbps && p.rate_up + p.rate_down >= threshold && !unwanted_pids.contains(*p.pid);
      auto it = active.find(*p.pid);
      if (it != active.end()) {
        if (above) it->second.last_above_ns = now;
        // --auto-pcap-hold: an automatic recording ends once the rate stayed below the
        // threshold for the hold time; one the user asked for runs until the process ends.
        if (it->second.reason == "auto" && !wants(p) &&
            now - it->second.last_above_ns >= seconds_ns(cfg.auto_hold_s)) {
          stop(*p.pid);
        }
      } else if (wants(p)) {
        start(*p.pid, p.name, wanted_pids.contains(*p.pid) ? "pid" : "process", now);
      } else if (above) {
        start(*p.pid, p.name, "auto", now);
      }
    }
    // A process is stopped exit_linger_s after the first tick that saw it exited, whether
    // or not later snapshots still list it, so its last packets, still in the capture
    // ring when that tick ran, reach the file.
    for (const auto& [pid, a] : active) {
      if (a.exited_ns >= 0 && now - a.exited_ns >= seconds_ns(cfg.exit_linger_s)) {
        exited.push_back(pid);
      }
    }
    return exited;
  }

  void decide_flows(const Snapshot& snap, std::int64_t now) {
    for (const ConnectionRecord& c : snap.connections) {
      std::uint32_t rec = kNotRecorded;
      if (c.pid) {
        auto it = active.find(*c.pid);
        if (it != active.end()) rec = it->second.id;
      } else if (now - c.first_seen.ns < seconds_ns(cfg.attribution_grace_s) && !c.closed) {
        continue;  // not attributed yet: its packets keep waiting in the writer's buffer
      }
      const core::FlowKey key =
          core::make_flow_key(c.local_addr, c.local_port, c.remote_addr, c.remote_port, c.proto)
              .key;
      auto [it, fresh] = decisions.try_emplace(key);
      it->second.recording = rec;
      it->second.last_seen_ns = now;
      // The first decision flushes (or drops) what the writer holds of the flow.
      if (fresh) push_control(RecordKind::decide, rec, key);
    }
    // Flows gone from the snapshots for two minutes are forgotten (they ended long ago).
    std::erase_if(decisions,
                  [&](const auto& kv) { return now - kv.second.last_seen_ns > seconds_ns(120); });
    // A flood of short flows within those two minutes: down to the table's size, the flows
    // not recorded first, then the least recently listed (a flow listed again is decided
    // again; a recorded one evicted while still listed would be re-decided every tick).
    if (decisions.size() > cfg.max_flows) {
      struct Aged {
        bool recorded;
        std::int64_t last_seen_ns;
        core::FlowKey key;
      };
      std::vector<Aged> by_age;
      by_age.reserve(decisions.size());
      for (const auto& [key, d] : decisions) {
        by_age.push_back({d.recording != kNotRecorded, d.last_seen_ns, key});
      }
      const std::size_t excess = decisions.size() - cfg.max_flows;
      std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(excess),
                       by_age.end(), [](const Aged& a, const Aged& b) {
                         return std::tie(a.recorded, a.last_seen_ns) <
                                std::tie(b.recorded, b.last_seen_ns);
                       });
      for (std::size_t i = 0; i < excess; ++i) decisions.erase(by_age[i].key);
    }
    table.clear();
    for (const auto& [key, d] : decisions) table.put(key, d.recording);
  }

  void on_tick(const Snapshot& snap) {
    if (finished.load(std::memory_order_relaxed)) return;
    const std::int64_t now = snap.time.ns;
    push_deferred();
    const std::vector<pid_t> exited = decide_processes(snap, now);
    decide_flows(snap, now);
    for (pid_t pid : exited) {
      stop(pid);
      ended_pids.insert(pid);  // pids are reused only after a long while; ~a day of churn
      if (ended_pids.size() > 100'000) ended_pids.erase(ended_pids.begin());
    }
    push_control(RecordKind::tick, 0);
    std::lock_guard lock(mu);
    recorded.clear();
    for (const auto& [pid, a] : active) recorded.insert(pid);
  }

  void on_packet(const capture::RawPacket& pkt, const decode::PacketView& v) {
    if (decode::proto_has_ports(v.ip_proto) && !v.has_transport()) return;
    const core::FlowKey key = core::make_flow_key(v.src, v.sport, v.dst, v.dport, v.ip_proto).key;
    const std::uint32_t* rec = table.find(key);
    if (rec != nullptr && *rec == kNotRecorded) return;
    RecordHeader h;
    h.kind = RecordKind::packet;
    h.recording = rec != nullptr ? *rec : kNotRecorded;  // 0 here: not decided yet
    h.orig_len = pkt.orig_len;
    h.interface_id = pkt.interface_id;
    h.linktype = pkt.linktype;
    h.ts_ns = pkt.ts.ns;
    h.key = key;
    if (ring.try_push(h, pkt.data)) {
      packets_queued.fetch_add(1, std::memory_order_relaxed);
    } else {
      queue_overflow.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

Recorder::Recorder(RecorderConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Recorder::~Recorder() = default;

void Recorder::on_packet(const capture::RawPacket& pkt, const decode::PacketView& v) {
  impl_->on_packet(pkt, v);
}

void Recorder::on_tick(const Snapshot& snap) {
  impl_->on_tick(snap);
}

void Recorder::set_interfaces(std::vector<std::string> names) {
  std::lock_guard lock(impl_->mu);
  impl_->interface_names = std::move(names);
}

void Recorder::toggle(pid_t pid) {
  std::lock_guard lock(impl_->mu);
  impl_->toggles.push_back(pid);
}

bool Recorder::recording(pid_t pid) const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded.contains(pid);
}

void Recorder::finish() {
  impl_->finish();
  const RecorderStats s = stats();
  if (s.queue_overflow > 0 || s.pending_dropped > 0) {
    core::Log::warn("recording: " + std::to_string(s.queue_overflow) +
                    " packets dropped (writer queue full), " + std::to_string(s.pending_dropped) +
                    " dropped from full pre-attribution buffers");
  }
}

RecorderStats Recorder::stats() const {
  std::lock_guard lock(impl_->mu);
  RecorderStats s = impl_->writer_stats;
  s.packets_queued = impl_->packets_queued.load();
  s.queue_overflow = impl_->queue_overflow.load();
  s.recordings = impl_->recordings;
  return s;
}

std::vector<std::string> Recorder::files() const {
  std::lock_guard lock(impl_->mu);
  return impl_->files;
}

}  // namespace netscope::monitor
