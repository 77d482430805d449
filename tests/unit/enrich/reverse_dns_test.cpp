#include "enrich/reverse_dns.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using netscope::core::IpAddress;
using netscope::enrich::ReverseDns;
using netscope::enrich::ReverseDnsConfig;
using namespace std::chrono_literals;

namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

// Polls `done` for up to 10 s: long enough for a loaded CI machine, short enough that a
// broken resolver fails the test instead of hanging it.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// A DNS server on 127.0.0.1 that answers PTR queries from a table (NXDOMAIN otherwise),
// or holds every query until release(), or never answers. Only loopback is used.
class FakeDns {
 public:
  enum class Mode { answer, hold, silent };

  FakeDns() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string servers() const { return "127.0.0.1:" + std::to_string(port_); }
  void add_ptr(const std::string& qname, const std::string& target) {
    std::lock_guard lock(mu_);
    ptr_[qname] = target;
  }
  void set_mode(Mode m) {
    std::lock_guard lock(mu_);
    mode_ = m;
  }
  // Answers every held query and goes back to answering at once.
  void release() {
    std::lock_guard lock(mu_);
    mode_ = Mode::answer;
    for (const Held& h : held_) reply(h.query, h.from);
    held_.clear();
  }
  int queries() const { return queries_.load(); }

 private:
  struct Held {
    std::vector<std::uint8_t> query;
    sockaddr_in from;
  };

  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      std::vector<std::uint8_t> buf(512);
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      buf.resize(static_cast<std::size_t>(n));
      ++queries_;
      std::lock_guard lock(mu_);
      if (mode_ == Mode::silent) continue;
      if (mode_ == Mode::hold) {
        held_.push_back({buf, from});
        continue;
      }
      reply(buf, from);
    }
  }

  // RFC 1035 §4.1: echo the header and question; add one PTR answer whose name is a
  // pointer to the question name (offset 12), or set RCODE 3 (NXDOMAIN).
  void reply(const std::vector<std::uint8_t>& q, const sockaddr_in& to) {
    std::size_t pos = 12;
    std::string qname;
    while (pos < q.size() && q[pos] != 0) {
      const std::size_t len = q[pos];
      if (pos + 1 + len > q.size()) return;
      if (!qname.empty()) qname += '.';
      qname.append(reinterpret_cast<const char*>(&q[pos + 1]), len);
      pos += 1 + len;
    }
    if (pos + 5 > q.size()) return;
    const std::size_t question_end = pos + 5;  // root label, QTYPE, QCLASS
    std::vector<std::uint8_t> r(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(question_end));
    r[2] = 0x80 | (q[2] & 0x01);  // QR, copy RD
    r[3] = 0x80;                  // RA, RCODE 0
    r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
    const auto found = ptr_.find(qname);
    if (found == ptr_.end()) {
      r[3] |= 3;
    } else {
      r[7] = 1;  // ANCOUNT
      std::vector<std::uint8_t> rdata;
      std::stringstream labels(found->second);
      for (std::string label; std::getline(labels, label, '.');) {
        rdata.push_back(static_cast<std::uint8_t>(label.size()));
        rdata.insert(rdata.end(), label.begin(), label.end());
      }
      rdata.push_back(0);
      const std::uint8_t rr[] = {0xc0, 12, 0,    12,   0, 1,
                                 0,    0,  0x0e, 0x10, 0, static_cast<std::uint8_t>(rdata.size())};
      r.insert(r.end(), std::begin(rr), std::end(rr));
      r.insert(r.end(), rdata.begin(), rdata.end());
    }
    ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::mutex mu_;
  Mode mode_ = Mode::answer;
  std::map<std::string, std::string> ptr_;
  std::vector<Held> held_;
  std::thread thread_;
};

// DNS only, against the fake server, with short timeouts.
ReverseDnsConfig dns_config(const FakeDns& server) {
  ReverseDnsConfig c;
  c.lookups = "b";
  c.servers = server.servers();
  c.timeout = 200ms;
  c.tries = 1;
  return c;
}

// The first name /etc/hosts gives 127.0.0.1, as c-ares' file lookup returns it.
std::string hosts_name_of_loopback() {
  std::ifstream in("/etc/hosts");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line.substr(0, line.find('#')));
    std::string addr;
    std::string name;
    if (fields >> addr >> name && addr == "127.0.0.1") return name;
  }
  return "";
}

}  // namespace

