// RecorderWriter: the recorder's writer thread. It drains the ring, keeps the packets of
// flows that are not attributed yet in bounded per-flow buffers, and writes the packets of
// each recording to its pcapng file (see recorder.hpp).

#include <linux/capability.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "capture/pcapng_writer.hpp"
#include "core/log.hpp"
#include "host/privileges.hpp"
#include "monitor/recorder_impl.hpp"

namespace netscope::monitor {

namespace {

// A packet held until its flow is attributed.
struct HeldPacket {
  std::int64_t ts_ns = 0;
  std::uint32_t orig_len = 0;
  std::uint32_t interface_id = 0;
  std::int32_t linktype = 0;
  std::vector<std::uint8_t> data;
};

struct PendingFlow {
  std::vector<HeldPacket> packets;
  std::size_t bytes = 0;
  int ticks = 0;  // refreshes waited
};

// A pending flow not decided within this many refreshes is dropped (the tick side
// decides every flow it sees within the attribution grace; this catches the others).
constexpr int kMaxPendingTicks = 10;

std::string safe_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    out += ok ? c : '_';
  }
  return out.empty() ? "unknown" : out;
}

// 20261206T201530.123456Z: UTC wall clock, microseconds, sortable.
std::string file_time() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%06ldZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string os_name() {
  utsname u{};
  if (::uname(&u) != 0) return "";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

}  // namespace

struct RecorderWriter::Impl {
  const RecorderConfig& cfg;
  RecorderRing& ring;
  std::mutex& mu;
  std::map<std::uint32_t, RecordingInfo>& infos;
  std::vector<std::string>& interface_names;
  std::vector<std::string>& files;
  RecorderStats& shared_stats;
  RecorderStats stats;  // this thread's, published under mu after every batch

  struct Recording {
    RecordingInfo info;
    std::string comment;  // on every packet
    std::unique_ptr<capture::PcapngWriter> file;
    std::string path;
    std::map<std::uint32_t, std::uint32_t> idb;  // capture interface id -> file's
    bool failed = false;
    bool stopped = false;
  };
  std::map<std::uint32_t, Recording> recordings;
  std::unordered_map<core::FlowKey, PendingFlow, FlowKeyHash> pending;
  std::size_t pending_bytes = 0;
  const std::string host = host_name();
  const std::string os = os_name();

  Impl(const RecorderConfig& c, RecorderRing& r, std::mutex& m,
       std::map<std::uint32_t, RecordingInfo>& i, std::vector<std::string>& n,
       std::vector<std::string>& f, RecorderStats& s)
      : cfg(c), ring(r), mu(m), infos(i), interface_names(n), files(f), shared_stats(s) {}

  void fail(Recording& r, const std::string& what, int err) {
    fail(r, what + ": " + std::strerror(err));
  }
  void fail(Recording& r, const std::string& why) {
    r.failed = true;
    ++stats.failed;
    r.file.reset();  // closes; a second error there is the same disk
    core::Log::error("ALERT: recording of " + r.info.name + " (pid " + std::to_string(r.info.pid) +
                     ") stopped: " + why + "; monitoring goes on");
  }

  bool open_file(Recording& r) {
    capture::PcapngWriterOptions o;
    o.comment = "netscope recording of " + r.info.name + " (pid " + std::to_string(r.info.pid) +
                ", " + r.info.reason + ") on host " + host;
    o.hardware = "host " + host;
    o.os = os;
    o.application = "netscope " + cfg.version;
    o.mode = 0600;
    o.exclusive = true;
    const std::string base = cfg.dir + "/capture_" + safe_name(r.info.name) + "_" +
                             std::to_string(r.info.pid) + "_" + file_time();
    for (int attempt = 0; attempt < 100; ++attempt) {
      const std::string path =
          base + (attempt == 0 ? "" : "-" + std::to_string(attempt)) + ".pcapng";
      if (::access(path.c_str(), F_OK) == 0) continue;  // same microsecond: next suffix
      try {
        r.file = std::make_unique<capture::PcapngWriter>(path, o);
      } catch (const std::runtime_error& e) {
        fail(r, e.what());
        return false;
      }
      r.path = path;
      r.idb.clear();
      ++stats.files;
      std::lock_guard lock(mu);
      files.push_back(path);
      return true;
    }
    fail(r, base + ": every name is taken");
    return false;
  }

  Recording* recording(std::uint32_t id) {
    auto it = recordings.find(id);
    if (it != recordings.end()) return &it->second;
    RecordingInfo info;
    {
      std::lock_guard lock(mu);
      auto i = infos.find(id);
      if (i == infos.end()) return nullptr;
      info = i->second;
    }
    Recording& r = recordings[id];
    r.info = info;
    r.comment = "process=" + info.name + " pid=" + std::to_string(info.pid);
    open_file(r);
    return &r;
  }

