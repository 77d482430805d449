#include "dpi/ndpi_labeller.hpp"

#if NETSCOPE_NDPI

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

extern "C" {
#include <ndpi/ndpi_api.h>
}

namespace netscope::dpi {

namespace {

// ndpi_init_detection_module() must not run in parallel with itself (ndpi_api.h).
std::mutex& init_mutex() {
  static std::mutex m;
  return m;
}

// The detection module: 5.4 MiB and about 200 ms to build (nDPI 4.2), and not safe to
// share between threads (it holds the packet being dissected). So one per thread that
// feeds packets, built on its first packet and shared by every labeller of that thread
// (the unit tests' many Inspectors, one flow shard's), freed when the thread ends.
// A flow's ndpi_flow_struct does not point into the module.
void build_names(ndpi_detection_module_struct* mod);

struct ModuleDeleter {
  void operator()(ndpi_detection_module_struct* m) const { ndpi_exit_detection_module(m); }
};

ndpi_detection_module_struct* thread_module() {
  thread_local std::unique_ptr<ndpi_detection_module_struct, ModuleDeleter> mod = [] {
    std::lock_guard lock(init_mutex());
    ndpi_detection_module_struct* m = ndpi_init_detection_module(ndpi_no_prefs);
    if (m != nullptr) {
      NDPI_PROTOCOL_BITMASK all;
      NDPI_BITMASK_SET_ALL(all);
      ndpi_set_protocol_detection_bitmask2(m, &all);
      ndpi_finalize_initialization(m);
      build_names(m);
    }
    return std::unique_ptr<ndpi_detection_module_struct, ModuleDeleter>(m);
  }();
  return mod.get();
}

// Protocol and category names, taken once from the first module: describe() runs on
// other threads and has no module at hand. Built-in names do not depend on the module.
struct NameTable {
  std::vector<std::string> protocols;   // indexed by nDPI protocol id
  std::vector<std::string> categories;  // indexed by ndpi_protocol_category_t
};
std::atomic<const NameTable*> g_names{nullptr};

void build_names(ndpi_detection_module_struct* mod) {
  static std::once_flag once;
  std::call_once(once, [mod] {
    auto* t = new NameTable;  // lives for the process: readers hold plain pointers
    const unsigned n = ndpi_get_num_supported_protocols(mod);
    t->protocols.resize(n);
    for (unsigned id = 0; id < n; ++id) {
      const char* name = ndpi_get_proto_name(mod, static_cast<std::uint16_t>(id));
      if (name != nullptr) t->protocols[id] = name;
    }
    t->categories.resize(NDPI_PROTOCOL_NUM_CATEGORIES);
    for (int c = 0; c < NDPI_PROTOCOL_NUM_CATEGORIES; ++c) {
      const char* name = ndpi_category_get_name(mod, static_cast<ndpi_protocol_category_t>(c));
      if (name != nullptr) t->categories[static_cast<std::size_t>(c)] = name;
    }
    g_names.store(t, std::memory_order_release);
  });
}

void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v);
}

// FlowState::ndpi while detection runs: the slot index and that slot's generation, so
// that a flow whose slot was reclaimed and reused does not feed another flow's state.
constexpr std::uint32_t slot_ref(std::uint32_t index, std::uint16_t generation) {
  return (static_cast<std::uint32_t>(generation) << 16) | index;
}

constexpr std::int64_t kSweepIntervalNs = 1'000'000'000;
constexpr std::uint8_t kTtl = 64;

}  // namespace

struct NdpiLabeller::Impl {
  struct Slot {
    ndpi_flow_struct* flow = nullptr;  // non-null while in use
    std::int64_t last_ns = 0;          // packet time of the last packet fed
    std::uint16_t generation = 0;
    std::uint16_t packets = 0;
    std::uint16_t sport = 0;  // the flow's ports, client first: a cheap identity check
    std::uint16_t dport = 0;
    // The flow's addresses, from its first packet with payload: the sharded engine
    // passes a packet's addresses only when it has payload (ShardMessage), and nDPI
    // must see the same packets with one thread or several.
    core::IpAddress client;
    core::IpAddress server;
  };

  NdpiConfig config;
  DpiCounters& counters;
  std::vector<Slot> slots;           // grows up to config.max_live
  std::vector<std::uint32_t> free_;  // indices of unused slots
  std::size_t in_use = 0;
  std::int64_t next_sweep_ns = 0;
  std::vector<std::uint8_t> packet;  // the L3 packet handed to nDPI, rebuilt each time

  Impl(const NdpiConfig& c, DpiCounters& k) : config(c), counters(k) {
    config.max_live = std::clamp<std::size_t>(config.max_live, 1, 0xffff);
    config.max_packets = std::max<std::uint16_t>(config.max_packets, 1);
  }

  ~Impl() {
    for (Slot& s : slots) free_state(s);
  }

  static void free_state(Slot& s) {
    if (s.flow == nullptr) return;
    ndpi_flow_free(s.flow);
    s.flow = nullptr;
  }

