#include "capture/syn_watch.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture/live_capture.hpp"
#include "core/bytes.hpp"

namespace netscope::capture {
namespace {

using Bytes = std::span<const std::uint8_t>;
using core::load_be16;

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kTcpSyn = 0x02;
constexpr std::uint8_t kTcpAck = 0x10;

// TCP header: ports at 0 and 2, flags at 13 (RFC 9293 §3.1).
std::optional<SynEvent> parse_tcp(Bytes b, core::IpAddress src, core::IpAddress dst) {
  if (b.size() < 14) return std::nullopt;
  const std::uint8_t flags = b[13];
  if ((flags & kTcpSyn) == 0) return std::nullopt;
  SynEvent ev;
  ev.src = src;
  ev.dst = dst;
  ev.sport = load_be16(b.data());
  ev.dport = load_be16(b.data() + 2);
  ev.ack = (flags & kTcpAck) != 0;
  return ev;
}

// RFC 791 §3.1. Only a first (or unfragmented) fragment carries the TCP header.
std::optional<SynEvent> parse_ipv4(Bytes b) {
  if (b.size() < 20 || (b[0] >> 4) != 4) return std::nullopt;
  const std::size_t ihl = std::size_t{b[0] & 0x0fu} * 4;
  if (ihl < 20 || ihl > b.size()) return std::nullopt;
  if ((load_be16(b.data() + 6) & 0x1fff) != 0 || b[9] != kProtoTcp) return std::nullopt;
  return parse_tcp(b.subspan(ihl), core::IpAddress::from_v4(b.subspan<12, 4>()),
                   core::IpAddress::from_v4(b.subspan<16, 4>()));
}

// RFC 8200 §4: extension headers are walked to TCP. Each consumes at least 8 bytes, so
// the walk ends with the bytes; the count bounds it further.
std::optional<SynEvent> parse_ipv6(Bytes b) {
  if (b.size() < 40 || (b[0] >> 4) != 6) return std::nullopt;
  const auto src = core::IpAddress::from_v6(b.subspan<8, 16>());
  const auto dst = core::IpAddress::from_v6(b.subspan<24, 16>());
  std::uint8_t next = b[6];
  Bytes rest = b.subspan(40);
  for (int i = 0; i < 8 && next != kProtoTcp; ++i) {
    if (rest.size() < 8) return std::nullopt;
    std::size_t len = 0;
    switch (next) {
      case 0:   // hop-by-hop options
      case 43:  // routing
      case 60:  // destination options
        len = (std::size_t{rest[1]} + 1) * 8;
        break;
      case 44:  // fragment: TCP is only in the fragment at offset 0
        if ((load_be16(rest.data() + 2) & 0xfff8) != 0) return std::nullopt;
        len = 8;
        break;
      case 51:  // authentication header, RFC 4302 §2.2: length in 4-byte units minus 2
        len = (std::size_t{rest[1]} + 2) * 4;
        break;
      default:
        return std::nullopt;
    }
    if (len > rest.size()) return std::nullopt;
    next = rest[0];
    rest = rest.subspan(len);
  }
  if (next != kProtoTcp) return std::nullopt;
  return parse_tcp(rest, src, dst);
}

std::optional<SynEvent> parse_ip(std::uint16_t ethertype, Bytes b) {
  if (ethertype == kEtherIpv4) return parse_ipv4(b);
  if (ethertype == kEtherIpv6) return parse_ipv6(b);
  return std::nullopt;
}

// Ethernet II with any number of 802.1Q / 802.1ad tags.
std::optional<SynEvent> parse_ethernet(Bytes b) {
  if (b.size() < 14) return std::nullopt;
  std::uint16_t type = load_be16(b.data() + 12);
  b = b.subspan(14);
  while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
    if (b.size() < 4) return std::nullopt;
    type = load_be16(b.data() + 2);
    b = b.subspan(4);
  }
  return parse_ip(type, b);
}

// Prompt wake-ups, as host/thread_latency.hpp describes for the attribution thread
// (capture/ does not link host/, hence this copy of host::RealtimeBudget): a SYN is worth
// something only while the connection's process lives, and on a busy machine a woken
// SCHED_OTHER thread waits milliseconds for the CPU, longer than a curl to a nearby server
// lives after its SYN. So the thread runs at SCHED_FIFO priority 1 (the lowest real-time
// priority) when permitted, while it uses at most a tenth of a CPU per 100 ms window (a
// SYN flood sends it back to SCHED_OTHER for the rest of the window); otherwise it asks
// for a short slice (EEVDF, Linux 6.12+; older kernels ignore it), which needs no
// privilege. It blocks in poll() between SYNs.
class Scheduling {
 public:
  void start() {
    realtime_ = set_fifo();
    if (!realtime_) {
      set_short_slice(false);
      return;
    }
    new_window(now_ns(CLOCK_MONOTONIC), now_ns(CLOCK_THREAD_CPUTIME_ID));
  }

  // After each batch of SYNs.
  void charge() {
    if (!realtime_) return;
    const std::int64_t now = now_ns(CLOCK_MONOTONIC);
    const std::int64_t cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
    if (now >= window_end_ns_) {
      if (demoted_) realtime_ = set_fifo();
      demoted_ = false;
      new_window(now, cpu);
    } else if (!demoted_ && cpu - window_cpu_ns_ > kBudgetNs) {
      set_short_slice(true);
      demoted_ = true;
    }
  }