TEST(ReverseDns, loopback_resolves_from_etc_hosts) {
  const std::string want = hosts_name_of_loopback();
  if (want.empty()) GTEST_SKIP() << "/etc/hosts has no 127.0.0.1 entry";
  ReverseDnsConfig c;
  c.lookups = "f";  // the hosts file only: no network
  ReverseDns rdns(c);
  EXPECT_EQ(rdns.lookup(ip("127.0.0.1")), std::nullopt);  // a miss queues, never waits
  ASSERT_TRUE(eventually([&] { return rdns.lookup(ip("127.0.0.1")).has_value(); }));
  EXPECT_EQ(rdns.lookup(ip("127.0.0.1")), want);
  const auto st = rdns.stats();
  EXPECT_EQ(st.queued, 1U);
  EXPECT_EQ(st.resolved, 1U);
  EXPECT_GE(st.misses, 1U);  // every poll before the answer came is a miss
}

TEST(ReverseDns, ptr_record_from_dns_server) {
  FakeDns server;
  server.add_ptr("7.2.0.192.in-addr.arpa", "host7.example");
  ReverseDns rdns(dns_config(server));
  rdns.lookup(ip("192.0.2.7"));
  ASSERT_TRUE(eventually([&] { return rdns.lookup(ip("192.0.2.7")).has_value(); }));
  EXPECT_EQ(rdns.lookup(ip("192.0.2.7")), "host7.example");
  EXPECT_EQ(server.queries(), 1);
}

TEST(ReverseDns, ipv6_ptr_uses_ip6_arpa_nibbles) {
  FakeDns server;
  server.add_ptr("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                 "six.example");
  ReverseDns rdns(dns_config(server));
  rdns.lookup(ip("2001:db8::1"));
  ASSERT_TRUE(eventually([&] { return rdns.lookup(ip("2001:db8::1")).has_value(); }));
  EXPECT_EQ(rdns.lookup(ip("2001:db8::1")), "six.example");
}

TEST(ReverseDns, nxdomain_is_cached_as_no_name) {
  FakeDns server;
  ReverseDns rdns(dns_config(server));
  rdns.lookup(ip("192.0.2.1"));
  ASSERT_TRUE(eventually([&] { return rdns.stats().failed == 1; }));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rdns.lookup(ip("192.0.2.1")), std::nullopt);
  const auto st = rdns.stats();
  EXPECT_EQ(st.queued, 1U);  // the negative entry stops the repeats
  EXPECT_EQ(st.hits, 5U);
  EXPECT_EQ(st.entries, 1U);
  EXPECT_EQ(st.pending, 0U);
  EXPECT_EQ(server.queries(), 1);
}

TEST(ReverseDns, silent_server_times_out_into_the_negative_cache) {
  FakeDns server;
  server.set_mode(FakeDns::Mode::silent);
  ReverseDns rdns(dns_config(server));
  EXPECT_EQ(rdns.lookup(ip("192.0.2.1")), std::nullopt);
  ASSERT_TRUE(eventually([&] { return rdns.stats().failed == 1; }));
  EXPECT_EQ(rdns.lookup(ip("192.0.2.1")), std::nullopt);
  EXPECT_EQ(rdns.stats().queued, 1U);
  EXPECT_EQ(rdns.stats().in_flight, 0U);
}

TEST(ReverseDns, expired_negative_entry_is_asked_again) {
  FakeDns server;
  ReverseDnsConfig c = dns_config(server);
  c.negative_ttl = 0s;
  ReverseDns rdns(c);
  rdns.lookup(ip("192.0.2.1"));
  ASSERT_TRUE(eventually([&] { return rdns.stats().failed == 1; }));
  rdns.lookup(ip("192.0.2.1"));
  EXPECT_EQ(rdns.stats().queued, 2U);
  ASSERT_TRUE(eventually([&] { return rdns.stats().failed == 2; }));
}

TEST(ReverseDns, set_name_answers_at_once_without_a_query) {
  FakeDns server;
  ReverseDns rdns(dns_config(server));
  rdns.set_name(ip("192.0.2.9"), "seen-in-dns.example", 60s);
  EXPECT_EQ(rdns.lookup(ip("192.0.2.9")), "seen-in-dns.example");
  EXPECT_EQ(rdns.stats().queued, 0U);
  rdns.set_name(ip("192.0.2.10"), "", 60s);  // ignored
  EXPECT_EQ(rdns.stats().entries, 1U);
}