  void put_back(std::uint32_t index) {
    Slot& s = slots[index];
    free_state(s);
    ++s.generation;
    free_.push_back(index);
    --in_use;
  }

  // Frees the slots of flows idle for stale_ns (their flows ended without release()).
  void sweep(std::int64_t now_ns) {
    next_sweep_ns = now_ns + kSweepIntervalNs;
    for (std::uint32_t i = 0; i < slots.size(); ++i) {
      const Slot& s = slots[i];
      if (s.flow != nullptr && now_ns - s.last_ns >= config.stale_ns) {
        put_back(i);
        ++counters.ndpi_reclaimed;
      }
    }
  }

  // A fresh slot, or -1 when all max_live are busy.
  std::int64_t acquire(std::int64_t now_ns) {
    if (free_.empty() && slots.size() < config.max_live) {
      slots.emplace_back();
      free_.push_back(static_cast<std::uint32_t>(slots.size() - 1));
    }
    if (free_.empty() && now_ns >= next_sweep_ns) sweep(now_ns);
    if (free_.empty()) return -1;
    const std::uint32_t index = free_.back();
    Slot& s = slots[index];
    s.flow = static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(SIZEOF_FLOW_STRUCT));
    if (s.flow == nullptr) return -1;
    std::memset(s.flow, 0, SIZEOF_FLOW_STRUCT);
    free_.pop_back();
    ++in_use;
    s.packets = 0;
    return index;
  }

  // The packet as nDPI reads it: a minimal IPv4/IPv6 header, the TCP/UDP header and the
  // captured payload (PacketView keeps values, not the header bytes). nDPI reads
  // addresses, ports, TCP flags and sequence numbers, lengths and the payload.
  std::size_t build(const decode::PacketView& pkt, int dir, const Slot& slot) {
    const core::IpAddress& src = dir == 0 ? slot.client : slot.server;
    const core::IpAddress& dst = dir == 0 ? slot.server : slot.client;
    const bool v4 = src.is_v4() && dst.is_v4();
    const std::size_t l3 = v4 ? 20 : 40;
    const std::size_t l4 = pkt.is_tcp() ? 20 : 8;
    if (packet.empty()) packet.resize(0xffff);  // on the first packet: no cost before
    const std::size_t payload = std::min(pkt.payload.size(), packet.size() - l3 - l4);
    const std::size_t total = l3 + l4 + payload;
    std::uint8_t* p = packet.data();
    std::memset(p, 0, l3 + l4);
    if (v4) {
      // TTL and TOS are constants: the sharded engine does not pass them either.
      p[0] = 0x45;
      put16(p + 2, static_cast<std::uint32_t>(total));
      p[8] = kTtl;
      p[9] = pkt.ip_proto;
      std::memcpy(p + 12, src.bytes().data() + 12, 4);
      std::memcpy(p + 16, dst.bytes().data() + 12, 4);
    } else {
      p[0] = 0x60;
      put16(p + 4, static_cast<std::uint32_t>(l4 + payload));
      p[6] = pkt.ip_proto;
      p[7] = kTtl;
      std::memcpy(p + 8, src.bytes().data(), 16);
      std::memcpy(p + 24, dst.bytes().data(), 16);
    }
    std::uint8_t* t = p + l3;
    put16(t, pkt.sport);
    put16(t + 2, pkt.dport);
    if (pkt.is_tcp()) {
      put32(t + 4, pkt.seq);
      put32(t + 8, pkt.ack);
      t[12] = 5 << 4;
      t[13] = pkt.tcp_flags;
      put16(t + 14, pkt.window);
    } else {
      put16(t + 4, static_cast<std::uint32_t>(l4 + payload));
    }
    if (payload != 0) std::memcpy(t + l4, pkt.payload.data(), payload);
    return total;
  }

  void finish(FlowState& flow, std::uint32_t index, ndpi_protocol r, bool& changed) {
    flow.flags =
        static_cast<std::uint8_t>((flow.flags & ~FlowState::kNdpiActive) | FlowState::kNdpiDone);
    flow.ndpi = 0;
    put_back(index);
    if (r.app_protocol == NDPI_PROTOCOL_UNKNOWN && r.master_protocol == NDPI_PROTOCOL_UNKNOWN) {
      return;
    }
    flow.ndpi = (static_cast<std::uint32_t>(r.master_protocol) << 16) | r.app_protocol;
    flow.ndpi_category = static_cast<std::uint8_t>(
        static_cast<unsigned>(r.category) < 256 ? static_cast<unsigned>(r.category) : 0);
    flow.flags |= FlowState::kNdpiLabelled;
    ++counters.ndpi_labelled;
    changed = true;
  }

  void feed(FlowState& flow, const decode::PacketView& pkt, int dir, bool& changed) {
    ndpi_detection_module_struct* mod = thread_module();
    if (mod == nullptr) {
      flow.flags |= FlowState::kNdpiDone;
      return;
    }
    const std::uint16_t client_port = dir == 0 ? pkt.sport : pkt.dport;
    const std::uint16_t server_port = dir == 0 ? pkt.dport : pkt.sport;
    std::uint32_t index = 0;
    if ((flow.flags & FlowState::kNdpiActive) == 0) {
      // nDPI starts at the flow's first packet with payload: a SYN scan or a flow that
      // never carries data costs no state (and the addresses are known from here on).
      if (pkt.payload.empty()) return;
      const std::int64_t got = acquire(pkt.ts.ns);
      if (got < 0) {
        ++counters.ndpi_skipped;
        flow.flags |= FlowState::kNdpiDone;
        return;
      }
      index = static_cast<std::uint32_t>(got);
      Slot& s = slots[index];
      s.sport = client_port;
      s.dport = server_port;
      s.client = dir == 0 ? pkt.src : pkt.dst;
      s.server = dir == 0 ? pkt.dst : pkt.src;
      flow.ndpi = slot_ref(index, s.generation);
      flow.flags |= FlowState::kNdpiActive;
      ++counters.ndpi_flows;
    } else {
      index = flow.ndpi & 0xffff;
      const auto generation = static_cast<std::uint16_t>(flow.ndpi >> 16);
      if (index >= slots.size() || slots[index].flow == nullptr ||
          slots[index].generation != generation || slots[index].sport != client_port ||
          slots[index].dport != server_port) {
        // Reclaimed while the flow was idle: give up on it.
        flow.flags = static_cast<std::uint8_t>((flow.flags & ~FlowState::kNdpiActive) |
                                               FlowState::kNdpiDone);
        flow.ndpi = 0;
        return;
      }
    }
    Slot& s = slots[index];
    s.last_ns = pkt.ts.ns;
    const std::size_t len = build(pkt, dir, s);
    const std::uint64_t ms = pkt.ts.ns > 0 ? static_cast<std::uint64_t>(pkt.ts.ns) / 1'000'000 : 0;
    ndpi_protocol r = ndpi_detection_process_packet(mod, s.flow, packet.data(),
                                                    static_cast<unsigned short>(len), ms);
    ++s.packets;
    const bool enough = s.packets >= config.max_packets || s.flow->fail_with_unknown != 0;
    if (r.app_protocol == NDPI_PROTOCOL_UNKNOWN && !enough) return;
    if (r.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
      std::uint8_t guessed = 0;
      r = ndpi_detection_giveup(mod, s.flow, 0 /* no port guess */, &guessed);
    }
    finish(flow, index, r, changed);
  }

  void release(FlowState& flow) {
    if ((flow.flags & FlowState::kNdpiActive) == 0) return;
    const std::uint32_t index = flow.ndpi & 0xffff;
    const auto generation = static_cast<std::uint16_t>(flow.ndpi >> 16);
    if (index < slots.size() && slots[index].flow != nullptr &&
        slots[index].generation == generation) {
      put_back(index);
    }
    flow.flags =
        static_cast<std::uint8_t>((flow.flags & ~FlowState::kNdpiActive) | FlowState::kNdpiDone);
    flow.ndpi = 0;
  }
};

