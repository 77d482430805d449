#include "output/prometheus_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "host/privileges.hpp"

namespace netscope::output {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kDrainTime{1000};
constexpr std::size_t kDrainBytes = 1 << 20;
constexpr std::size_t kReadChunk = 4096;
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";

bool parse_port(std::string_view s, std::uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

// A response in up to three pieces: status line and headers, a shared body (the
// rendered metrics, not copied per client) and a per-request tail.
struct Response {
  std::string head;
  std::shared_ptr<const std::string> body;
  std::string tail;
  std::size_t sent = 0;
  std::size_t size() const { return head.size() + (body ? body->size() : 0) + tail.size(); }
};

enum class Phase { reading, idle, writing, draining };

struct Client {
  int fd = -1;
  Phase phase = Phase::reading;
  std::string in;
  Response out;
  bool close_after = false;
  bool peer_closed = false;  // the client shut down its side: answer what came, then close
  Clock::time_point deadline;
  Clock::time_point last_activity;
  std::size_t drained = 0;
};

}  // namespace

bool parse_listen_address(std::string_view text, std::string& address, std::uint16_t& port,
                          std::string& error) {
  std::string_view host = "127.0.0.1";
  std::string_view port_text = text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPv6]:PORT";
      return false;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    in6_addr a6{};
    if (!inet_pton(AF_INET6, std::string(host).c_str(), &a6)) {
      error = "\"" + std::string(host) + "\" is not an IPv6 address";
      return false;
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host == "localhost") host = "127.0.0.1";
    in_addr a4{};
    if (host.empty() || host.find(':') != std::string_view::npos ||
        !inet_pton(AF_INET, std::string(host).c_str(), &a4)) {
      error = "\"" + std::string(host) +
              "\" is not an IPv4 address (write an IPv6 address as [ADDR]:PORT, and every "
              "address as 0.0.0.0)";
      return false;
    }
  }
  if (!parse_port(port_text, port)) {
    error = "\"" + std::string(port_text) + "\" is not a port (1-65535)";
    return false;
  }
  address.assign(host);
  return true;
}

struct PrometheusExporter::Impl {
  ExporterConfig cfg;
  int listen_fd = -1;
  int wake_fd = -1;
  int epoll_fd = -1;
  std::uint16_t bound_port = 0;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> applied{0};

  mutable std::mutex queue_mu;
  std::deque<std::shared_ptr<const monitor::Snapshot>> queue;
  std::uint64_t queue_dropped = 0;  // under queue_mu

  // Exporter thread only.
  PrometheusMetrics metrics;
  std::shared_ptr<const std::string> rendered;
  bool dirty = true;
  std::optional<Clock::time_point> last_snapshot;
  double refresh_s = 1;
  std::unordered_map<int, Client> clients;
  std::map<int, std::uint64_t> requests_by_code;
  std::uint64_t evicted = 0;
  std::uint64_t rejected = 0;
  bool listen_paused = false;
  Clock::time_point listen_resume;

  explicit Impl(ExporterConfig c) : cfg(std::move(c)), metrics(cfg.metrics) {}

  ~Impl() {
    for (auto& [fd, c] : clients) ::close(fd);
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
  }

