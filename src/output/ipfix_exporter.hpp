#pragma once
// IpfixExporter: the exporting process of --ipfix HOST:PORT over UDP (RFC 7011 §10.3).
// The tick thread only hands each snapshot over (a shared pointer into a bounded queue;
// when the queue is full the snapshot is dropped and counted, and nothing is lost but
// timing, because the meter works on cumulative counters). The exporter's own thread runs
// the FlowMeter, encodes the records into messages of at most `max_message` bytes and
// sends them, with the template set in front of the first message and again every
// `template_refresh_s` seconds (RFC 7011 §8.4: over UDP, templates are resent
// periodically).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "monitor/snapshot.hpp"
#include "output/ipfix.hpp"
#include "output/ipfix_meter.hpp"

namespace netscope::output::ipfix {

struct ExporterConfig {
  std::string target;  // HOST:PORT, [IPv6]:PORT
  MeterConfig meter;
  std::uint32_t observation_domain = 1;  // --ipfix-domain
  double template_refresh_s = 60;
  std::size_t max_message = kDefaultMaxMessage;
  std::size_t queue_capacity = 64;  // snapshots waiting for the exporter thread
  // Wait for room instead of dropping when the queue is full: for a replay (--read),
  // where the tick thread is paced by the file, not by the network.
  bool block_when_full = false;
};

struct ExporterStats {
  std::uint64_t messages = 0;
  std::uint64_t records = 0;
  std::uint64_t snapshots_dropped = 0;  // queue full
  std::uint64_t send_errors = 0;
};

// Splits "host:port", "[v6]:port" into host and port. False with `error` set when malformed.
bool split_host_port(const std::string& target, std::string& host, std::uint16_t& port,
                     std::string& error);

class IpfixExporter {
 public:
  // Resolves the target and opens the UDP socket. Throws std::runtime_error naming
  // --ipfix when the target is malformed or cannot be resolved.
  explicit IpfixExporter(ExporterConfig config);
  ~IpfixExporter();
  IpfixExporter(const IpfixExporter&) = delete;
  IpfixExporter& operator=(const IpfixExporter&) = delete;

  // Never blocks the caller beyond a short lock (unless block_when_full).
  void submit(std::shared_ptr<const monitor::Snapshot> snap);
  // Exports what the queue holds, then everything pending with flowEndReason 4, and
  // stops the thread. Idempotent.
  void finish();
  ExporterStats stats() const;

 private:
  void run();
  void send_records(std::vector<FlowRecord>& records, std::int64_t now_s);

  ExporterConfig cfg_;
  int fd_ = -1;
  FlowMeter meter_;
  MessageEncoder encoder_;
  std::int64_t last_templates_s_ = -1;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable room_;  // block_when_full: the queue shrank
  std::deque<std::shared_ptr<const monitor::Snapshot>> queue_;
  bool stopping_ = false;
  std::uint64_t last_tick_ = 0;
  bool any_tick_ = false;
  ExporterStats stats_;
  std::thread thread_;
};

}  // namespace netscope::output::ipfix