  void write(Recording& r, std::int64_t ts_ns, std::uint32_t orig_len, std::uint32_t ifid,
             std::int32_t linktype, std::span<const std::uint8_t> data) {
    if (r.failed || r.stopped || !r.file) return;
    // --pcap-max-mb: the next block would pass the cap, so the file is closed and the
    // recording goes on in a new one (a file holds at least one packet).
    const std::uint64_t block = 32 + ((data.size() + 3) & ~std::size_t{3}) + r.comment.size() + 12;
    if (cfg.max_file_bytes != 0 && !r.idb.empty() && r.file->bytes() + block > cfg.max_file_bytes) {
      if (!r.file->close()) return fail(r, r.path, r.file->last_errno());
      if (!open_file(r)) return;
    }
    auto it = r.idb.find(ifid);
    if (it == r.idb.end()) {
      std::string name;
      {
        std::lock_guard lock(mu);
        if (ifid < interface_names.size()) name = interface_names[ifid];
      }
      it = r.idb.emplace(ifid, r.file->add_interface(linktype, 262144, name)).first;
    }
    if (!r.file->write(it->second, core::Timestamp{ts_ns}, data, orig_len, r.comment)) {
      return fail(r, r.path, r.file->last_errno());
    }
    ++stats.packets_written;
  }

  void hold(const RecordHeader& h, std::span<const std::uint8_t> data) {
    // A new flow gets a buffer only while there is room for its packet and fewer than
    // max_flows wait: a flood of new flows must not grow the map past the byte budget.
    auto found = pending.find(h.key);
    if (found == pending.end()) {
      if (pending.size() >= cfg.max_flows ||
          pending_bytes + data.size() > cfg.pending_bytes_total) {
        ++stats.pending_dropped;
        return;
      }
      found = pending.try_emplace(h.key).first;
    }
    PendingFlow& p = found->second;
    if (p.packets.size() >= cfg.pending_packets_per_flow ||
        p.bytes + data.size() > cfg.pending_bytes_per_flow ||
        pending_bytes + data.size() > cfg.pending_bytes_total) {
      ++stats.pending_dropped;
      return;
    }
    p.packets.push_back(HeldPacket{h.ts_ns, h.orig_len, h.interface_id, h.linktype,
                                   std::vector<std::uint8_t>(data.begin(), data.end())});
    p.bytes += data.size();
    pending_bytes += data.size();
  }

  void decide(const RecordHeader& h) {
    auto it = pending.find(h.key);
    if (it == pending.end()) return;
    if (h.recording != 0) {
      if (Recording* r = recording(h.recording)) {
        for (const HeldPacket& p : it->second.packets) {
          write(*r, p.ts_ns, p.orig_len, p.interface_id, p.linktype, p.data);
        }
      }
    }
    pending_bytes -= it->second.bytes;
    pending.erase(it);
  }

  void age_pending() {
    for (auto it = pending.begin(); it != pending.end();) {
      if (++it->second.ticks > kMaxPendingTicks) {
        pending_bytes -= it->second.bytes;
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }

  void handle(const RecordHeader& h, std::span<const std::uint8_t> data) {
    switch (h.kind) {
      case RecordKind::packet:
        if (h.recording == 0) {
          hold(h, data);
        } else if (Recording* r = recording(h.recording)) {
          write(*r, h.ts_ns, h.orig_len, h.interface_id, h.linktype, data);
        }
        break;
      case RecordKind::decide:
        decide(h);
        break;
      case RecordKind::start:
        recording(h.recording);
        break;
      case RecordKind::stop:
        if (Recording* r = recording(h.recording)) {
          if (r->file && !r->failed && !r->file->close()) fail(*r, r->path, r->file->last_errno());
          r->file.reset();
          r->stopped = true;
          core::Log::info("recording of " + r->info.name + " (pid " + std::to_string(r->info.pid) +
                          ") ended");
        }
        break;
      case RecordKind::tick:
        age_pending();
        break;
      case RecordKind::wrap:
        break;
    }
  }

  void flush_files() {
    for (auto& [id, r] : recordings) {
      if (r.file && !r.failed && !r.file->flush()) fail(r, r.path, r.file->last_errno());
    }
  }

  void publish() {
    stats.pending_flows = pending.size();
    std::lock_guard lock(mu);
    shared_stats = stats;
  }

  void run(const std::atomic<bool>& stop) {
    for (;;) {
      const bool stopping = stop.load(std::memory_order_acquire);
      const std::size_t n = ring.drain(
          [this](const RecordHeader& h, std::span<const std::uint8_t> data) { handle(h, data); });
      if (n > 0) {
        flush_files();
        publish();
      }
      if (stopping && n == 0) break;
      if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& [id, r] : recordings) {
      if (r.file && !r.failed && !r.file->close()) fail(r, r.path, r.file->last_errno());
      r.file.reset();
    }
    publish();
  }
};

RecorderWriter::RecorderWriter(const RecorderConfig& config, RecorderRing& ring, std::mutex& mu,
                               std::map<std::uint32_t, RecordingInfo>& infos,
                               std::vector<std::string>& interface_names,
                               std::vector<std::string>& files, RecorderStats& stats)
    : impl_(std::make_unique<Impl>(config, ring, mu, infos, interface_names, files, stats)) {}

RecorderWriter::~RecorderWriter() = default;

void RecorderWriter::run(const std::atomic<bool>& stop) {
  // It creates files in --pcap-dir, which the start-up check let it write to (as root:
  // with CAP_DAC_OVERRIDE in another user's directory).
  host::drop_thread_capabilities("packet recorder", {CAP_DAC_OVERRIDE});
  impl_->run(stop);
}

}  // namespace netscope::monitor