NdpiLabeller::NdpiLabeller(const NdpiConfig& config, DpiCounters& counters)
    : impl_(std::make_unique<Impl>(config, counters)) {}

NdpiLabeller::~NdpiLabeller() = default;

void NdpiLabeller::feed(FlowState& flow, const decode::PacketView& pkt, int dir, bool& changed) {
  if ((flow.flags & FlowState::kNdpiDone) != 0) return;
  impl_->feed(flow, pkt, dir & 1, changed);
}

void NdpiLabeller::release(FlowState& flow) {
  impl_->release(flow);
}

std::size_t NdpiLabeller::live() const {
  return impl_->in_use;
}

std::size_t NdpiLabeller::flow_struct_size() {
  return SIZEOF_FLOW_STRUCT;
}

void ndpi_names(const FlowState& flow, std::string& app, std::string& category) {
  app.clear();
  category.clear();
  const NameTable* t = g_names.load(std::memory_order_acquire);
  if (t == nullptr || (flow.flags & FlowState::kNdpiLabelled) == 0) return;
  const std::uint32_t master = flow.ndpi >> 16;
  const std::uint32_t id = flow.ndpi & 0xffff;
  auto name = [t](std::uint32_t i) -> std::string {
    if (i < t->protocols.size() && !t->protocols[i].empty()) return t->protocols[i];
    return "nDPI-" + std::to_string(i);
  };
  // As ndpi_protocol2name(): "Master.App" when both are known and differ.
  if (master != NDPI_PROTOCOL_UNKNOWN && master != id) {
    app = id != NDPI_PROTOCOL_UNKNOWN ? name(master) + "." + name(id) : name(master);
  } else {
    app = name(id);
  }
  if (flow.ndpi_category != NDPI_PROTOCOL_CATEGORY_UNSPECIFIED &&
      flow.ndpi_category < t->categories.size()) {
    category = t->categories[flow.ndpi_category];
  }
}

}  // namespace netscope::dpi

#endif  // NETSCOPE_NDPI
