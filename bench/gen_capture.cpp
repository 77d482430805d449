// gen_capture: writes the synthetic benchmark capture, a classic pcap (µs, Ethernet) of
// many concurrent TCP connections plus DNS and UDP streams (see synth_traffic.hpp).
//
//   gen_capture --out FILE [--packets N] [--flows N] [--duration S] [--snaplen N] [--seed N]
//               [--mix default|dpi]
//   gen_capture --version      prints the generator version (part of the cache key)
//
// The file holds at least --packets packets: response sizes are scaled until the planned
// flows give about that many, then bulk downloads are added until the count is reached.
// Output is deterministic for a given version and set of options.
//
// `--mix dpi` writes the DPI benchmark capture instead (dpi_traffic.hpp): --flows short
// TLS, HTTP, DNS and opaque connections with complete payloads; --packets is ignored
// and frames are cut only by --snaplen (use 65535 to keep every payload byte).

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

#include "dpi_traffic.hpp"
#include "synth_traffic.hpp"

namespace {

using netscope::bench::FlowPlan;
using netscope::bench::ModelConfig;
using netscope::bench::Segment;
using netscope::bench::TcpParams;

// Bump whenever the output for the same options changes: run.sh keys its cache on it.
// kDpiMixVersion covers the DPI mix alone (`--dpi-version` prints it; dpi_cost.sh keys on it).
constexpr int kGeneratorVersion = 1;
constexpr int kDpiMixVersion = 2;
constexpr std::int64_t kEpochNs = 1'767'225'600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z

struct Options {
  std::string out;
  std::uint64_t packets = 3'000'000;
  std::uint64_t flows = 50'000;
  std::uint32_t snaplen = 128;
  bool dpi_mix = false;
  ModelConfig model;
};

std::uint64_t parse_u64(const char* s, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') {
    throw std::runtime_error(std::string("bad value for ") + what + ": " + s);
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--version") {
      std::printf("%d\n", kGeneratorVersion);
      std::exit(0);
    }
    if (a == "--dpi-version") {
      std::printf("%d\n", kDpiMixVersion);
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
    const char* v = argv[++i];
    if (a == "--out") {
      o.out = v;
    } else if (a == "--packets") {
      o.packets = parse_u64(v, "--packets");
    } else if (a == "--flows") {
      o.flows = parse_u64(v, "--flows");
    } else if (a == "--duration") {
      o.model.duration_s = static_cast<double>(parse_u64(v, "--duration"));
    } else if (a == "--snaplen") {
      o.snaplen = static_cast<std::uint32_t>(parse_u64(v, "--snaplen"));
    } else if (a == "--seed") {
      o.model.seed = parse_u64(v, "--seed");
    } else if (a == "--mix") {
      const std::string mix = v;
      if (mix != "default" && mix != "dpi") throw std::runtime_error("--mix: default or dpi");
      o.dpi_mix = mix == "dpi";
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  if (o.out.empty()) throw std::runtime_error("--out FILE is required");
  if (o.snaplen < 96 || o.snaplen > 262144) throw std::runtime_error("--snaplen: 96..262144");
  if (o.flows == 0) throw std::runtime_error("--flows must be > 0");
  return o;
}

std::uint64_t count_packets(const ModelConfig& m, const std::vector<FlowPlan>& plans) {
  std::vector<Segment> segs;
  TcpParams tcp;
  std::uint64_t n = 0;
  for (const FlowPlan& p : plans) {
    netscope::bench::generate_flow(m, p, segs, tcp);
    n += segs.size();
  }
  return n;
}

// Chooses model.size_scale so that the planned flows give about `target` packets, then
// appends bulk flows until they give at least that many.
void calibrate(Options& o, std::vector<FlowPlan>& plans) {
  o.model.size_scale = 1;
  const double p1 = static_cast<double>(count_packets(o.model, plans));
  o.model.size_scale = 2;
  const double p2 = static_cast<double>(count_packets(o.model, plans));
  const double per_scale = std::max(p2 - p1, 1.0);
  const double fixed = p1 - per_scale;
  o.model.size_scale =
      std::clamp((static_cast<double>(o.packets) - fixed) / per_scale, 0.05, 1000.0);
  std::uint64_t total = count_packets(o.model, plans);
  std::vector<Segment> segs;
  TcpParams tcp;
  for (std::uint64_t id = plans.size(); total < o.packets; ++id) {
    plans.push_back(netscope::bench::plan_flow(o.model, id, true));
    netscope::bench::generate_flow(o.model, plans.back(), segs, tcp);
    total += segs.size();
  }
}

class PcapWriter {
 public:
  PcapWriter(const std::string& path, std::uint32_t snaplen) : f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) throw std::runtime_error("cannot write " + path + ": " + strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 22);
    const std::uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0,
                                     0,          snaplen,    1};  // LINKTYPE_ETHERNET
    put(header, sizeof header);
  }
  ~PcapWriter() {
    if (f_ != nullptr) std::fclose(f_);
  }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(std::int64_t ts_ns, const std::vector<std::uint8_t>& frame, std::uint32_t wire) {
    write(ts_ns, frame.data(), frame.size(), wire);
  }
  void write(std::int64_t ts_ns, const std::uint8_t* data, std::size_t caplen, std::uint32_t wire) {
    const std::int64_t t = kEpochNs + ts_ns;
    const std::uint32_t rec[4] = {static_cast<std::uint32_t>(t / 1'000'000'000),
                                  static_cast<std::uint32_t>(t % 1'000'000'000 / 1000),
                                  static_cast<std::uint32_t>(caplen), wire};
    put(rec, sizeof rec);
    put(data, caplen);
    bytes_ += sizeof rec + caplen;
  }
  void close(const std::string& path) {
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) throw std::runtime_error("cannot write " + path + ": " + strerror(errno));
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void put(const void* p, std::size_t n) {
    if (std::fwrite(p, 1, n, f_) != n) throw std::runtime_error("short write");
  }
  std::FILE* f_;
  std::uint64_t bytes_ = 24;
};

struct Active {
  const FlowPlan* plan = nullptr;
  TcpParams tcp;
  std::vector<Segment> segs;
  std::size_t pos = 0;
};

struct Next {
  std::int64_t ts;
  std::uint64_t id;  // tie-break, keeps the output deterministic
  std::size_t slot;
  bool operator>(const Next& o) const { return ts != o.ts ? ts > o.ts : id > o.id; }
};

void write_capture(const Options& o, std::vector<FlowPlan>& plans) {
  std::sort(plans.begin(), plans.end(), [](const FlowPlan& a, const FlowPlan& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.id < b.id;
  });
  PcapWriter out(o.out, o.snaplen);
  std::vector<Active> active;
  std::vector<std::size_t> free_slots;
  std::priority_queue<Next, std::vector<Next>, std::greater<>> heap;
  std::vector<std::uint8_t> frame;
  std::size_t next_plan = 0;
  std::size_t live = 0;
  std::size_t peak_live = 0;
  std::uint64_t packets = 0;
  std::uint64_t wire_bytes = 0;
  std::int64_t last_ts = 0;
  while (next_plan < plans.size() || !heap.empty()) {
    // Start every flow whose first packet comes before the next packet due.
    while (next_plan < plans.size() &&
           (heap.empty() || plans[next_plan].start_ns <= heap.top().ts)) {
      std::size_t slot = active.size();
      if (!free_slots.empty()) {
        slot = free_slots.back();
        free_slots.pop_back();
      } else {
        active.emplace_back();
      }
      Active& a = active[slot];
      a.plan = &plans[next_plan++];
      netscope::bench::generate_flow(o.model, *a.plan, a.segs, a.tcp);
      a.pos = 0;
      if (a.segs.empty()) {
        free_slots.push_back(slot);
        continue;
      }
      heap.push(Next{a.segs.front().ts_ns, a.plan->id, slot});
      peak_live = std::max(peak_live, ++live);
    }
    if (heap.empty()) continue;
    const Next n = heap.top();
    heap.pop();
    Active& a = active[n.slot];
    const Segment& s = a.segs[a.pos++];
    const std::uint32_t wire =
        netscope::bench::build_frame(a.plan->addr, a.tcp, s, o.snaplen, frame);
    out.write(s.ts_ns, frame, wire);
    ++packets;
    wire_bytes += wire;
    last_ts = s.ts_ns;
    if (a.pos < a.segs.size()) {
      heap.push(Next{a.segs[a.pos].ts_ns, a.plan->id, n.slot});
    } else {
      std::vector<Segment>().swap(a.segs);
      free_slots.push_back(n.slot);
      --live;
    }
  }
  out.close(o.out);
  std::fprintf(stderr,
               "gen_capture: %llu packets, %zu flows (peak %zu between their first and last "
               "packet), %.0f s, %.1f MB on the wire, %.1f MB file (snaplen %u), scale %.3f\n",
               static_cast<unsigned long long>(packets), plans.size(), peak_live,
               static_cast<double>(last_ts) / 1e9, static_cast<double>(wire_bytes) / 1e6,
               static_cast<double>(out.bytes()) / 1e6, o.snaplen, o.model.size_scale);
}

// The DPI mix: every flow's packets are built when it starts (they are few), then the
// flows are merged by timestamp as in write_capture().
void write_dpi_capture(const Options& o) {
  netscope::bench::DpiModelConfig model;
  model.seed = o.model.seed;
  model.duration_s = o.model.duration_s;
  std::vector<netscope::bench::DpiFlowPlan> plans;
  plans.reserve(o.flows);
  std::uint64_t kinds[5] = {};
  for (std::uint64_t id = 0; id < o.flows; ++id) {
    plans.push_back(netscope::bench::plan_dpi_flow(model, id));
    ++kinds[static_cast<int>(plans.back().kind)];
  }
  std::sort(plans.begin(), plans.end(), [](const auto& a, const auto& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.id < b.id;
  });
  struct Flow {
    std::uint64_t id = 0;
    std::vector<netscope::bench::DpiPacket> packets;
    std::size_t pos = 0;
  };
  PcapWriter out(o.out, o.snaplen);
  std::vector<Flow> active;
  std::vector<std::size_t> free_slots;
  std::priority_queue<Next, std::vector<Next>, std::greater<>> heap;
  std::size_t next_plan = 0;
  std::uint64_t packets = 0;
  std::uint64_t wire_bytes = 0;
  std::int64_t last_ts = 0;
  while (next_plan < plans.size() || !heap.empty()) {
    while (next_plan < plans.size() &&
           (heap.empty() || plans[next_plan].start_ns <= heap.top().ts)) {
      std::size_t slot = active.size();
      if (!free_slots.empty()) {
        slot = free_slots.back();
        free_slots.pop_back();
      } else {
        active.emplace_back();
      }
      Flow& f = active[slot];
      f.id = plans[next_plan].id;
      netscope::bench::generate_dpi_flow(model, plans[next_plan++], f.packets);
      f.pos = 0;
      if (f.packets.empty()) {
        free_slots.push_back(slot);
        continue;
      }
      heap.push(Next{f.packets.front().ts_ns, f.id, slot});
    }
    if (heap.empty()) continue;
    const Next n = heap.top();
    heap.pop();
    Flow& f = active[n.slot];
    const netscope::bench::DpiPacket& p = f.packets[f.pos++];
    const auto wire = static_cast<std::uint32_t>(p.frame.size());
    out.write(p.ts_ns, p.frame.data(), std::min<std::size_t>(wire, o.snaplen), wire);
    ++packets;
    wire_bytes += wire;
    last_ts = p.ts_ns;
    if (f.pos < f.packets.size()) {
      heap.push(Next{f.packets[f.pos].ts_ns, f.id, n.slot});
    } else {
      std::vector<netscope::bench::DpiPacket>().swap(f.packets);
      free_slots.push_back(n.slot);
    }
  }
  out.close(o.out);
  std::fprintf(stderr,
               "gen_capture: dpi mix v%d, %llu packets, %zu flows (TLS %llu, HTTP %llu, DNS %llu, "
               "DNS resolver %llu, opaque TCP %llu), %.0f s, %.1f MB on the wire, %.1f MB file "
               "(snaplen %u)\n",
               kDpiMixVersion, static_cast<unsigned long long>(packets), plans.size(),
               static_cast<unsigned long long>(kinds[0]), static_cast<unsigned long long>(kinds[1]),
               static_cast<unsigned long long>(kinds[2]), static_cast<unsigned long long>(kinds[3]),
               static_cast<unsigned long long>(kinds[4]), static_cast<double>(last_ts) / 1e9,
               static_cast<double>(wire_bytes) / 1e6, static_cast<double>(out.bytes()) / 1e6,
               o.snaplen);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o = parse(argc, argv);
    if (o.dpi_mix) {
      write_dpi_capture(o);
      return 0;
    }
    std::vector<FlowPlan> plans;
    plans.reserve(o.flows);
    for (std::uint64_t id = 0; id < o.flows; ++id) {
      plans.push_back(netscope::bench::plan_flow(o.model, id));
    }
    calibrate(o, plans);
    write_capture(o, plans);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gen_capture: %s\n", e.what());
    return 2;
  }
  return 0;
}
