#include "output/ipfix_exporter.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "host/privileges.hpp"

namespace netscope::output::ipfix {

namespace {

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool split_host_port(const std::string& target, std::string& host, std::uint16_t& port,
                     std::string& error) {
  std::string port_text;
  if (!target.empty() && target.front() == '[') {
    const std::size_t close = target.find(']');
    if (close == std::string::npos || close + 1 >= target.size() || target[close + 1] != ':') {
      error = "expected [IPv6]:PORT";
      return false;
    }
    host = target.substr(1, close - 1);
    port_text = target.substr(close + 2);
  } else {
    const std::size_t colon = target.rfind(':');
    if (colon == std::string::npos) {
      error = "expected HOST:PORT";
      return false;
    }
    host = target.substr(0, colon);
    port_text = target.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      error = "an IPv6 address goes in brackets: [ADDR]:PORT";
      return false;
    }
  }
  if (host.empty()) {
    error = "missing host";
    return false;
  }
  unsigned value = 0;
  const char* first = port_text.data();
  const char* last = first + port_text.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  if (port_text.empty() || ec != std::errc() || end != last || value == 0 || value > 65535) {
    error = "bad port \"" + port_text + "\" (1-65535)";
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

IpfixExporter::IpfixExporter(ExporterConfig config)
    : cfg_(std::move(config)),
      meter_(cfg_.meter),
      encoder_(cfg_.observation_domain, cfg_.max_message) {
  std::string host;
  std::uint16_t port = 0;
  std::string error;
  if (!split_host_port(cfg_.target, host, port, error)) {
    throw std::runtime_error("--ipfix " + cfg_.target + ": " + error);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error("--ipfix " + cfg_.target + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(res);
  if (fd_ < 0) throw std::runtime_error("--ipfix " + cfg_.target + ": " + last_error);
  thread_ = std::thread([this] { run(); });
}

IpfixExporter::~IpfixExporter() {
  finish();
  if (fd_ >= 0) close(fd_);
}

void IpfixExporter::submit(std::shared_ptr<const monitor::Snapshot> snap) {
  {
    std::unique_lock lock(mu_);
    if (cfg_.block_when_full) {
      room_.wait(lock, [this] { return stopping_ || queue_.size() < cfg_.queue_capacity; });
    }
    if (stopping_) return;
    // A snapshot seen before (the same tick handed over twice) is not metered again.
    if (any_tick_ && snap->tick <= last_tick_ && !snap->end_of_input) return;
    any_tick_ = true;
    last_tick_ = snap->tick;
    if (queue_.size() >= cfg_.queue_capacity) {
      ++stats_.snapshots_dropped;
      return;
    }
    queue_.push_back(std::move(snap));
  }
  cv_.notify_one();
}

void IpfixExporter::finish() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  room_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ExporterStats IpfixExporter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void IpfixExporter::run() {
  host::drop_thread_capabilities("IPFIX exporter");
  std::vector<FlowRecord> records;
  for (;;) {
    std::shared_ptr<const monitor::Snapshot> snap;
    bool stop = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (!queue_.empty()) {
        snap = std::move(queue_.front());
        queue_.pop_front();
        room_.notify_one();
      } else {
        stop = true;
      }
    }
    records.clear();
    if (stop) {
      meter_.flush(records);
      send_records(records, wall_seconds());
      return;
    }
    meter_.update(*snap, records);
    send_records(records, wall_seconds());
  }
}

void IpfixExporter::send_records(std::vector<FlowRecord>& records, std::int64_t now_s) {
  const bool templates =
      last_templates_s_ < 0 ||
      now_s - last_templates_s_ >= static_cast<std::int64_t>(cfg_.template_refresh_s);
  if (records.empty() && !templates) return;
  if (templates) last_templates_s_ = now_s;
  const auto messages = encoder_.encode(records, templates, static_cast<std::uint32_t>(now_s));
  std::uint64_t sent = 0;
  std::uint64_t errors = 0;
  for (const auto& m : messages) {
    // A connected UDP socket reports an earlier ICMP port unreachable (nobody listened
    // then) on the next send, which is not sent: try once more. A collector that starts
    // later gets the templates at their next refresh.
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
      ok = ::send(fd_, m.data(), m.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(m.size());
      if (!ok && errno != ECONNREFUSED) break;
    }
    ++(ok ? sent : errors);
  }
  std::lock_guard lock(mu_);
  stats_.messages += sent;
  stats_.records += records.size();
  stats_.send_errors += errors;
}

}  // namespace netscope::output::ipfix
