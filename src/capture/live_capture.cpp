#include "capture/live_capture.hpp"

#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <limits>
#include <span>
#include <vector>

#include "capture/file_reader.hpp"
#include "capture/interfaces.hpp"

namespace netscope::capture {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxPerHandle = 16384;
constexpr std::size_t kMaxEvents = 64;

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

std::string self_exe() {
  std::array<char, 4096> buf{};
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string("netscope");
}

CaptureError permission_error(const std::string& name) {
  return CaptureError(
      CaptureError::Kind::permission,
      "netscope: cannot capture on " + name + ": " + std::strerror(EPERM) +
          ".\n  Capturing needs CAP_NET_RAW and CAP_NET_ADMIN; without them netscope sees no "
          "traffic at all. Run as root, or grant them once:\n    sudo setcap "
          "cap_net_raw,cap_net_admin,cap_sys_ptrace,cap_dac_read_search,cap_sys_admin+eip " +
          self_exe());
}

CaptureError no_such_interface(const std::string& name) {
  std::string msg = "netscope: no interface named '" + name + "'.";
  try {
    msg += " Available interfaces:\n" + interface_list_text(list_interfaces());
  } catch (const std::exception& e) {
    msg += std::string(" (the interfaces cannot be listed: ") + e.what() + ")\n";
  }
  msg += "  Choose with -i NAME (repeatable), or -i any.";
  return CaptureError(CaptureError::Kind::no_such_interface, msg);
}

// pcap_datalink() returns DLT_* values; RawPacket carries LINKTYPE_* (pcap-linktype(7)).
// On Linux they differ only for raw IP (DLT_RAW 12 vs LINKTYPE_RAW 101).
int linktype_from_dlt(int dlt) {
  return dlt == DLT_RAW ? 101 : dlt;
}

struct Opened {
  PcapPtr pcap;
  bool not_up = false;  // the interface exists but is down: retry later, not an error
};

void compile_filter(pcap_t* p, const std::string& name, const std::string& bpf) {
  bpf_program prog{};
  if (pcap_compile(p, &prog, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    throw CaptureError(CaptureError::Kind::bad_filter,
                       "netscope: invalid filter expression '" + bpf + "' for " + name + " (" +
                           linktype_name(linktype_from_dlt(pcap_datalink(p))) +
                           "): " + pcap_geterr(p));
  }
  const int rc = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (rc != 0) {
    throw CaptureError(CaptureError::Kind::other,
                       "netscope: cannot set the filter on " + name + ": " + pcap_geterr(p));
  }
}

// The kernel ring of a handle that takes DNS only (loopback's port 53): a stub resolver's
// queries are a trickle beside what the capture rings are sized for, and a ring's pages
// count in the process's memory once libpcap has walked them.
constexpr int kDnsOnlyBufferBytes = 2 << 20;

Opened open_handle(const LiveOptions& o, const std::string& name) {
  const bool dns_only = std::find(o.dns_only.begin(), o.dns_only.end(), name) != o.dns_only.end();
  std::array<char, PCAP_ERRBUF_SIZE> errbuf{};
  PcapPtr p(pcap_create(name.c_str(), errbuf.data()));
  if (!p) {
    throw CaptureError(CaptureError::Kind::other,
                       "netscope: cannot capture on " + name + ": " + errbuf.data());
  }
  pcap_set_snaplen(p.get(), o.snaplen);
  pcap_set_promisc(p.get(), o.promiscuous ? 1 : 0);
  pcap_set_timeout(p.get(), o.timeout_ms);
  pcap_set_buffer_size(p.get(),
                       dns_only ? std::min(o.buffer_bytes, kDnsOnlyBufferBytes) : o.buffer_bytes);
  pcap_set_immediate_mode(p.get(), o.immediate ? 1 : 0);
  // Falls back to microseconds where unsupported; dispatch asks which one it got.
  pcap_set_tstamp_precision(p.get(), PCAP_TSTAMP_PRECISION_NANO);
  const int rc = pcap_activate(p.get());
  if (rc < 0) {
    switch (rc) {
      case PCAP_ERROR_PERM_DENIED:
      case PCAP_ERROR_PROMISC_PERM_DENIED:
        throw permission_error(name);
      case PCAP_ERROR_NO_SUCH_DEVICE:
        throw no_such_interface(name);
      case PCAP_ERROR_IFACE_NOT_UP:
        return {nullptr, true};
      default: {
        const std::string detail = pcap_geterr(p.get());
        throw CaptureError(CaptureError::Kind::other,
                           "netscope: cannot capture on " + name + ": " +
                               (detail.empty() ? pcap_statustostr(rc) : detail));
      }
    }
  }
  if (pcap_setnonblock(p.get(), 1, errbuf.data()) != 0) {
    throw CaptureError(CaptureError::Kind::other,
                       "netscope: cannot capture on " + name + ": " + errbuf.data());
  }
  if (dns_only) {
    compile_filter(p.get(), name, o.bpf.empty() ? "port 53" : "(" + o.bpf + ") and port 53");
  } else if (!o.bpf.empty()) {
    compile_filter(p.get(), name, o.bpf);
  }
  return {std::move(p), false};
}

enum class SlotState { open, down, closed };
enum class LinkState { up, down, gone };

struct Slot {
  std::string name;
  int ifindex = 0;  // at open time; 0 for "any"
  PcapPtr pcap;     // null while closed
  int fd = -1;
  int linktype = 0;
  bool nano = false;
  SlotState state = SlotState::closed;
  std::string error;
  std::uint64_t received = 0, dropped = 0, if_dropped = 0;
  pcap_stat last{};  // libpcap's 32-bit running totals for the current handle
};

// Packets copied out of the ring (LiveOptions::batch > 1), waiting to be handed over
// together. Frames larger than kMaxCopy (GRO/GSO super-frames) are not copied: the batch
// before them is handed over, then they go alone, straight from the ring.
constexpr std::size_t kArenaBytes = 256 << 10;
constexpr std::size_t kMaxCopy = 16 << 10;

struct Batch {
  std::size_t limit = 1;
  std::vector<std::uint8_t> arena;
  std::size_t used = 0;
  std::array<RawPacket, LiveCapture::kMaxBatch> pkts{};
  std::size_t count = 0;

  void flush(PacketHandler& h) {
    const std::size_t n = count;
    count = 0;
    used = 0;
    if (n != 0) h.on_packets(std::span<const RawPacket>(pkts.data(), n));
  }

  void add(const RawPacket& pkt, PacketHandler& h) {
    const std::size_t size = pkt.data.size();
    if (size > kMaxCopy) {
      flush(h);
      h.on_packets(std::span<const RawPacket>(&pkt, 1));
      return;
    }
    if (used + size > arena.size()) flush(h);
    RawPacket& copy = pkts[count++];
    copy = pkt;
    if (size != 0) std::memcpy(arena.data() + used, pkt.data.data(), size);
    copy.data = std::span<const std::uint8_t>(arena.data() + used, size);
    used += size;
    if (count == limit) flush(h);
  }
};

struct DispatchContext {
  PacketHandler* handler;
  pcap_t* pcap;
  std::uint32_t interface_id;
  int linktype;
  bool nano;
  Batch* batch;  // null: one packet at a time, from the ring
  std::exception_ptr error;
};

void on_pcap_packet(u_char* user, const pcap_pkthdr* hdr, const u_char* bytes) {
  auto* ctx = reinterpret_cast<DispatchContext*>(user);
  if (ctx->error) return;
  RawPacket pkt;
  const std::int64_t sec = hdr->ts.tv_sec;
  const std::int64_t frac = hdr->ts.tv_usec;  // nanoseconds when the precision is nano
  pkt.ts = ctx->nano ? core::Timestamp::from_sec_nsec(sec, frac)
                     : core::Timestamp::from_sec_usec(sec, frac);
  pkt.data = std::span<const std::uint8_t>(bytes, hdr->caplen);
  pkt.orig_len = std::max(hdr->len, hdr->caplen);
  pkt.linktype = ctx->linktype;
  pkt.interface_id = ctx->interface_id;
  try {
    if (ctx->batch != nullptr) {
      ctx->batch->add(pkt, *ctx->handler);
    } else {
      ctx->handler->on_packet(pkt);
    }
  } catch (...) {
    // Do not unwind through libpcap's C frames: stop the loop, rethrow after it.
    ctx->error = std::current_exception();
    pcap_breakloop(ctx->pcap);
  }
}

}  // namespace

struct LiveCapture::Impl {
  LiveOptions options;
  std::vector<std::string> names;
  std::vector<Slot> slots;
  int wake_fd = -1;
  int ctl_fd = -1;  // for SIOCGIFFLAGS / SIOCGIFINDEX in the capture's namespace
  Clock::time_point next_check;
  std::vector<pollfd> pfds;
  std::vector<std::size_t> pfd_slot;
  std::vector<std::string> events;
  std::size_t events_lost = 0;
  Batch batch;