 private:
  static constexpr std::int64_t kWindowNs = 100'000'000;
  static constexpr std::int64_t kBudgetNs = 10'000'000;
  static constexpr std::uint64_t kSliceNs = 100'000;   // the kernel's minimum
  static constexpr std::uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK

  struct SchedAttr {  // struct sched_attr, SCHED_ATTR_SIZE_VER1
    std::uint32_t size = sizeof(SchedAttr);
    std::uint32_t sched_policy = 0;
    std::uint64_t sched_flags = 0;
    std::int32_t sched_nice = 0;
    std::uint32_t sched_priority = 0;
    std::uint64_t sched_runtime = 0;  // for SCHED_OTHER: the slice, ns
    std::uint64_t sched_deadline = 0;
    std::uint64_t sched_period = 0;
    std::uint32_t sched_util_min = 0;
    std::uint32_t sched_util_max = 0;
  };
  static_assert(sizeof(SchedAttr) == 56);

  static std::int64_t now_ns(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
  static bool set_fifo() {
    sched_param param{};
    param.sched_priority = 1;
    return ::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0;
  }
  // SCHED_OTHER with the short slice: from real-time (`leave_realtime`, nice 0), or the
  // current SCHED_OTHER settings with only the slice changed.
  static void set_short_slice(bool leave_realtime) {
    SchedAttr attr;
    if (!leave_realtime) {
      if (::syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return;
      if (attr.sched_policy != SCHED_OTHER) return;
    }
    attr.size = sizeof(attr);
    attr.sched_policy = SCHED_OTHER;
    attr.sched_priority = 0;
    attr.sched_flags = (attr.sched_flags & kResetOnFork) | (leave_realtime ? kResetOnFork : 0);
    attr.sched_runtime = kSliceNs;
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) == 0 || !leave_realtime) return;
    sched_param param{};  // a kernel without custom slices: the plain policy
    ::sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &param);
  }
  void new_window(std::int64_t now, std::int64_t cpu) {
    window_end_ns_ = now + kWindowNs;
    window_cpu_ns_ = cpu;
  }

  bool realtime_ = false;
  bool demoted_ = false;
  std::int64_t window_end_ns_ = 0;
  std::int64_t window_cpu_ns_ = 0;
};

}  // namespace

std::optional<SynEvent> parse_syn(int linktype, std::span<const std::uint8_t> frame) {
  switch (linktype) {
    case 1:  // LINKTYPE_ETHERNET (also Linux loopback)
      return parse_ethernet(frame);
    case 113:  // LINKTYPE_LINUX_SLL: 16-byte header, protocol last
      return frame.size() < 16 ? std::nullopt
                               : parse_ip(load_be16(frame.data() + 14), frame.subspan(16));
    case 276:  // LINKTYPE_LINUX_SLL2: 20-byte header, protocol first
      return frame.size() < 20 ? std::nullopt
                               : parse_ip(load_be16(frame.data()), frame.subspan(20));
    case 12:   // DLT_RAW as Linux numbers it
    case 101:  // LINKTYPE_RAW: the version nibble tells
      if (frame.empty()) return std::nullopt;
      return (frame[0] >> 4) == 4 ? parse_ipv4(frame) : parse_ipv6(frame);
    case 228:  // LINKTYPE_IPV4
      return parse_ipv4(frame);
    case 229:  // LINKTYPE_IPV6
      return parse_ipv6(frame);
    default:
      return std::nullopt;
  }
}

class SynWatch::Handler : public PacketHandler {
 public:
  explicit Handler(SynWatch& owner) : owner_(owner) {}
  void on_packet(const RawPacket& pkt) override {
    auto ev = parse_syn(pkt.linktype, pkt.data);
    if (!ev) {
      owner_.unparsed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ev->interface_id = pkt.interface_id;
    ev->ts = pkt.ts;
    owner_.seen_.fetch_add(1, std::memory_order_relaxed);
    owner_.on_syn_(*ev);
  }

 private:
  SynWatch& owner_;
};

SynWatch::SynWatch(std::vector<std::string> interfaces, std::function<void(const SynEvent&)> on_syn,
                   int snaplen)
    : on_syn_(std::move(on_syn)) {
  LiveOptions o;
  o.interfaces = std::move(interfaces);
  o.snaplen = snaplen;
  // SYNs are small and few: 1 MiB holds thousands even if the thread is descheduled.
  o.buffer_bytes = 1 << 20;
  o.immediate = true;
  o.bpf = kSynFilter;
  o.loopback_dns = false;  // SYNs only, on exactly the capture's interfaces
  capture_ = std::make_unique<LiveCapture>(std::move(o));
}

SynWatch::~SynWatch() {
  stop();
}

void SynWatch::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { run(); });
}

void SynWatch::stop() {
  stop_.store(true);
  capture_->wake();
  if (thread_.joinable()) thread_.join();
}

const std::vector<std::string>& SynWatch::interfaces() const {
  return capture_->interfaces();
}

void SynWatch::run() {
  ::pthread_setname_np(::pthread_self(), "ns-synwatch");
  Scheduling scheduling;
  scheduling.start();
  Handler handler(*this);
  while (!stop_.load()) {
    // The timeout only bounds how often interface loss is rechecked; wake() ends it.
    capture_->dispatch(1000, handler);
    scheduling.charge();
    // The main capture reports interface changes; drop ours so they do not pile up.
    capture_->take_events();
  }
}

}  // namespace netscope::capture