TEST(ReverseDns, set_name_wins_over_a_ptr_answer_that_arrives_later) {
  FakeDns server;
  server.add_ptr("7.2.0.192.in-addr.arpa", "ptr-name.example");
  server.set_mode(FakeDns::Mode::hold);
  ReverseDns rdns(dns_config(server));
  rdns.lookup(ip("192.0.2.7"));
  ASSERT_TRUE(eventually([&] { return server.queries() == 1; }));
  rdns.set_name(ip("192.0.2.7"), "answer-name.example", 60s);
  server.release();
  ASSERT_TRUE(eventually([&] { return rdns.stats().resolved == 1; }));
  EXPECT_EQ(rdns.lookup(ip("192.0.2.7")), "answer-name.example");
}

TEST(ReverseDns, expired_name_is_served_while_it_is_refreshed) {
  FakeDns server;
  server.add_ptr("5.2.0.192.in-addr.arpa", "fresh.example");
  ReverseDns rdns(dns_config(server));
  rdns.set_name(ip("192.0.2.5"), "old.example", 0s);
  EXPECT_EQ(rdns.lookup(ip("192.0.2.5")), "old.example");
  EXPECT_EQ(rdns.stats().queued, 1U);
  ASSERT_TRUE(eventually([&] { return rdns.lookup(ip("192.0.2.5")) == "fresh.example"; }));
}

TEST(ReverseDns, cache_bound_evicts_least_recently_used) {
  FakeDns server;
  server.set_mode(FakeDns::Mode::silent);
  ReverseDnsConfig c = dns_config(server);
  c.max_entries = 4;
  ReverseDns rdns(c);
  const auto addr = [](int i) {
    return IpAddress::from_v4(0xc0000200U + static_cast<unsigned>(i));
  };
  for (int i = 0; i < 4; ++i) rdns.set_name(addr(i), "n" + std::to_string(i), 60s);
  EXPECT_EQ(rdns.lookup(addr(0)), "n0");  // now the most recently used
  for (int i = 4; i < 10; ++i) rdns.set_name(addr(i), "n" + std::to_string(i), 60s);
  const auto st = rdns.stats();
  EXPECT_EQ(st.entries, 4U);
  EXPECT_EQ(st.evictions, 6U);
  EXPECT_EQ(rdns.lookup(addr(9)), "n9");
  EXPECT_EQ(rdns.lookup(addr(0)), std::nullopt);  // evicted despite the touch: 6 newer names
  EXPECT_EQ(rdns.lookup(addr(1)), std::nullopt);
}

TEST(ReverseDns, recently_used_entry_survives_eviction) {
  ReverseDnsConfig c;
  c.lookups = "f";
  c.max_entries = 3;
  ReverseDns rdns(c);
  const auto addr = [](int i) {
    return IpAddress::from_v4(0xc0000200U + static_cast<unsigned>(i));
  };
  for (int i = 0; i < 3; ++i) rdns.set_name(addr(i), "n" + std::to_string(i), 60s);
  rdns.lookup(addr(0));
  rdns.set_name(addr(3), "n3", 60s);  // evicts addr(1), the least recently used
  EXPECT_EQ(rdns.lookup(addr(0)), "n0");
  EXPECT_EQ(rdns.lookup(addr(2)), "n2");
  EXPECT_EQ(rdns.lookup(addr(3)), "n3");
  EXPECT_EQ(rdns.lookup(addr(1)), std::nullopt);
}

TEST(ReverseDns, full_queue_drops_and_counts) {
  FakeDns server;
  server.set_mode(FakeDns::Mode::silent);
  ReverseDnsConfig c = dns_config(server);
  c.timeout = 30000ms;  // stays in flight until the destructor cancels it
  c.max_in_flight = 1;
  c.queue = 2;
  ReverseDns rdns(c);
  rdns.lookup(ip("192.0.2.1"));
  ASSERT_TRUE(eventually([&] { return rdns.stats().in_flight == 1; }));
  rdns.lookup(ip("192.0.2.2"));
  rdns.lookup(ip("192.0.2.3"));
  rdns.lookup(ip("192.0.2.2"));  // already pending: not queued twice
  rdns.lookup(ip("192.0.2.4"));  // queue full
  const auto st = rdns.stats();
  EXPECT_EQ(st.queued, 3U);
  EXPECT_EQ(st.overflow, 1U);
  EXPECT_EQ(st.pending, 3U);
}

TEST(ReverseDns, bad_server_string_is_a_start_up_error) {
  ReverseDnsConfig c;
  c.servers = "not an address";
  EXPECT_THROW(ReverseDns{c}, std::runtime_error);
}