  ~Impl() {
    if (wake_fd >= 0) ::close(wake_fd);
    if (ctl_fd >= 0) ::close(ctl_fd);
  }

  void event(std::string text) {
    if (events.size() >= kMaxEvents) {
      events.erase(events.begin());
      ++events_lost;
    }
    events.push_back(std::move(text));
  }

  std::string capturing_on() const {
    std::string list;
    for (const auto& s : slots) {
      if (s.state != SlotState::open) continue;
      list += (list.empty() ? "" : ", ") + s.name;
    }
    return list.empty() ? std::string("no interface is capturing now") : list;
  }

  void install(Slot& s, PcapPtr pcap) {
    s.pcap = std::move(pcap);
    s.fd = pcap_get_selectable_fd(s.pcap.get());
    s.linktype = linktype_from_dlt(pcap_datalink(s.pcap.get()));
    s.nano = pcap_get_tstamp_precision(s.pcap.get()) == PCAP_TSTAMP_PRECISION_NANO;
    s.ifindex = s.name == "any" ? 0 : static_cast<int>(if_nametoindex(s.name.c_str()));
    s.last = pcap_stat{};
    s.state = SlotState::open;
    s.error.clear();
  }

  void refresh_stats(Slot& s) {
    if (!s.pcap) return;
    pcap_stat st{};
    if (pcap_stats(s.pcap.get(), &st) != 0) return;
    // Unsigned 32-bit differences stay right across one wrap of libpcap's counters.
    s.received += static_cast<std::uint32_t>(st.ps_recv - s.last.ps_recv);
    s.dropped += static_cast<std::uint32_t>(st.ps_drop - s.last.ps_drop);
    s.if_dropped += static_cast<std::uint32_t>(st.ps_ifdrop - s.last.ps_ifdrop);
    s.last = st;
  }

