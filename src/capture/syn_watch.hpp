#pragma once
// SynWatch: learns of new TCP connections within microseconds, so that process
// attribution can look up the socket while the connection is still alive. A connection
// that lives 20 ms is gone from the batched main capture's next ring block, and a socket
// in TIME_WAIT has no inode, so a lookup after the fact finds no process.
//
// It runs a second set of pcap handles on the same interfaces, in immediate mode (a
// wake-up per packet) with a small ring and snaplen, filtered in the kernel to TCP
// segments with SYN set (SYN and SYN-ACK), on its own thread. SYNs are a trickle next
// to the main traffic, so immediate mode costs little here; the main capture stays on
// its batched TPACKET_V3 ring. Interface loss and return are handled as in LiveCapture.
//
// The callback runs on the SynWatch thread: it must be quick (hand the event to a queue)
// and must not throw.
//
// capture/ knows no flows and does not link decode/, so the few header fields needed are
// read by parse_syn(), a small bounds-checked parser of its own.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"

namespace netscope::capture {

struct SynEvent {
  core::IpAddress src;
  std::uint16_t sport = 0;
  core::IpAddress dst;
  std::uint16_t dport = 0;
  bool ack = false;                // SYN-ACK (the server's answer) rather than SYN
  std::uint32_t interface_id = 0;  // index into SynWatch::interfaces()
  core::Timestamp ts;              // capture time
};

// The kernel filter. libpcap's tcp[] indexes IPv4 only, so IPv6 is matched by hand on
// a TCP header right after the fixed IPv6 header (no extension headers, the usual case
// for a SYN): ip6[6] is the next header, ip6[40 + 13] the TCP flags.
inline constexpr const char* kSynFilter =
    "(tcp[tcpflags] & tcp-syn != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 2 != 0)";

// Reads a TCP SYN or SYN-ACK out of a frame of the given LINKTYPE_* (Ethernet with VLAN
// tags, Linux cooked v1/v2, raw IPv4/IPv6). nullopt for anything else: not TCP, no SYN
// flag, a non-first fragment, truncated headers. Never reads outside `frame`.
// interface_id and ts are left 0.
std::optional<SynEvent> parse_syn(int linktype, std::span<const std::uint8_t> frame);

class LiveCapture;

class SynWatch {
 public:
  // Opens the handles (empty `interfaces`: the default set, see interfaces.hpp). Pass the
  // main capture's LiveCapture::interfaces() so that interface ids agree. Throws
  // CaptureError as LiveCapture does.
  SynWatch(std::vector<std::string> interfaces, std::function<void(const SynEvent&)> on_syn,
           int snaplen = 128);
  ~SynWatch();  // stops and joins
  SynWatch(const SynWatch&) = delete;
  SynWatch& operator=(const SynWatch&) = delete;

  // Starts the thread; a second call does nothing.
  void start();
  // Stops and joins the thread; safe to call more than once.
  void stop();

  // SYNs and SYN-ACKs handed to the callback so far. Readable from any thread.
  std::uint64_t seen() const { return seen_.load(std::memory_order_relaxed); }
  // Packets that passed the kernel filter but that parse_syn() could not read (an IPv6
  // SYN behind extension headers is read; a VLAN tag the kernel did not strip is read;
  // a tunnelled SYN is not).
  std::uint64_t unparsed() const { return unparsed_.load(std::memory_order_relaxed); }
  const std::vector<std::string>& interfaces() const;

 private:
  class Handler;
  void run();

  std::unique_ptr<LiveCapture> capture_;
  std::function<void(const SynEvent&)> on_syn_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> seen_{0};
  std::atomic<std::uint64_t> unparsed_{0};
  std::thread thread_;
};

}  // namespace netscope::capture
