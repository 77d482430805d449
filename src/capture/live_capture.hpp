#pragma once
// LiveCapture: packets from one or more live interfaces through libpcap, one handle per
// interface, multiplexed with poll() on one thread.
//
// Each handle gets a large kernel ring (TPACKET_V3, pcap_set_buffer_size) and a block
// timeout (pcap_set_timeout): the kernel hands over a block of packets when it is full or
// the timeout expires, which costs one wake-up per block instead of one per packet.
// Immediate mode would force the older per-packet TPACKET_V2 ring, so the main handles
// never use it (SynWatch does, for a trickle of SYNs). Timestamps are nanoseconds where
// the kernel provides them.
//
// A vanished interface does not stop capture (ARCHITECTURE.md "Bad input ... loses
// nothing"):
// - Interface taken down: the kernel keeps the packet socket bound and resumes it when
//   the interface comes back up, so the handle stays open; its stats say open=false with
//   error "interface is down" until packets flow again or the interface is seen up.
// - Interface deleted (or replaced by a new one of the same name): libpcap fails the
//   handle ("The interface disappeared"); it is closed and reopened by name every
//   retry_interval_ms until an interface of that name exists and is up.
// Each change is recorded as an event (take_events()). The stats of a closed handle keep
// its last numbers, and a reopened handle adds to them.
//
// Statistics (pcap_stats on Linux, libpcap pcap-linux.c pcap_stats_linux):
// - received: packets that passed the BPF filter and were offered to the ring, including
//   those then dropped for lack of room (the kernel adds tp_drops to tp_packets) and
//   those still in the ring, not yet dispatched.
// - dropped: packets that passed the filter but were dropped because the ring was full
//   (tp_drops): netscope did not read fast enough. These are the "kernel drops" shown in
//   every output. Packets the filter rejects are counted in neither.
// - if_dropped: drops the interface itself reported (/proc/net/dev rx_dropped) since
//   the handle opened. libpcap reads it only for promiscuous handles, so it stays 0
//   unless LiveOptions::promiscuous is set.
// libpcap keeps these in 32-bit counters; LiveCapture accumulates the deltas in 64 bits,
// so they do not wrap after 4 G packets.
//
// Threading: everything but wake() must be called from one thread (the capture thread).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "capture/capture_error.hpp"
#include "capture/raw_packet.hpp"

namespace netscope::capture {

struct LiveOptions {
  // Interfaces to capture on. Empty: default_interfaces(list_interfaces(),
  // show_localhost) (see interfaces.hpp for the rule). "any" (libpcap's all-interfaces
  // device, LINKTYPE_LINUX_SLL2 frames) is allowed alone only.
  std::vector<std::string> interfaces;
  bool show_localhost = false;
  // With loopback hidden (no --show-localhost) and not named by -i, nor "any": still
  // capture DNS (port 53) on loopback, so that queries to a local stub resolver
  // (127.0.0.53, dnsmasq) are seen and attributed to the process that asked, with the
  // default interfaces or the ones -i names. Loopback connections stay hidden.
  bool loopback_dns = true;
  // Interfaces whose handle takes DNS only (set by LiveCapture from loopback_dns).
  std::vector<std::string> dns_only;
  int snaplen = 262144;
  int buffer_bytes = 32 << 20;  // kernel ring per handle (pcap_set_buffer_size)
  int timeout_ms = 100;         // ring block timeout: the latest a packet is handed over
  std::string bpf;              // empty: no filter; else applied to every handle
  bool promiscuous = false;     // a monitor of this host's traffic does not need it
  // Per-packet delivery (pcap_set_immediate_mode). For SynWatch only: it forces the
  // older TPACKET_V2 ring and a wake-up per packet.
  bool immediate = false;
  // Packets handed to PacketHandler::on_packets() at once (at most kMaxBatch). Above 1,
  // each packet's bytes are copied out of the kernel ring (libpcap lends them for one
  // callback only) so that the handler can work on several at a time; a batch is handed
  // over when full and at the end of every dispatch(), so none waits for later packets.
  // 1: on_packet() straight from the ring, no copy.
  std::size_t batch = 1;
  // How often closed handles are reopened and interface state is re-checked.
  int retry_interval_ms = 3000;
};

struct LiveInterfaceStats {
  std::string name;
  int linktype = 0;              // LINKTYPE_* of the handle (0 if it never opened)
  std::uint64_t received = 0;    // see the header comment for the exact meaning
  std::uint64_t dropped = 0;     // kernel ring drops ("drops" in JSON outputs)
  std::uint64_t if_dropped = 0;  // interface drops (promiscuous handles only)
  bool open = true;              // false while the interface is down or gone
  std::string error;             // why capture stopped, when !open
};

// Receives packets from LiveCapture::dispatch(). The bytes are valid only during the
// call. on_packet should not throw; if it does, dispatch() stops and rethrows.
class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  // pkt.interface_id is the index into LiveCapture::interfaces().
  virtual void on_packet(const RawPacket& pkt) = 0;
  // Consecutive packets in capture order (LiveOptions::batch above 1). The default hands
  // them to on_packet() one by one.
  virtual void on_packets(std::span<const RawPacket> pkts) {
    for (const RawPacket& p : pkts) on_packet(p);
  }
};

class LiveCapture {
 public:
  static constexpr std::size_t kMaxBatch = 64;
  // Opens every handle. Throws CaptureError: permission (with the setcap line),
  // no_such_interface (listing the interfaces), bad_filter, or other (a usage error such
  // as "any" with other interfaces, no interface to capture on, bad sizes). An interface
  // that exists but is down is not an error: capture starts when it comes up, and an
  // event says so.
  explicit LiveCapture(LiveOptions options);
  ~LiveCapture();
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;
  LiveCapture(LiveCapture&&) noexcept;
  LiveCapture& operator=(LiveCapture&&) noexcept;

  // Waits up to timeout_ms (negative: no limit) for packets on any handle, or for wake(),
  // then hands every packet available to `h`, at most 16384 per handle per call so that
  // one busy interface cannot starve the others. Returns the number of packets. Never
  // throws for a failing interface (see the header comment); returns early on EINTR.
  std::size_t dispatch(int timeout_ms, PacketHandler& h);

  // Makes a blocked (or the next) dispatch() return at once. Thread- and
  // async-signal-safe (one write() to an eventfd).
  void wake();

  // Cumulative per-interface statistics, in interfaces() order, including closed handles.
  std::vector<LiveInterfaceStats> stats();
  const std::vector<std::string>& interfaces() const;
  // Human-readable events since the last call, oldest first, such as
  // "eth1: interface went down; still capturing on eth0". At most 64 are kept.
  std::vector<std::string> take_events();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::capture