  void close_slot(Slot& s, const std::string& reason) {
    refresh_stats(s);
    s.pcap.reset();
    s.fd = -1;
    s.state = SlotState::closed;
    s.error = reason;
    event(s.name + ": capture stopped: " + reason + "; " + still_capturing());
  }

  std::string still_capturing() const {
    const std::string on = capturing_on();
    return on.starts_with("no ") ? on : "still capturing on " + on;
  }

  void mark_down(Slot& s) {
    if (s.state != SlotState::open) return;
    s.state = SlotState::down;
    s.error = "interface is down";
    event(s.name + ": interface went down; " + still_capturing());
  }

  void mark_up(Slot& s, const char* what) {
    s.state = SlotState::open;
    s.error.clear();
    event(s.name + ": " + what + "; capturing on " + capturing_on());
  }

  // The interface's current state, asked of the kernel by name. Unknown answers count as
  // up, so that a failing ioctl never stops a working capture.
  LinkState link_state(const Slot& s) const {
    if (s.name == "any") return LinkState::up;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, s.name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(ctl_fd, SIOCGIFINDEX, &ifr) != 0) {
      return errno == ENODEV ? LinkState::gone : LinkState::up;
    }
    // Same name, new index: deleted and recreated; the old packet socket is dead.
    if (s.ifindex != 0 && ifr.ifr_ifindex != s.ifindex) return LinkState::gone;
    if (::ioctl(ctl_fd, SIOCGIFFLAGS, &ifr) != 0) {
      return errno == ENODEV ? LinkState::gone : LinkState::up;
    }
    return (ifr.ifr_flags & IFF_UP) != 0 ? LinkState::up : LinkState::down;
  }

  // After POLLERR, and every retry interval: follow the interface's state.
  void check_link(Slot& s) {
    switch (link_state(s)) {
      case LinkState::gone:
        close_slot(s, "interface disappeared");
        break;
      case LinkState::down:
        mark_down(s);
        break;
      case LinkState::up:
        if (s.state == SlotState::down) mark_up(s, "interface is up again");
        break;
    }
  }