  void open_socket() {
    const bool v6 = cfg.address.find(':') != std::string::npos;
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(cfg.port);
      if (inet_pton(AF_INET6, cfg.address.c_str(), &a->sin6_addr) != 1) {
        throw std::runtime_error("--prometheus: \"" + cfg.address + "\" is not an address");
      }
      len = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(cfg.port);
      if (inet_pton(AF_INET, cfg.address.c_str(), &a->sin_addr) != 1) {
        throw std::runtime_error("--prometheus: \"" + cfg.address + "\" is not an address");
      }
      len = sizeof(sockaddr_in);
    }
    const std::string where =
        (v6 ? "[" + cfg.address + "]" : cfg.address) + ":" + std::to_string(cfg.port);
    listen_fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) {
      throw std::runtime_error("--prometheus " + where + ": socket: " + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6) ::setsockopt(listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::listen(listen_fd, 128) != 0) {
      throw std::runtime_error("--prometheus " + where +
                               ": cannot listen: " + std::strerror(errno));
    }
    sockaddr_storage got{};
    socklen_t got_len = sizeof got;
    if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&got), &got_len) == 0) {
      if (got.ss_family == AF_INET6) {
        sockaddr_in6 a{};
        std::memcpy(&a, &got, sizeof a);
        bound_port = ntohs(a.sin6_port);
      } else {
        sockaddr_in a{};
        std::memcpy(&a, &got, sizeof a);
        bound_port = ntohs(a.sin_port);
      }
    }
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (wake_fd < 0 || epoll_fd < 0) {
      throw std::runtime_error(std::string("--prometheus: eventfd/epoll: ") + std::strerror(errno));
    }
    add_fd(listen_fd, EPOLLIN);
    add_fd(wake_fd, EPOLLIN);
  }

  void add_fd(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  void mod_fd(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  // ---- the thread ----

  void run() {
    if (cfg.drop_capabilities) {
      std::string err;
      if (!host::drop_capabilities_except({}, &err)) {
        core::Log::info("prometheus exporter: could not drop capabilities: " + err);
      }
    }
    std::vector<epoll_event> events(64);
    while (!stopping.load(std::memory_order_acquire)) {
      const int n =
          ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), next_timeout_ms());
      if (n < 0 && errno != EINTR) {
        core::Log::error(std::string("prometheus exporter: epoll_wait: ") + std::strerror(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
        if (fd == wake_fd) {
          std::uint64_t v = 0;
          [[maybe_unused]] const ssize_t r = ::read(wake_fd, &v, sizeof v);
          apply_queue();
        } else if (fd == listen_fd) {
          accept_all();
        } else if (auto it = clients.find(fd); it != clients.end()) {
          on_client(it->second, ev);
        }
      }
      expire();
    }
  }

  int next_timeout_ms() const {
    Clock::time_point next = Clock::now() + std::chrono::seconds(1);
    for (const auto& [fd, c] : clients) next = std::min(next, c.deadline);
    if (listen_paused) next = std::min(next, listen_resume);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms + 1, 0, 1000));
  }

  void apply_queue() {
    std::deque<std::shared_ptr<const monitor::Snapshot>> batch;
    {
      std::lock_guard lock(queue_mu);
      batch.swap(queue);
    }
    for (const auto& snap : batch) {
      metrics.update(*snap);
      refresh_s = snap->refresh_s;
      applied.fetch_add(1, std::memory_order_relaxed);
    }
    if (!batch.empty()) {
      dirty = true;
      last_snapshot = Clock::now();
    }
  }

  void accept_all() {
    for (int i = 0; i < 64; ++i) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop accepting for a moment rather than spin.
          listen_paused = true;
          listen_resume = Clock::now() + std::chrono::milliseconds(100);
          mod_fd(listen_fd, 0);
        }
        return;
      }
      if (clients.size() >= cfg.max_connections && !evict_one()) {
        ++rejected;
        const std::string r = simple_response(503, "too many connections\n", false).head;
        [[maybe_unused]] const ssize_t n = ::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Client& c = clients[fd];
      c.fd = fd;
      c.phase = Phase::reading;
      c.last_activity = Clock::now();
      c.deadline = c.last_activity + cfg.request_timeout;
      add_fd(fd, EPOLLIN | EPOLLRDHUP);
    }
  }

  // Closes the quietest connection that is not sending a response. False when every
  // connection is busy sending.
  bool evict_one() {
    Client* victim = nullptr;
    for (auto& [fd, c] : clients) {
      if (c.phase == Phase::writing) continue;
      if (victim == nullptr || (c.phase == Phase::draining && victim->phase != Phase::draining) ||
          ((c.phase == Phase::draining) == (victim->phase == Phase::draining) &&
           c.last_activity < victim->last_activity)) {
        victim = &c;
      }
    }
    if (victim == nullptr) return false;
    ++evicted;
    close_client(victim->fd);
    return true;
  }

  void close_client(int fd) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients.erase(fd);
  }

  void on_client(Client& c, std::uint32_t ev) {
    const int fd = c.fd;
    if (c.phase == Phase::writing) {
      if ((ev & (EPOLLERR | EPOLLHUP)) != 0) return close_client(fd);
      return flush(c);
    }
    if (c.phase == Phase::draining) return drain(c);
    // reading or idle
    for (;;) {
      if (c.in.size() > cfg.limits.max_request_bytes) break;  // the parser will answer 431
      char buf[kReadChunk];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (c.phase == Phase::idle) {
          c.phase = Phase::reading;
          c.deadline = Clock::now() + cfg.request_timeout;
        }
        c.last_activity = Clock::now();
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) {
        // The client is done sending. A request that came whole before its FIN (a
        // half-close, as `nc -N` does) is still answered; anything else is dropped.
        if (c.in.empty()) return close_client(fd);
        c.peer_closed = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return close_client(fd);
    }
    const bool eof = c.peer_closed;
    process(c);
    if (eof) {
      const auto it = clients.find(fd);
      if (it != clients.end() && it->second.phase == Phase::reading) close_client(fd);
    }
  }

  // Parses what is buffered and starts the response, if a request (or an error) is there.
  void process(Client& c) {
    if (c.in.empty()) return;
    const HttpParseResult r = parse_http_request(c.in, cfg.limits);
    if (r.status == HttpParse::incomplete) return;
    if (r.status == HttpParse::error) {
      respond(c, simple_response(r.error_status, r.error_reason + "\n", false), true);
      return;
    }
    c.in.erase(0, r.consumed);
    respond(c, handle(r.request), !r.request.keep_alive || r.request.has_body);
  }

  Response handle(const HttpRequest& req) {
    const bool head = req.method == "HEAD";
    const bool known_path = req.path == "/metrics" || req.path == "/healthz" || req.path == "/";
    if (req.method != "GET" && !head) {
      static constexpr std::string_view kMethods[] = {"POST",    "PUT",   "DELETE", "CONNECT",
                                                      "OPTIONS", "TRACE", "PATCH"};
      const bool http_method =
          std::find(std::begin(kMethods), std::end(kMethods), req.method) != std::end(kMethods);
      if (!http_method) return simple_response(501, "method not implemented\n", false);
      if (!known_path) return simple_response(404, "not found\n", false);
      return simple_response(405, "only GET and HEAD\n", false, "Allow: GET, HEAD\r\n");
    }
    if (req.has_body) return simple_response(413, "this endpoint takes no request body\n", head);
    if (req.path == "/metrics") return metrics_response(head, req.keep_alive, req.version_minor);
    if (req.path == "/healthz") return health_response(head);
    if (req.path == "/") {
      return simple_response(200, "netscope Prometheus exporter: /metrics, /healthz\n", head);
    }
    return simple_response(404, "not found\n", head);
  }

  Response metrics_response(bool head, bool keep_alive, int version_minor) {
    if (dirty || !rendered) {
      auto text = std::make_shared<std::string>();
      metrics.render(*text);
      rendered = std::move(text);
      dirty = false;
    }
    ++requests_by_code[200];
    Response r;
    r.tail = self_metrics();
    const std::size_t length = rendered->size() + r.tail.size();
    r.head = "HTTP/1.1 200 OK\r\nContent-Type: ";
    r.head += kMetricsType;
    r.head += "\r\nContent-Length: " + std::to_string(length) + "\r\n";
    if (version_minor == 0 && keep_alive) r.head += "Connection: keep-alive\r\n";
    r.head += "\r\n";
    if (head) {
      r.tail.clear();
    } else {
      r.body = rendered;
    }
    return r;
  }

  // The exporter's own counters, current at each scrape.
  std::string self_metrics() const {
    std::string out;
    out +=
        "# HELP netscope_exporter_requests_total HTTP responses of the metrics endpoint, by "
        "status code.\n# TYPE netscope_exporter_requests_total counter\n";
    for (const auto& [code, n] : requests_by_code) {
      out += "netscope_exporter_requests_total{code=\"" + std::to_string(code) + "\"} " +
             std::to_string(n) + "\n";
    }
    out +=
        "# HELP netscope_exporter_connections_evicted_total Quiet connections closed to make "
        "room for a new one.\n# TYPE netscope_exporter_connections_evicted_total counter\n"
        "netscope_exporter_connections_evicted_total " +
        std::to_string(evicted) + "\n";
    out +=
        "# HELP netscope_exporter_connections_rejected_total Connections answered 503 because "
        "every slot was busy.\n# TYPE netscope_exporter_connections_rejected_total counter\n"
        "netscope_exporter_connections_rejected_total " +
        std::to_string(rejected) + "\n";
    std::uint64_t dropped = 0;
    {
      std::lock_guard lock(queue_mu);
      dropped = queue_dropped;
    }
    out +=
        "# HELP netscope_exporter_snapshots_dropped_total Snapshots the exporter skipped "
        "because its queue was full.\n# TYPE netscope_exporter_snapshots_dropped_total "
        "counter\nnetscope_exporter_snapshots_dropped_total " +
        std::to_string(dropped) + "\n";
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    out +=
        "# HELP netscope_exporter_cpu_seconds_total CPU time of the exporter thread (HTTP and "
        "the metrics model).\n# TYPE netscope_exporter_cpu_seconds_total counter\n"
        "netscope_exporter_cpu_seconds_total " +
        fmt_seconds(ts) + "\n";
    return out;
  }

  static std::string fmt_seconds(const timespec& ts) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%09ld", static_cast<long long>(ts.tv_sec), ts.tv_nsec);
    return buf;
  }

  Response health_response(bool head) {
    if (!last_snapshot) return simple_response(503, "no snapshot yet\n", head);
    const double age = std::chrono::duration<double>(Clock::now() - *last_snapshot).count();
    const double limit = std::max(10.0, 3 * refresh_s);
    if (age > limit) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "stale: the last snapshot came %.1f s ago\n", age);
      return simple_response(503, buf, head);
    }
    return simple_response(200, "ok\n", head);
  }

  Response simple_response(int status, std::string_view body, bool head,
                           std::string_view extra_headers = {}) {
    ++requests_by_code[status];
    Response r;
    r.head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http_reason_phrase(status)) +
             "\r\nContent-Type: " + kTextType +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    r.head += extra_headers;
    if (status >= 400) r.head += "Connection: close\r\n";
    r.head += "\r\n";
    if (!head) r.head += body;
    return r;
  }

  void respond(Client& c, Response r, bool close_after) {
    c.out = std::move(r);
    c.close_after = close_after || c.peer_closed || c.out.head.compare(9, 1, "4") == 0 ||
                    c.out.head.compare(9, 1, "5") == 0;
    c.phase = Phase::writing;
    c.deadline = Clock::now() + cfg.write_timeout;
    flush(c);
  }

  void flush(Client& c) {
    const int fd = c.fd;
    Response& r = c.out;
    const std::size_t total = r.size();
    while (r.sent < total) {
      iovec iov[3];
      int n_iov = 0;
      std::size_t off = r.sent;
      const auto piece = [&](const std::string& s) {
        if (off >= s.size()) {
          off -= s.size();
          return;
        }
        iov[n_iov].iov_base = const_cast<char*>(s.data() + off);
        iov[n_iov].iov_len = s.size() - off;
        ++n_iov;
        off = 0;
      };
      piece(r.head);
      if (r.body) piece(*r.body);
      piece(r.tail);
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(n_iov);
      const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
      if (n > 0) {
        r.sent += static_cast<std::size_t>(n);
        c.last_activity = Clock::now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // Not EPOLLRDHUP: level-triggered, a half-closed peer would wake us in a loop.
        mod_fd(fd, EPOLLOUT);
        return;
      }
      return close_client(fd);
    }
    c.out = Response{};
    if (c.close_after) {
      // Half-close and drain, so that unread request bytes do not turn the close into a
      // reset that destroys the response before the client reads it.
      ::shutdown(fd, SHUT_WR);
      c.phase = Phase::draining;
      c.in.clear();
      c.in.shrink_to_fit();
      c.deadline = Clock::now() + kDrainTime;
      mod_fd(fd, EPOLLIN | EPOLLRDHUP);
      return;
    }
    c.phase = Phase::idle;
    c.deadline = Clock::now() + cfg.idle_timeout;
    mod_fd(fd, EPOLLIN | EPOLLRDHUP);
    if (!c.in.empty()) {  // a pipelined request
      c.phase = Phase::reading;
      c.deadline = Clock::now() + cfg.request_timeout;
      process(c);
    }
  }

  void drain(Client& c) {
    for (;;) {
      char buf[kReadChunk];
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.drained += static_cast<std::size_t>(n);
        if (c.drained > kDrainBytes) return close_client(c.fd);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      return close_client(c.fd);
    }
  }

  void expire() {
    const Clock::time_point now = Clock::now();
    if (listen_paused && now >= listen_resume) {
      listen_paused = false;
      mod_fd(listen_fd, EPOLLIN);
    }
    std::vector<int> due;
    for (const auto& [fd, c] : clients) {
      if (c.deadline <= now) due.push_back(fd);
    }
    for (int fd : due) {
      Client& c = clients[fd];
      if (c.phase == Phase::reading) {
        // RFC 9110 §15.5.9: 408 when the request did not come in time.
        respond(c, simple_response(408, "request timeout\n", false), true);
      } else {
        close_client(fd);  // idle keep-alive, a response not read, or the drain is over
      }
    }
  }
};

PrometheusExporter::PrometheusExporter(ExporterConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->open_socket();
  impl_->thread = std::thread([this] { impl_->run(); });
}

PrometheusExporter::~PrometheusExporter() {
  stop();
}

void PrometheusExporter::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping.store(true, std::memory_order_release);
  impl_->wake();
  impl_->thread.join();
}

void PrometheusExporter::on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) {
  {
    std::lock_guard lock(impl_->queue_mu);
    if (impl_->queue.size() >= impl_->cfg.max_queued_snapshots) {
      ++impl_->queue_dropped;
      return;
    }
    impl_->queue.push_back(snap);
  }
  impl_->wake();
}

std::uint16_t PrometheusExporter::port() const {
  return impl_->bound_port;
}

std::int64_t PrometheusExporter::thread_cpu_ns() const {
  if (!impl_->thread.joinable()) return 0;
  clockid_t cid{};
  if (pthread_getcpuclockid(const_cast<std::thread&>(impl_->thread).native_handle(), &cid) != 0) {
    return 0;
  }
  timespec ts{};
  if (::clock_gettime(cid, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint64_t PrometheusExporter::snapshots_applied() const {
  return impl_->applied.load(std::memory_order_relaxed);
}

}  // namespace netscope::output
