// TickBuilder's DPI plumbing: DPI fields and states on connection records, service names,
// DNS events attributed to the process that owns the client's socket, per-process DNS
// history, the whole run's DNS list with its bound, and names from DNS answers ahead of
// reverse DNS. Samples and DNS events are written out by hand; the resolver is scripted.

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "decode/packet_view.hpp"
#include "monitor/dns_names.hpp"
#include "monitor/tick_builder.hpp"
#include "scripted_resolver.hpp"

namespace netscope::monitor {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
const core::IpAddress kLocal = *core::IpAddress::parse("10.0.0.1");
const core::IpAddress kRemote = *core::IpAddress::parse("192.0.2.80");
const core::IpAddress kResolver = *core::IpAddress::parse("10.0.0.53");

FlowSample flow_sample(std::uint8_t proto, std::uint16_t local_port, const core::IpAddress& remote,
                       std::uint16_t remote_port, std::int64_t first_s) {
  FlowSample s;
  s.key = core::make_flow_key(kLocal, local_port, remote, remote_port, proto).key;
  s.client_is_a = (s.key.addr_a == kLocal && s.key.port_a == local_port);
  s.client_by = proto == decode::ip_proto::tcp ? flow::ClientBy::syn : flow::ClientBy::port;
  s.tcp_state = proto == decode::ip_proto::tcp ? flow::TcpState::established : flow::TcpState::none;
  s.first_seen = core::Timestamp{first_s * kSec};
  s.last_seen = s.first_seen;
  s.dir[0].packets = 1;
  s.dir[0].bytes = 100;
  return s;
}

std::shared_ptr<const dpi::DpiInfo> info(std::string app, std::string state = "") {
  auto d = std::make_shared<dpi::DpiInfo>();
  d->app = std::move(app);
  d->state = std::move(state);
  return d;
}

using test::ScriptedResolver;

OwnerInfo owner(pid_t pid) {
  return OwnerInfo{pid, 1, "exact", "ESTABLISHED", std::nullopt, std::nullopt};
}

TickBuilderConfig config(ProcessResolver* r) {
  TickBuilderConfig c;
  c.is_local = [](const core::IpAddress& a) {
    return a == kLocal || a.v4_host_order() >> 24 == 127;
  };
  c.resolver = r;
  return c;
}

TickInput input_at(std::int64_t t_s, std::vector<FlowSample> flows,
                   std::vector<FlowDnsEvent> dns = {}) {
  TickInput in;
  in.time = core::Timestamp{t_s * kSec};
  in.flows = std::move(flows);
  in.dns = std::move(dns);
  in.interfaces = {InterfaceStatus{"eth0", 0, true, ""}};
  return in;
}

// A transaction of `s` (a UDP flow from kLocal to a resolver), answered with `answers`.
FlowDnsEvent dns_event(const FlowSample& s, std::string query, std::int64_t t_s,
                       std::vector<core::IpAddress> answers = {}, int rcode = 0) {
  FlowDnsEvent fe;
  fe.key = s.key;
  fe.flow_first_seen = s.first_seen;
  dpi::DnsEvent& e = fe.event;
  e.time = core::Timestamp{t_s * kSec};
  e.client = s.client_addr();
  e.client_port = s.client_is_a ? s.key.port_a : s.key.port_b;
  e.server = s.client_is_a ? s.key.addr_b : s.key.addr_a;
  e.server_port = s.client_is_a ? s.key.port_b : s.key.port_a;
  e.query = std::move(query);
  e.qtype = "A";
  e.qtype_code = 1;
  e.rcode = rcode == 0 ? "NOERROR" : "NXDOMAIN";
  e.rcode_code = rcode;
  for (const core::IpAddress& a : answers) e.answers.push_back(dpi::DnsAnswer{1, a, ""});
  e.latency_ms = 2.5;
  return fe;
}

const ConnectionRecord* find(const Snapshot& snap, std::uint16_t local_port) {
  for (const ConnectionRecord& c : snap.connections) {
    if (c.local_port == local_port) return &c;
  }
  return nullptr;
}

TEST(TickBuilderDpi, fields_stay_when_later_samples_carry_none_and_service_names_the_port) {
  TickBuilder b(config(nullptr));
  FlowSample tls = flow_sample(decode::ip_proto::tcp, 40000, kRemote, 443, 0);
  auto d = std::make_shared<dpi::DpiInfo>();
  d->app = "TLS";
  d->sni = "www.example.com";
  d->alpn = "h2,http/1.1";
  d->tls_version = "TLS 1.3";
  d->ja3 = "0123456789abcdef0123456789abcdef";
  d->ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
  tls.dpi = d;
  Snapshot snap = b.tick(input_at(1, {tls}));
  tls.dpi.reset();  // unchanged since the last sample
  tls.last_seen = core::Timestamp{2 * kSec};
  snap = b.tick(input_at(2, {tls}));
  const ConnectionRecord* c = find(snap, 40000);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dpi->app, "TLS");
  EXPECT_EQ(c->dpi->sni, "www.example.com");
  EXPECT_EQ(c->dpi->alpn, "h2,http/1.1");
  EXPECT_EQ(c->dpi->tls_version, "TLS 1.3");
  EXPECT_EQ(c->dpi->ja3, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c->dpi->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(c->state, "ESTABLISHED");  // TLS defines no state of its own
  EXPECT_EQ(c->service, "https");
  EXPECT_TRUE(c->dpi->http_host.empty());
  EXPECT_FALSE(c->dpi->http_status);
}

TEST(TickBuilderDpi, protocol_states_replace_the_transport_state_while_the_connection_is_open) {
  TickBuilder b(config(nullptr));
  FlowSample quic = flow_sample(decode::ip_proto::udp, 40001, kRemote, 443, 0);
  quic.dpi = info("QUIC", "QUIC_CONNECTED");
  FlowSample ssh = flow_sample(decode::ip_proto::tcp, 40002, kRemote, 22, 0);
  auto s = std::make_shared<dpi::DpiInfo>();
  s->app = "SSH";
  s->state = "SSH_ESTABLISHED";
  s->state_heuristic = true;
  s->ssh_client = "SSH-2.0-OpenSSH_9.2p1";
  s->ssh_server = "SSH-2.0-OpenSSH_8.4";
  ssh.dpi = s;
  FlowSample plain = flow_sample(decode::ip_proto::udp, 40003, kRemote, 9999, 0);
  Snapshot snap = b.tick(input_at(1, {quic, ssh, plain}));
  EXPECT_EQ(find(snap, 40001)->state, "QUIC_CONNECTED");
  EXPECT_EQ(find(snap, 40002)->state, "SSH_ESTABLISHED");
  EXPECT_TRUE(find(snap, 40002)->state_heuristic);
  EXPECT_EQ(find(snap, 40002)->dpi->ssh_server, "SSH-2.0-OpenSSH_8.4");
  EXPECT_EQ(find(snap, 40003)->state, "UDP_ACTIVE");
  EXPECT_EQ(find(snap, 40003)->dpi->app, "");

  // The SSH connection closes: TCP tells how it ended.
  ssh.dpi.reset();
  ssh.tcp_state = flow::TcpState::time_wait;
  ssh.last_seen = core::Timestamp{2 * kSec};
  snap = b.tick(input_at(2, {quic, ssh}));
  EXPECT_EQ(find(snap, 40002)->state, "TIME_WAIT");
  EXPECT_FALSE(find(snap, 40002)->state_heuristic);
  EXPECT_EQ(find(snap, 40002)->dpi->app, "SSH");
}

TEST(TickBuilderDpi, dns_event_goes_to_the_process_that_owns_the_client_socket) {
  ScriptedResolver res;
  res.owners[40100] = owner(77);
  TickBuilderConfig cfg = config(&res);
  cfg.keep_history = true;
  TickBuilder b(cfg);
  FlowSample q = flow_sample(decode::ip_proto::udp, 40100, kResolver, 53, 0);
  q.dpi = info("DNS", "DNS_RESPONSE");
  const Snapshot snap =
      b.tick(input_at(1, {q}, {dns_event(q, "www.example.com", 0, {kRemote}, 0)}));
  ASSERT_EQ(snap.dns.size(), 1u);
  const DnsEventRecord& d = snap.dns[0];
  EXPECT_EQ(d.pid, 77);
  EXPECT_EQ(d.process, "proc77");
  EXPECT_EQ(d.server, kResolver);
  EXPECT_EQ(d.query, "www.example.com");
  EXPECT_EQ(d.qtype, "A");
  EXPECT_EQ(d.rcode, "NOERROR");
  EXPECT_EQ(d.rcode_code, 0);
  EXPECT_EQ(d.answers, std::vector<std::string>{"192.0.2.80"});
  EXPECT_EQ(d.latency_ms, 2.5);
  EXPECT_EQ(snap.totals.dns_events, 1u);
  EXPECT_EQ(find(snap, 40100)->state, "DNS_RESPONSE");
  EXPECT_EQ(find(snap, 40100)->service, "domain");
  ASSERT_EQ(snap.processes.size(), 1u);
  ASSERT_EQ(snap.processes[0].dns_history.size(), 1u);
  EXPECT_EQ(snap.processes[0].dns_history[0].query, "www.example.com");

  // The next tick has no new events; the history and the whole run keep this one.
  const Snapshot next = b.tick(input_at(2, {q}));
  EXPECT_TRUE(next.dns.empty());
  ASSERT_EQ(next.processes.size(), 1u);
  EXPECT_EQ(next.processes[0].dns_history.size(), 1u);
  const Snapshot all = b.whole_run();
  ASSERT_EQ(all.dns.size(), 1u);
  EXPECT_EQ(all.dns[0].pid, 77);
  EXPECT_EQ(all.totals.dns_events, 1u);
}

TEST(TickBuilderDpi, queries_from_a_remote_client_to_a_local_server_name_no_process) {
  ScriptedResolver res;
  res.owners[53] = owner(53);  // dnsmasq on this host answers on port 53
  TickBuilder b(config(&res));
  // A remote client asks our server: the flow's local side is the server.
  FlowSample s;
  s.key = core::make_flow_key(kRemote, 33000, kLocal, 53, decode::ip_proto::udp).key;
  s.client_is_a = (s.key.addr_a == kRemote);
  s.dir[0].packets = 1;
  s.dir[0].bytes = 60;
  FlowDnsEvent fe;
  fe.key = s.key;
  fe.flow_first_seen = s.first_seen;
  fe.event.client = kRemote;
  fe.event.client_port = 33000;
  fe.event.server = kLocal;
  fe.event.server_port = 53;
  fe.event.query = "example.net";
  const Snapshot snap = b.tick(input_at(1, {s}, {fe}));
  ASSERT_EQ(snap.dns.size(), 1u);
  EXPECT_FALSE(snap.dns[0].pid);
  EXPECT_TRUE(snap.dns[0].process.empty());
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_EQ(snap.connections[0].pid, 53);  // the connection itself is the server's
}

TEST(TickBuilderDpi, hidden_loopback_query_to_a_stub_resolver_is_attributed_by_lookup) {
  ScriptedResolver res;
  res.owners[41000] = owner(88);
  TickBuilder b(config(&res));  // loopback hidden
  FlowSample s;
  const core::IpAddress lo = *core::IpAddress::parse("127.0.0.1");
  const core::IpAddress stub = *core::IpAddress::parse("127.0.0.53");
  s.key = core::make_flow_key(lo, 41000, stub, 53, decode::ip_proto::udp).key;
  s.client_is_a = (s.key.addr_a == lo);
  s.dir[0].packets = 1;
  FlowDnsEvent fe;
  fe.key = s.key;
  fe.event.client = lo;
  fe.event.client_port = 41000;
  fe.event.server = stub;
  fe.event.server_port = 53;
  fe.event.query = "example.org";
  fe.event.rcode = "NXDOMAIN";
  fe.event.rcode_code = 3;
  const Snapshot snap = b.tick(input_at(1, {s}, {fe}));
  EXPECT_TRUE(snap.connections.empty());
  ASSERT_EQ(snap.dns.size(), 1u);
  EXPECT_EQ(snap.dns[0].pid, 88);
  EXPECT_EQ(snap.dns[0].process, "proc88");
  EXPECT_EQ(snap.dns[0].rcode, "NXDOMAIN");
}

TEST(TickBuilderDpi, dns_history_per_process_and_the_run_list_are_bounded_and_counted) {
  ScriptedResolver res;
  res.owners[40200] = owner(9);
  TickBuilderConfig cfg = config(&res);
  cfg.keep_history = true;
  cfg.dns_history = 3;
  cfg.max_dns_events = 4;
  TickBuilder b(cfg);
  FlowSample q = flow_sample(decode::ip_proto::udp, 40200, kResolver, 53, 0);
  std::vector<FlowDnsEvent> events;
  for (int i = 0; i < 6; ++i)
    events.push_back(dns_event(q, "n" + std::to_string(i) + ".example", 0));
  TickInput in = input_at(1, {q}, std::move(events));
  in.dns_dropped = 2;  // lost on the packet path
  const Snapshot snap = b.tick(in);
  EXPECT_EQ(snap.dns.size(), 6u);  // a tick carries all it was given
  EXPECT_EQ(snap.totals.dns_dropped, 2u);
  ASSERT_EQ(snap.processes.size(), 1u);
  const auto& h = snap.processes[0].dns_history;
  ASSERT_EQ(h.size(), 3u);  // the latest three, oldest first
  EXPECT_EQ(h[0].query, "n3.example");
  EXPECT_EQ(h[2].query, "n5.example");
  const Snapshot all = b.whole_run();
  ASSERT_EQ(all.dns.size(), 4u);  // the first four of the run
  EXPECT_EQ(all.dns[0].query, "n0.example");
  EXPECT_EQ(all.totals.dns_events, 6u);
  EXPECT_EQ(all.totals.dns_dropped, 2u + 2u);  // queue + run list
}

TEST(TickBuilderDpi, dns_answers_name_remote_hosts_ahead_of_reverse_dns) {
  ScriptedResolver res;
  TickBuilderConfig cfg = config(&res);
  cfg.host_name = [](const core::IpAddress&) -> std::optional<std::string> {
    return std::string("ptr.example.net");
  };
  TickBuilder b(cfg);
  const core::IpAddress other = *core::IpAddress::parse("192.0.2.99");
  FlowSample web = flow_sample(decode::ip_proto::tcp, 40300, kRemote, 443, 0);
  FlowSample web2 = flow_sample(decode::ip_proto::tcp, 40301, other, 443, 0);
  Snapshot snap = b.tick(input_at(1, {web, web2}));
  EXPECT_EQ(find(snap, 40300)->remote_host, "ptr.example.net");

  // An answer for kRemote (through a CNAME) arrives: the asked name wins from now on.
  FlowSample q = flow_sample(decode::ip_proto::udp, 40302, kResolver, 53, 1);
  FlowDnsEvent fe = dns_event(q, "www.example.com", 1, {kRemote});
  fe.event.answers.insert(fe.event.answers.begin(), dpi::DnsAnswer{5, {}, "cdn.example.net"});
  web.last_seen = web2.last_seen = core::Timestamp{2 * kSec};
  snap = b.tick(input_at(2, {web, web2, q}, {fe}));
  EXPECT_EQ(find(snap, 40300)->remote_host, "www.example.com");
  EXPECT_EQ(find(snap, 40301)->remote_host, "ptr.example.net");

  // A failed lookup names nothing.
  FlowDnsEvent nx = dns_event(q, "bad.example.com", 2, {other}, 3);
  snap = b.tick(input_at(3, {web, web2, q}, {nx}));
  EXPECT_EQ(find(snap, 40301)->remote_host, "ptr.example.net");
}

TEST(TickBuilderDpi, without_host_names_dns_answers_name_nothing) {
  TickBuilder b(config(nullptr));  // -n: no host_name function
  FlowSample q = flow_sample(decode::ip_proto::udp, 40400, kResolver, 53, 0);
  FlowSample web = flow_sample(decode::ip_proto::tcp, 40401, kRemote, 443, 0);
  const Snapshot snap =
      b.tick(input_at(1, {q, web}, {dns_event(q, "www.example.com", 0, {kRemote})}));
  EXPECT_EQ(find(snap, 40401)->remote_host, "");
  ASSERT_EQ(snap.dns.size(), 1u);
  EXPECT_FALSE(snap.dns[0].pid);  // replay: no processes
}

TEST(DnsNameMap, newest_answer_wins_and_the_least_recent_address_is_forgotten) {
  DnsNameMap names(2);
  dpi::DnsEvent e;
  e.rcode = "NOERROR";
  e.rcode_code = 0;
  const auto a = [](const char* s) { return *core::IpAddress::parse(s); };
  const auto answer = [&](const char* query, const char* addr) {
    e.query = query;
    e.answers = {dpi::DnsAnswer{1, a(addr), ""}};
    names.learn(e);
  };
  answer("one.example", "192.0.2.1");
  answer("two.example", "192.0.2.2");
  answer("uno.example", "192.0.2.1");    // renamed, and now the most recent
  answer("three.example", "192.0.2.3");  // pushes out 192.0.2.2
  EXPECT_EQ(names.size(), 2u);
  ASSERT_NE(names.find(a("192.0.2.1")), nullptr);
  EXPECT_EQ(*names.find(a("192.0.2.1")), "uno.example");
  EXPECT_EQ(names.find(a("192.0.2.2")), nullptr);
  EXPECT_EQ(*names.find(a("192.0.2.3")), "three.example");
}

}  // namespace
}  // namespace netscope::monitor