  void try_reopen(Slot& s) {
    // Cheap test first: opening a missing device would build the whole error message.
    if (s.name != "any" && if_nametoindex(s.name.c_str()) == 0) return;
    try {
      Opened o = open_handle(options, s.name);
      if (!o.pcap) return;  // still down
      install(s, std::move(o.pcap));
      mark_up(s, "interface is back");
    } catch (const CaptureError& e) {
      // No such interface (yet) is the normal state of a deleted one; report other
      // reasons once, not at every retry.
      if (e.kind() == CaptureError::Kind::no_such_interface) return;
      std::string reason = e.what();
      reason = reason.substr(0, reason.find('\n'));
      if (reason == s.error) return;
      s.error = reason;
      event(s.name + ": cannot reopen: " + reason);
    }
  }

  void reconcile() {
    for (auto& s : slots) {
      if (s.pcap) {
        check_link(s);
      } else {
        try_reopen(s);
      }
    }
  }

  std::size_t dispatch_slot(std::size_t index, PacketHandler& h) {
    Slot& s = slots[index];
    DispatchContext ctx{&h,         s.pcap.get(), static_cast<std::uint32_t>(index),
                        s.linktype, s.nano,       batch.limit > 1 ? &batch : nullptr,
                        nullptr};
    const int n =
        pcap_dispatch(s.pcap.get(), kMaxPerHandle, on_pcap_packet, reinterpret_cast<u_char*>(&ctx));
    if (ctx.error) {
      batch.count = 0;
      batch.used = 0;
      std::rethrow_exception(ctx.error);
    }
    batch.flush(h);  // the copies outlive the ring's blocks: nothing waits for more packets
    if (n < 0) {
      close_slot(s, pcap_geterr(s.pcap.get()));
      return 0;
    }
    // Packets on a handle marked down: the interface is back, unless they are the tail
    // of a ring block filled before it went down.
    if (n > 0 && s.state == SlotState::down && link_state(s) == LinkState::up) {
      mark_up(s, "interface is up again");
    }
    return static_cast<std::size_t>(n);
  }
};

LiveCapture::LiveCapture(LiveOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  if (options.snaplen <= 0 || options.buffer_bytes <= 0 || options.timeout_ms <= 0 ||
      options.retry_interval_ms <= 0) {
    throw CaptureError(CaptureError::Kind::other,
                       "netscope: snaplen, buffer size, timeout and retry interval must be "
                       "positive");
  }
  std::vector<std::string> wanted = options.interfaces;
  // Port 53 on the loopback interfaces that are not captured whole: queries to a local
  // stub resolver, with the default interfaces or interfaces named by -i alike (not
  // with "any", which takes loopback already).
  const auto add_loopback_dns = [&](const std::vector<NetInterface>& all) {
    if (!options.loopback_dns || options.show_localhost || wanted.empty()) return;
    if (std::find(wanted.begin(), wanted.end(), "any") != wanted.end()) return;
    for (const auto& itf : all) {
      if (!itf.loopback || !itf.up) continue;
      if (std::find(wanted.begin(), wanted.end(), itf.name) != wanted.end()) continue;
      wanted.push_back(itf.name);
      options.dns_only.push_back(itf.name);
    }
  };
  if (!wanted.empty()) {
    add_loopback_dns(list_interfaces());
  } else {
    const auto all = list_interfaces();
    wanted = default_interfaces(all, options.show_localhost);
    add_loopback_dns(all);
    if (wanted.empty()) {
      throw CaptureError(CaptureError::Kind::other,
                         "netscope: no interface to capture on: none is up with an address "
                         "(IPv6 link-local addresses do not count). Interfaces:\n" +
                             interface_list_text(all) + "  Name one with -i, or use -i any.");
    }
  }
  for (const auto& name : wanted) {
    if (std::find(d.names.begin(), d.names.end(), name) == d.names.end()) d.names.push_back(name);
  }
  if (d.names.size() > 1 && std::find(d.names.begin(), d.names.end(), "any") != d.names.end()) {
    throw CaptureError(CaptureError::Kind::other,
                       "netscope: -i any cannot be combined with other interfaces: 'any' "
                       "already captures on all of them, so their packets would be counted "
                       "twice.");
  }
  d.options = std::move(options);
  d.options.interfaces = d.names;
  d.batch.limit = std::clamp<std::size_t>(d.options.batch, 1, kMaxBatch);
  if (d.batch.limit > 1) d.batch.arena.resize(kArenaBytes);

  d.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  d.ctl_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (d.wake_fd < 0 || d.ctl_fd < 0) {
    throw CaptureError(
        CaptureError::Kind::other,
        std::string("netscope: cannot create capture descriptors: ") + std::strerror(errno));
  }

  d.slots.resize(d.names.size());
  bool any_open = false;
  for (std::size_t i = 0; i < d.names.size(); ++i) {
    Slot& s = d.slots[i];
    s.name = d.names[i];
    Opened o = open_handle(d.options, s.name);
    if (o.pcap) {
      d.install(s, std::move(o.pcap));
      any_open = true;
    } else {
      s.error = "interface is down";
      d.event(s.name + ": interface is down; capture starts when it comes up");
    }
  }
  if (!any_open && !d.options.bpf.empty()) {
    // Nothing was compiled yet: check the expression now rather than at the first reopen.
    PcapPtr dead(pcap_open_dead(DLT_EN10MB, d.options.snaplen));
    if (dead) compile_filter(dead.get(), "Ethernet interfaces", d.options.bpf);
  }
  d.next_check = Clock::now() + std::chrono::milliseconds(d.options.retry_interval_ms);
}

