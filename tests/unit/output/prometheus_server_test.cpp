// The exporter's HTTP endpoint over real loopback sockets.

#include "output/prometheus_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "snapshot_builder.hpp"

using namespace netscope;
using namespace netscope::output;

namespace {

class Conn {
 public:
  explicit Conn(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  bool ok() const { return ok_; }

  void send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  // Reads until the peer closes or `ms` pass; what arrived.
  std::string read_all(int ms = 5000) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // True when the peer closed (or reset) the connection within `ms`.
  bool closed_by_peer(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char buf[256];
    return ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) <= 0;
  }
  // Reads one response with a Content-Length body.
  std::string read_response(int ms = 5000) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::size_t end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::size_t cl = out.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) {
          const std::size_t len = std::stoul(out.substr(cl + 16));
          if (out.size() >= end + 4 + len) return out.substr(0, end + 4 + len);
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

ExporterConfig test_config() {
  ExporterConfig c;
  c.port = 0;
  c.drop_capabilities = false;
  c.metrics.version = "test";
  return c;
}

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

void feed_and_wait(PrometheusExporter& e, std::uint64_t n) {
  e.on_snapshot(std::make_shared<const monitor::Snapshot>(output::testing::busy_snapshot()));
  for (int i = 0; i < 500 && e.snapshots_applied() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TEST(PrometheusServer, parse_listen_address_forms) {
  std::string addr, err;
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_listen_address("9108", addr, port, err));
  EXPECT_EQ(addr, "127.0.0.1");
  EXPECT_EQ(port, 9108);
  ASSERT_TRUE(parse_listen_address("0.0.0.0:9100", addr, port, err));
  EXPECT_EQ(addr, "0.0.0.0");
  ASSERT_TRUE(parse_listen_address("[::1]:9101", addr, port, err));
  EXPECT_EQ(addr, "::1");
  EXPECT_EQ(port, 9101);
  ASSERT_TRUE(parse_listen_address("localhost:9102", addr, port, err));
  EXPECT_EQ(addr, "127.0.0.1");
  for (const char* bad : {"", "0", "65536", "x", ":9108", "1.2.3:80", "::1:80", "[::1]80",
                          "[nope]:80", "1.2.3.4:", "1.2.3.4:-1"}) {
    EXPECT_FALSE(parse_listen_address(bad, addr, port, err)) << bad;
    EXPECT_FALSE(err.empty());
  }
}

TEST(PrometheusServer, a_port_in_use_is_an_error_naming_the_address) {
  PrometheusExporter first(test_config());
  ExporterConfig c = test_config();
  c.port = first.port();
  try {
    PrometheusExporter second(c);
    FAIL() << "bound twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(c.port)), std::string::npos)
        << e.what();
  }
}

TEST(PrometheusServer, serves_metrics_and_health) {
  PrometheusExporter e(test_config());
  {
    Conn c(e.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_line(c.read_response()), "HTTP/1.1 503 Service Unavailable");
  }
  feed_and_wait(e, 1);
  Conn c(e.port());
  ASSERT_TRUE(c.ok());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(c.read_response()), "HTTP/1.1 200 OK");
  // Keep-alive: the same connection serves the scrape.
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string r = c.read_response();
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"), std::string::npos);
  EXPECT_NE(r.find("\nnetscope_process_bytes_total{process=\"curl\",user=\"\",container=\"\","
                   "direction=\"down\"} 5000\n"),
            std::string::npos);
  EXPECT_NE(r.find("\nnetscope_exporter_requests_total{code=\"200\"} "), std::string::npos);
  // HEAD: the same headers, no body.
  c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string h = c.read_all();
  EXPECT_EQ(status_line(h), "HTTP/1.1 200 OK");
  EXPECT_EQ(h.find("netscope_"), std::string::npos);
}

TEST(PrometheusServer, wrong_paths_methods_and_bodies_get_their_status) {
  PrometheusExporter e(test_config());
  const auto ask = [&e](const std::string& req) {
    Conn c(e.port());
    c.send(req);
    return status_line(c.read_all());
  };
  EXPECT_EQ(ask("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(ask("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"),
            "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(ask("BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 501 Not Implemented");
  EXPECT_EQ(ask("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"),
            "HTTP/1.1 413 Content Too Large");
  EXPECT_EQ(ask("hello\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(ask("GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST(PrometheusServer, a_request_that_never_finishes_gets_408) {
  ExporterConfig cfg = test_config();
  cfg.request_timeout = std::chrono::milliseconds(300);
  PrometheusExporter e(cfg);
  Conn slow(e.port());
  slow.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");  // and nothing more
  EXPECT_EQ(status_line(slow.read_all(5000)), "HTTP/1.1 408 Request Timeout");
}

TEST(PrometheusServer, connections_are_bounded_and_a_new_client_still_gets_served) {
  ExporterConfig cfg = test_config();
  cfg.max_connections = 4;
  PrometheusExporter e(cfg);
  feed_and_wait(e, 1);
  std::vector<std::unique_ptr<Conn>> quiet;
  for (int i = 0; i < 20; ++i) {
    quiet.push_back(std::make_unique<Conn>(e.port()));
    quiet.back()->send("GET /metrics HTTP/1.1\r\n");  // partial, then silence
  }
  // The newest client replaces the quietest connection and gets its answer.
  Conn fresh(e.port());
  fresh.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(fresh.read_response()), "HTTP/1.1 200 OK");
  // At most 4 of the quiet ones can still be open: the others were closed (EOF, no data).
  int closed = 0;
  for (auto& q : quiet) {
    if (q->closed_by_peer(100)) ++closed;
  }
  EXPECT_GE(closed, 16);
}

TEST(PrometheusServer, a_request_followed_by_a_half_close_is_answered) {
  PrometheusExporter e(test_config());
  feed_and_wait(e, 1);
  Conn c(e.port());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  c.shutdown_write();
  const std::string r = c.read_all();
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("\r\n\r\nok\n"), std::string::npos);
  // A partial request and a half-close: closed without an answer.
  Conn p(e.port());
  p.send("GET /healthz HTTP/1.1\r\n");
  p.shutdown_write();
  EXPECT_EQ(p.read_all(), "");
}