LiveCapture::~LiveCapture() = default;
LiveCapture::LiveCapture(LiveCapture&&) noexcept = default;
LiveCapture& LiveCapture::operator=(LiveCapture&&) noexcept = default;

std::size_t LiveCapture::dispatch(int timeout_ms, PacketHandler& h) {
  Impl& d = *impl_;
  auto now = Clock::now();
  if (now >= d.next_check) {
    d.reconcile();
    d.next_check = now + std::chrono::milliseconds(d.options.retry_interval_ms);
  }

  d.pfds.clear();
  d.pfd_slot.clear();
  d.pfds.push_back(pollfd{d.wake_fd, POLLIN, 0});
  bool all_open = true;
  for (std::size_t i = 0; i < d.slots.size(); ++i) {
    all_open = all_open && d.slots[i].state == SlotState::open;
    if (!d.slots[i].pcap) continue;
    d.pfds.push_back(pollfd{d.slots[i].fd, POLLIN, 0});
    d.pfd_slot.push_back(i);
  }
  int wait = timeout_ms < 0 ? -1 : timeout_ms;
  if (!all_open) {
    // Wake up in time to retry closed handles and recheck down interfaces.
    const auto until = std::chrono::ceil<std::chrono::milliseconds>(d.next_check - now).count();
    const int bound = static_cast<int>(std::clamp<std::int64_t>(until, 0, 1'000'000));
    wait = wait < 0 ? bound : std::min(wait, bound);
  }

  const int ready = ::poll(d.pfds.data(), d.pfds.size(), wait);
  if (ready <= 0) return 0;  // timeout, or EINTR: the caller checks its stop flag
  if (d.pfds[0].revents != 0) {
    std::uint64_t count = 0;
    while (::read(d.wake_fd, &count, sizeof(count)) > 0) {
    }
  }
  std::size_t total = 0;
  for (std::size_t k = 1; k < d.pfds.size(); ++k) {
    const short revents = d.pfds[k].revents;
    if (revents == 0) continue;
    const std::size_t index = d.pfd_slot[k - 1];
    Slot& s = d.slots[index];
    total += d.dispatch_slot(index, h);
    // The kernel signals a downed or unregistered device with sk_err = ENETDOWN.
    if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && s.pcap) d.check_link(s);
  }
  return total;
}

void LiveCapture::wake() {
  const std::uint64_t one = 1;
  // A full counter (EAGAIN) means a wake-up is pending anyway.
  [[maybe_unused]] const ssize_t n = ::write(impl_->wake_fd, &one, sizeof(one));
}

std::vector<LiveInterfaceStats> LiveCapture::stats() {
  std::vector<LiveInterfaceStats> out;
  out.reserve(impl_->slots.size());
  for (auto& s : impl_->slots) {
    impl_->refresh_stats(s);
    out.push_back(LiveInterfaceStats{s.name, s.linktype, s.received, s.dropped, s.if_dropped,
                                     s.state == SlotState::open, s.error});
  }
  return out;
}

const std::vector<std::string>& LiveCapture::interfaces() const {
  return impl_->names;
}

std::vector<std::string> LiveCapture::take_events() {
  std::vector<std::string> out;
  if (impl_->events_lost != 0) {
    out.push_back(std::to_string(impl_->events_lost) + " earlier capture events were not kept");
    impl_->events_lost = 0;
  }
  for (auto& e : impl_->events) out.push_back(std::move(e));
  impl_->events.clear();
  return out;
}

}  // namespace netscope::capture
