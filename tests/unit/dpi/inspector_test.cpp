// The Inspector end to end on hand-built packets: recognition on any port, reassembly
// (in order, out of order, capped), the DNS transaction matcher, SSH and QUIC states.

#include "dpi/inspector.hpp"

#include <gtest/gtest.h>

#include "dpi/quic_crypto.hpp"
#include "dpi_test_util.hpp"
#include "quic_vectors.hpp"

namespace netscope::dpi {
namespace {

using test::ByteVec;
using test::ClientHelloWriter;
using test::Conn;
using test::hex;

constexpr std::uint8_t kSyn = decode::tcp_flag::syn;
constexpr std::uint8_t kSynAck = decode::tcp_flag::syn | decode::tcp_flag::ack;

struct Harness {
  explicit Harness(InspectorConfig cfg = {}) : inspector(cfg) {}
  Inspector inspector;
  FlowState flow;
  InspectResult out;
  std::vector<DnsEvent> events;

  void feed(const decode::PacketView& pkt, int dir) {
    out.clear();
    inspector.inspect(flow, pkt, dir, out);
    events.insert(events.end(), out.dns.begin(), out.dns.end());
  }
  DpiInfo info() const {
    DpiInfo i;
    Inspector::describe(flow, i);
    return i;
  }
  void handshake(Conn& c, std::uint32_t client_isn, std::uint32_t server_isn) {
    feed(c.tcp(true, {}, client_isn, kSyn), 0);
    feed(c.tcp(false, {}, server_isn, kSynAck), 1);
  }
};

ByteVec slice(const ByteVec& v, std::size_t from, std::size_t to) {
  return ByteVec(v.begin() + static_cast<std::ptrdiff_t>(from),
                 v.begin() + static_cast<std::ptrdiff_t>(std::min(to, v.size())));
}

TEST(FlowState, is_small_and_empty_until_something_is_recognised) {
  EXPECT_EQ(sizeof(FlowState), 24u);
  FlowState s;
  EXPECT_TRUE(s.wants_packets());
  EXPECT_FALSE(s.detected());
  EXPECT_EQ(s.session, nullptr);
}

TEST(InspectorTls, client_and_server_hello_on_an_unusual_port) {
  Harness h;
  Conn c;
  c.server_port = 5555;
  h.handshake(c, 1000, 9000);
  const ByteVec hello = ClientHelloWriter{}.records();
  h.feed(c.tcp(true, hello, 1001), 0);
  EXPECT_TRUE(h.out.changed);
  EXPECT_EQ(h.flow.proto, Protocol::tls);
  h.feed(c.tcp(false, test::server_hello_record(0x1301, true), 9001), 1);
  const DpiInfo i = h.info();
  EXPECT_EQ(i.app, "TLS");
  EXPECT_EQ(i.sni, "example.com");
  EXPECT_EQ(i.alpn, "h2,http/1.1");
  EXPECT_EQ(i.tls_offered, "TLS 1.3");
  EXPECT_EQ(i.tls_version, "TLS 1.3");
  EXPECT_EQ(i.tls_cipher, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(i.ja3.size(), 32u);
  EXPECT_EQ(i.ja4.substr(0, 10), "t13d0306h2");
  EXPECT_FALSE(h.flow.wants_packets());  // both hellos known: inspection stops
  EXPECT_EQ(h.inspector.buffered_bytes(), 0u);
}

// InspectorConfig::fingerprints off (analyze's human report): the hello's other fields
// are read as ever, JA3 and JA4 are not computed.
TEST(InspectorTls, without_fingerprints_the_hello_gives_everything_but_ja3_and_ja4) {
  InspectorConfig cfg;
  cfg.fingerprints = false;
  Harness h(cfg);
  Conn c;
  h.handshake(c, 1000, 9000);
  h.feed(c.tcp(true, ClientHelloWriter{}.records(), 1001), 0);
  const DpiInfo i = h.info();
  EXPECT_EQ(i.sni, "example.com");
  EXPECT_EQ(i.alpn, "h2,http/1.1");
  EXPECT_EQ(i.tls_offered, "TLS 1.3");
  EXPECT_EQ(i.ja3, "");
  EXPECT_EQ(i.ja4, "");
}

TEST(InspectorTls, a_client_hello_over_three_segments_is_reassembled) {
  Harness h;
  Conn c;
  h.handshake(c, 0, 5000);
  ClientHelloWriter w;
  w.padding = 2800;  // a post-quantum-sized ClientHello: ~3 KB
  const ByteVec hello = w.records();
  ASSERT_GT(hello.size(), 2 * 1448u);
  for (std::size_t off = 0; off < hello.size(); off += 1448) {
    EXPECT_TRUE(h.info().sni.empty());
    h.feed(c.tcp(true, slice(hello, off, off + 1448), static_cast<std::uint32_t>(1 + off)), 0);
  }
  EXPECT_EQ(h.info().sni, "example.com");
}

TEST(InspectorTls, out_of_order_segments_after_the_syn_are_held_until_the_first_arrives) {
  Harness h;
  Conn c;
  h.handshake(c, 0, 5000);
  ClientHelloWriter w;
  w.padding = 2800;
  const ByteVec hello = w.records();
  h.feed(c.tcp(true, slice(hello, 2896, hello.size()), 2897), 0);  // third
  h.feed(c.tcp(true, slice(hello, 1448, 2896), 1449), 0);          // second
  EXPECT_EQ(h.flow.proto, Protocol::unknown);
  EXPECT_GT(h.inspector.buffered_bytes(), 0u);
  h.feed(c.tcp(true, slice(hello, 0, 1448), 1), 0);  // first
  EXPECT_EQ(h.flow.proto, Protocol::tls);
  EXPECT_EQ(h.info().sni, "example.com");
  EXPECT_EQ(h.inspector.counters().out_of_order_starts, 1u);
}

TEST(InspectorTls, without_a_syn_a_reordered_start_needs_the_retransmission) {
  Harness h;
  Conn c;
  ClientHelloWriter w;
  w.padding = 1000;
  const ByteVec hello = w.records();
  const ByteVec second = slice(hello, 1000, hello.size());
  h.feed(c.tcp(true, second, 51000), 0);                 // no SYN: nothing says this is late
  h.feed(c.tcp(true, slice(hello, 0, 1000), 50000), 0);  // the start: recognised now
  EXPECT_EQ(h.flow.proto, Protocol::tls);
  EXPECT_TRUE(h.info().sni.empty());
  h.feed(c.tcp(true, second, 51000), 0);  // the sender retransmits what was never ACKed
  EXPECT_EQ(h.info().sni, "example.com");
}

TEST(InspectorTls, a_client_hello_beyond_the_stream_cap_is_counted_not_buffered) {
  InspectorConfig cfg;
  cfg.stream_cap = 1024;
  Harness h(cfg);
  Conn c;
  h.handshake(c, 0, 0);
  ClientHelloWriter w;
  w.padding = 3000;
  const ByteVec hello = w.records();
  for (std::size_t off = 0; off < hello.size(); off += 1000) {
    h.feed(c.tcp(true, slice(hello, off, off + 1000), static_cast<std::uint32_t>(1 + off)), 0);
  }
  EXPECT_TRUE(h.info().sni.empty());
  EXPECT_EQ(h.inspector.counters().truncated_streams, 1u);
  EXPECT_GT(h.inspector.counters().truncated_bytes, 0u);
  EXPECT_LE(h.inspector.buffered_bytes(), 1024u);
}

TEST(InspectorTls, the_total_cap_refuses_buffers_beyond_it) {
  InspectorConfig cfg;
  cfg.total_cap = 1500;
  Inspector inspector(cfg);
  ClientHelloWriter w;
  w.padding = 2000;
  const ByteVec hello = w.records();
  std::vector<FlowState> flows(3);
  InspectResult out;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    Conn c;
    c.client_port = static_cast<std::uint16_t>(50000 + i);
    inspector.inspect(flows[i], c.tcp(true, {}, 0, kSyn), 0, out);
    inspector.inspect(flows[i], c.tcp(true, slice(hello, 0, 1000), 1), 0, out);
  }
  EXPECT_LE(inspector.buffered_bytes(), 1500u);
  EXPECT_GT(inspector.counters().budget_refusals, 0u);
  flows.clear();  // buffers go back to the budget with their flows
  EXPECT_EQ(inspector.buffered_bytes(), 0u);
}

TEST(InspectorTls, starttls_after_a_plaintext_exchange) {
  Harness h;
  Conn c;
  c.server_port = 6667;
  h.handshake(c, 0, 0);
  const ByteVec cmd = test::bytes("STARTTLS\r\n");
  const ByteVec reply = test::bytes(":server 670 nick :STARTTLS successful\r\n");
  h.feed(c.tcp(true, cmd, 1), 0);
  h.feed(c.tcp(false, reply, 1), 1);
  EXPECT_EQ(h.flow.proto, Protocol::unknown);
  h.feed(c.tcp(true, ClientHelloWriter{}.records(), 1 + static_cast<std::uint32_t>(cmd.size())), 0);
  EXPECT_EQ(h.info().sni, "example.com");
}

TEST(InspectorHttp, request_and_status_on_port_443_by_content) {
  Harness h;
  Conn c;
  h.handshake(c, 0, 0);
  h.feed(
      c.tcp(true,
            test::bytes("GET /a?b=c HTTP/1.1\r\nHost: example.org\r\nUser-Agent: t/1\r\n\r\n"), 1),
      0);
  h.feed(c.tcp(false, test::bytes("HTTP/1.1 301 Moved\r\nLocation: /\r\n\r\n"), 1), 1);
  const DpiInfo i = h.info();
  EXPECT_EQ(i.app, "HTTP");
  EXPECT_EQ(i.http_method, "GET");
  EXPECT_EQ(i.http_path, "/a?b=c");
  EXPECT_EQ(i.http_host, "example.org");
  EXPECT_EQ(i.http_user_agent, "t/1");
  EXPECT_EQ(i.http_status, 301);
  EXPECT_FALSE(h.flow.wants_packets());
}

TEST(InspectorHttp, a_header_block_split_over_segments) {
  Harness h;
  Conn c;
  c.server_port = 80;
  h.handshake(c, 0, 0);
  const ByteVec a = test::bytes("POST /upload HTTP/1.1\r\nHo");
  const ByteVec b = test::bytes("st: h.example\r\nUser-Agent: x\x01y\r\n\r\n");
  h.feed(c.tcp(true, a, 1), 0);
  EXPECT_TRUE(h.info().http_host.empty());
  h.feed(c.tcp(true, b, 1 + static_cast<std::uint32_t>(a.size())), 0);
  EXPECT_EQ(h.info().http_host, "h.example");
  EXPECT_EQ(h.info().http_user_agent, "x?y");  // control bytes never reach the outputs
}

// SSH client/server exchange up to NEWKEYS, then encrypted segments of the given sizes.
TEST(InspectorSsh, states_through_key_exchange_then_the_labelled_heuristic) {
  Harness h;
  Conn c;
  c.server_port = 80;  // not 22: the banner decides
  h.handshake(c, 0, 0);
  std::uint32_t cs = 1, ss = 1;
  auto send = [&](bool client, const ByteVec& data) {
    h.feed(c.tcp(client, data, client ? cs : ss), client ? 0 : 1);
    (client ? cs : ss) += static_cast<std::uint32_t>(data.size());
  };
  auto packet = [](std::uint8_t msg, std::size_t payload) {
    ByteVec p;
    const std::size_t len = 1 + payload + 4;
    test::put16(p, 0);
    test::put16(p, static_cast<std::uint16_t>(len));
    p.push_back(4);
    p.push_back(msg);
    p.insert(p.end(), payload - 1 + 4, 0);
    return p;
  };
  send(false, test::bytes("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
  EXPECT_EQ(h.info().state, "SSH_BANNER");
  send(true, test::bytes("SSH-2.0-OpenSSH_9.6\r\n"));
  const ByteVec kexinit = packet(20, 1500);
  send(true, slice(kexinit, 0, 1000));  // a KEXINIT over two segments
  EXPECT_EQ(h.info().state, "SSH_KEYEXCHANGE");
  send(true, slice(kexinit, 1000, kexinit.size()));
  send(false, packet(20, 1000));
  send(true, packet(30, 40));
  ByteVec reply = packet(31, 500);
  test::append(reply, packet(21, 1));  // ECDH reply and NEWKEYS in one segment
  send(false, reply);
  send(true, packet(21, 1));
  DpiInfo i = h.info();
  EXPECT_EQ(i.ssh_client, "SSH-2.0-OpenSSH_9.6");
  EXPECT_EQ(i.ssh_server, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
  EXPECT_EQ(i.state, "SSH_AUTHENTICATION");
  EXPECT_TRUE(i.state_heuristic);
  // Encrypted: service request/accept (44), userauth failure (52 > 44), an info request of
  // the same size (44), success (28 < 44).
  send(true, ByteVec(44, 0xaa));
  send(false, ByteVec(44, 0xbb));
  send(true, ByteVec(60, 0xaa));
  send(false, ByteVec(52, 0xbb));
  send(true, ByteVec(80, 0xaa));
  send(false, ByteVec(44, 0xbb));  // as large as SERVICE_ACCEPT: not a success
  EXPECT_EQ(h.info().state, "SSH_AUTHENTICATION");
  send(true, ByteVec(600, 0xaa));
  send(false, ByteVec(28, 0xbb));
  EXPECT_EQ(h.info().state, "SSH_ESTABLISHED");
  EXPECT_FALSE(h.flow.wants_packets());
}

TEST(InspectorSsh, retransmitted_encrypted_segments_are_not_counted) {
  Harness h;
  Conn c;
  c.server_port = 22;
  h.handshake(c, 0, 0);
  std::uint32_t cs = 1, ss = 1;
  auto send = [&](bool client, const ByteVec& data) {
    h.feed(c.tcp(client, data, client ? cs : ss), client ? 0 : 1);
    (client ? cs : ss) += static_cast<std::uint32_t>(data.size());
  };
  const ByteVec newkeys = hex("0000000c 0a 15 00000000000000000000");
  send(false, test::bytes("SSH-2.0-A\r\n"));
  send(true, test::bytes("SSH-2.0-B\r\n"));
  send(false, newkeys);
  send(true, newkeys);
  ASSERT_EQ(h.info().state, "SSH_AUTHENTICATION");
  send(false, ByteVec(44, 1));
  // The same 44 bytes again (a retransmission), then a later, smaller segment is needed.
  h.feed(c.tcp(false, ByteVec(44, 1), ss - 44), 1);
  EXPECT_EQ(h.info().state, "SSH_AUTHENTICATION");
  h.feed(c.tcp(false, ByteVec(20, 1), ss - 20), 1);  // overlaps old bytes only
  EXPECT_EQ(h.info().state, "SSH_AUTHENTICATION");
}

ByteVec dns_query(std::uint16_t id, std::string_view label, std::uint16_t qtype) {
  ByteVec m;
  test::put16(m, id);
  test::append(m, hex("0100 0001 0000 0000 0000"));
  m.push_back(static_cast<std::uint8_t>(label.size()));
  m.insert(m.end(), label.begin(), label.end());
  test::append(m, hex("03636f6d 00"));
  test::put16(m, qtype);
  test::put16(m, 1);
  return m;
}

ByteVec dns_answer(std::uint16_t id, std::string_view label, std::uint8_t rcode) {
  ByteVec m = dns_query(id, label, 1);
  m[2] = 0x81;
  m[3] = static_cast<std::uint8_t>(0x80 | rcode);
  if (rcode == 0) {
    m[7] = 1;  // ancount
    test::append(m, hex("c00c 0001 0001 0000003c 0004 c0000201"));
  }
  return m;
}

TEST(InspectorDns, query_and_response_make_an_event_with_latency) {
  Harness h;
  Conn c;
  c.server_port = 53;
  h.feed(c.udp(true, dns_query(0x1234, "example", 1)), 0);
  EXPECT_EQ(h.info().state, "DNS_QUERY");
  EXPECT_TRUE(h.events.empty());
  c.t_ns += 12'500'000;  // 12.5 ms
  h.feed(c.udp(false, dns_answer(0x1234, "example", 0)), 1);
  ASSERT_EQ(h.events.size(), 1u);
  const DnsEvent& e = h.events[0];
  EXPECT_EQ(e.query, "example.com");
  EXPECT_EQ(e.qtype, "A");
  EXPECT_EQ(e.rcode, "NOERROR");
  EXPECT_EQ(e.rcode_code, 0);
  ASSERT_EQ(e.answers.size(), 1u);
  EXPECT_EQ(e.answers[0].text(), "192.0.2.1");
  EXPECT_EQ(e.answers[0].address, core::IpAddress::from_v4(0xc0000201));
  ASSERT_TRUE(e.latency_ms);
  EXPECT_DOUBLE_EQ(*e.latency_ms, 12.5);
  EXPECT_EQ(e.server, c.server);
  EXPECT_EQ(e.client, c.client);
  EXPECT_EQ(h.info().state, "DNS_RESPONSE");
  EXPECT_TRUE(h.flow.wants_packets());  // DNS keeps going: a flow carries many lookups
}

// InspectorConfig::dns_answers off (analyze): the same event, without its answers.
TEST(InspectorDns, without_answers_the_event_has_everything_else) {
  InspectorConfig cfg;
  cfg.dns_answers = false;
  Harness h(cfg);
  Conn c;
  c.server_port = 53;
  h.feed(c.udp(true, dns_query(0x1234, "example", 1)), 0);
  c.t_ns += 12'500'000;
  h.feed(c.udp(false, dns_answer(0x1234, "example", 0)), 1);
  ASSERT_EQ(h.events.size(), 1u);
  const DnsEvent& e = h.events[0];
  EXPECT_EQ(e.query, "example.com");
  EXPECT_EQ(e.rcode, "NOERROR");
  EXPECT_TRUE(e.answers.empty());
  ASSERT_TRUE(e.latency_ms);
  EXPECT_DOUBLE_EQ(*e.latency_ms, 12.5);
  EXPECT_EQ(h.info().state, "DNS_RESPONSE");
  // A flow whose first datagram is the response (the recogniser's parse is the event's).
  Harness r(cfg);
  Conn d;
  d.server_port = 53;
  r.feed(d.udp(false, dns_answer(0x4321, "example", 0)), 1);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].query, "example.com");
  EXPECT_TRUE(r.events[0].answers.empty());
}

TEST(InspectorDns, retransmitted_queries_keep_the_first_time_and_nxdomain_is_named) {
  Harness h;
  Conn c;
  c.server_port = 53;
  h.feed(c.udp(true, dns_query(7, "nope", 28)), 0);
  c.t_ns += 1'000'000'000;
  h.feed(c.udp(true, dns_query(7, "nope", 28)), 0);  // the resolver's retry
  c.t_ns += 5'000'000;
  ByteVec nx = dns_answer(7, "nope", 3);
  nx[nx.size() - 3] = 28;  // qtype AAAA, as asked
  h.feed(c.udp(false, nx), 1);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].rcode, "NXDOMAIN");
  EXPECT_EQ(h.events[0].qtype, "AAAA");
  EXPECT_DOUBLE_EQ(*h.events[0].latency_ms, 1005.0);
}

TEST(InspectorDns, unanswered_queries_are_reported_by_timeout_overflow_and_finish) {
  InspectorConfig cfg;
  cfg.dns_max_pending = 2;
  cfg.dns_query_timeout_ns = 5'000'000'000;
  Harness h(cfg);
  Conn c;
  c.server_port = 53;
  h.feed(c.udp(true, dns_query(1, "a", 1)), 0);
  h.feed(c.udp(true, dns_query(2, "b", 1)), 0);
  h.feed(c.udp(true, dns_query(3, "c", 1)), 0);  // pushes out query 1
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].query, "a.com");
  EXPECT_FALSE(h.events[0].rcode);
  EXPECT_FALSE(h.events[0].latency_ms);
  c.t_ns += 6'000'000'000;
  h.feed(c.udp(true, dns_query(4, "d", 1)), 0);  // 2 and 3 timed out
  EXPECT_EQ(h.events.size(), 3u);
  h.out.clear();
  h.inspector.finish(h.flow, h.out);
  ASSERT_EQ(h.out.dns.size(), 1u);
  EXPECT_EQ(h.out.dns[0].query, "d.com");
  EXPECT_EQ(h.inspector.counters().dns_unanswered, 4u);
  EXPECT_EQ(h.inspector.counters().dns_pending_overflow, 1u);
  EXPECT_EQ(h.info().app, "DNS");  // still describable after finish
}

TEST(InspectorDns, a_response_without_its_query_is_reported_without_latency) {
  Harness h;
  Conn c;
  c.server_port = 53;
  h.feed(c.udp(false, dns_answer(9, "late", 2)), 1);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].rcode, "SERVFAIL");
  EXPECT_FALSE(h.events[0].latency_ms);
  EXPECT_EQ(h.events[0].server, c.server);
}

TEST(InspectorDns, tcp_messages_split_across_segments) {
  Harness h;
  Conn c;
  c.server_port = 53;
  h.handshake(c, 0, 0);
  ByteVec q;
  const ByteVec qm = dns_query(0x55, "tcp", 1);
  test::put16(q, static_cast<std::uint16_t>(qm.size()));
  test::append(q, qm);
  h.feed(c.tcp(true, q, 1), 0);
  ByteVec r;
  const ByteVec rm = dns_answer(0x55, "tcp", 0);
  test::put16(r, static_cast<std::uint16_t>(rm.size()));
  test::append(r, rm);
  h.feed(c.tcp(false, slice(r, 0, 10), 1), 1);
  EXPECT_TRUE(h.events.empty());
  h.feed(c.tcp(false, slice(r, 10, r.size()), 11), 1);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_TRUE(h.events[0].tcp);
  ASSERT_EQ(h.events[0].answers.size(), 1u);
  EXPECT_EQ(h.events[0].answers[0].text(), "192.0.2.1");
}

TEST(InspectorDns, off_port_53_only_a_strictly_valid_message_counts) {
  Harness h;
  Conn c;
  c.server_port = 5300;
  h.feed(c.udp(true, dns_query(1, "x", 1)), 0);
  EXPECT_EQ(h.flow.proto, Protocol::dns);
  Harness g;
  ByteVec junk = dns_query(1, "x", 1);
  junk.push_back(0);  // trailing garbage
  g.feed(c.udp(true, junk), 0);
  EXPECT_EQ(g.flow.proto, Protocol::unknown);
}

TEST(InspectorQuic, rfc_initials_on_any_port_make_a_quic_flow) {
  Harness h;
  Conn c;
  c.server_port = 4433;
  const ByteVec client = hex(test::kRfc9001ClientInitial);
  h.feed(c.udp(true, client), 0);
  DpiInfo i = h.info();
  EXPECT_EQ(i.app, "QUIC");
  EXPECT_EQ(i.quic_version, "v1");
  EXPECT_EQ(i.sni, "example.com");
  EXPECT_EQ(i.alpn, "alpn");
  EXPECT_EQ(i.ja4.substr(0, 4), "q13d");
  EXPECT_EQ(i.state, "QUIC_INITIAL");
  h.feed(c.udp(false, hex(test::kRfc9001ServerInitial)), 1);
  i = h.info();
  EXPECT_EQ(i.tls_version, "TLS 1.3");
  EXPECT_EQ(i.tls_cipher, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(i.state, "QUIC_HANDSHAKE");
  h.feed(c.udp(true, hex("41 f067a5502a4262b5 0102030405060708090a0b0c0d0e0f10111213")), 0);
  EXPECT_EQ(h.info().state, "QUIC_CONNECTED");
  EXPECT_FALSE(h.flow.wants_packets());
}

TEST(InspectorQuic, version2_initial) {
  Harness h;
  Conn c;
  h.feed(c.udp(true, hex(test::kRfc9369ClientInitial)), 0);
  EXPECT_EQ(h.info().quic_version, "v2");
  EXPECT_EQ(h.info().sni, "example.com");
}

TEST(InspectorQuic, a_long_header_that_does_not_decrypt_is_not_quic) {
  Harness h;
  Conn c;
  ByteVec fake = hex(test::kRfc9001ClientInitial);
  fake[fake.size() - 1] ^= 0xff;  // the tag no longer verifies
  for (int i = 0; i < 10; ++i) h.feed(c.udp(true, fake), 0);
  EXPECT_EQ(h.flow.proto, Protocol::unknown);
  EXPECT_EQ(h.flow.session, nullptr);
  EXPECT_FALSE(h.flow.wants_packets());
  EXPECT_GT(h.inspector.counters().quic_decrypt_failures, 0u);
  // Short-header-looking datagrams never make a flow QUIC on their own.
  Harness g;
  for (int i = 0; i < 10; ++i)
    g.feed(c.udp(true, hex("4f 0102030405060708 aabbccddeeff00112233")), 0);
  EXPECT_EQ(g.flow.proto, Protocol::unknown);
}

// A protected Initial (RFC 9001 §5) carrying `frames`, from the client or the server of
// the RFC's connection (DCID 8394c8f03e515708).
ByteVec protected_initial(bool from_client, const ByteVec& frames, std::uint32_t pn) {
  quic::InitialKeys keys;
  EXPECT_TRUE(quic::derive_initial_keys(quic::kVersion1, hex(test::kRfcDcid), keys));
  const quic::PacketKeys& k = from_client ? keys.client : keys.server;
  ByteVec header = hex("c3 00000001");
  if (from_client) {
    test::append(header, hex("08 8394c8f03e515708 00 00"));
  } else {
    test::append(header, hex("00 08 f067a5502a4262b5 00"));
  }
  test::put16(header, static_cast<std::uint16_t>(0x4000 | (4 + frames.size() + 16)));
  const std::size_t pn_offset = header.size();
  test::put16(header, static_cast<std::uint16_t>(pn >> 16));
  test::put16(header, static_cast<std::uint16_t>(pn));
  ByteVec packet = header;
  EXPECT_TRUE(quic::aead_seal(k, pn, header, frames, packet));
  std::array<std::uint8_t, 5> mask{};
  EXPECT_TRUE(quic::header_protection_mask(k.hp, Bytes(packet).subspan(pn_offset + 4, 16), mask));
  packet[0] ^= mask[0] & 0x0f;
  for (int i = 0; i < 4; ++i) packet[pn_offset + i] ^= mask[1 + i];
  return packet;
}

TEST(InspectorQuic, a_candidate_that_never_shows_a_decryptable_initial_is_given_up) {
  Harness h;
  Conn c;
  ByteVec client = hex(test::kRfc9001ClientInitial);
  client.resize(300);  // cut by a snaplen: the header is there, the tag is not
  h.feed(c.packet(true, decode::ip_proto::udp, client), 0);
  EXPECT_NE(h.flow.session, nullptr);  // a candidate
  const ByteVec handshake = hex("e0 00000001 08 8394c8f03e515708 00 05 0102030405");
  for (int i = 0; i < 20; ++i) h.feed(c.udp(false, handshake), 1);
  EXPECT_EQ(h.flow.proto, Protocol::unknown);
  EXPECT_EQ(h.flow.session, nullptr);
  EXPECT_NE(h.flow.flags & FlowState::kDone, 0);  // given up (nDPI may still want packets)
}

TEST(InspectorQuic, connection_close_in_initials_drains_then_closes) {
  Harness h;
  Conn c;
  h.feed(c.udp(true, hex(test::kRfc9001ClientInitial)), 0);
  ASSERT_EQ(h.info().state, "QUIC_INITIAL");
  ByteVec close = hex("1c 0a 06 00");  // CONNECTION_CLOSE(PROTOCOL_VIOLATION)
  close.resize(40, 0);                 // PADDING
  ByteVec tampered = protected_initial(false, close, 1);
  tampered.back() ^= 1;
  h.feed(c.udp(false, tampered), 1);
  EXPECT_EQ(h.info().state, "QUIC_INITIAL");  // only an authenticated close counts
  h.feed(c.udp(false, protected_initial(false, close, 1)), 1);
  EXPECT_EQ(h.info().state, "QUIC_DRAINING");
  h.feed(c.udp(true, protected_initial(true, close, 3)), 0);
  EXPECT_EQ(h.info().state, "QUIC_CLOSED");
}

TEST(InspectorQuic, crypto_frames_over_several_initials_out_of_order) {
  const ByteVec crypto = hex(test::kRfcClientCrypto);  // CRYPTO frame: 06 00 40f1 + 241 bytes
  const ByteVec hello(crypto.begin() + 4, crypto.end());
  auto frame = [&](std::size_t from, std::size_t to) {
    ByteVec f{0x06};
    test::put16(f, static_cast<std::uint16_t>(0x4000 | from));
    test::put16(f, static_cast<std::uint16_t>(0x4000 | (to - from)));
    f.insert(f.end(), hello.begin() + static_cast<std::ptrdiff_t>(from),
             hello.begin() + static_cast<std::ptrdiff_t>(to));
    f.resize(f.size() + 20, 0);
    return f;
  };
  Harness h;
  Conn c;
  h.feed(c.udp(true, protected_initial(true, frame(100, hello.size()), 0)), 0);
  EXPECT_EQ(h.info().app, "QUIC");
  EXPECT_TRUE(h.info().sni.empty());
  h.feed(c.udp(true, protected_initial(true, frame(0, 100), 1)), 0);
  EXPECT_EQ(h.info().sni, "example.com");
}

TEST(InspectorOthers, ntp_needs_its_port_dhcp_does_not) {
  ByteVec ntp(48, 0);
  ntp[0] = 0x23;
  Harness h;
  Conn c;
  c.server_port = 123;
  h.feed(c.udp(true, ntp), 0);
  EXPECT_EQ(h.info().app, "NTP");
  EXPECT_FALSE(h.flow.wants_packets());
  EXPECT_EQ(h.flow.session, nullptr);  // named without a heap object
  Harness g;
  c.server_port = 5000;
  g.feed(c.udp(true, ntp), 0);
  EXPECT_EQ(g.flow.proto, Protocol::unknown);
}

TEST(InspectorOthers, unknown_tcp_gives_up_after_the_probe_budget) {
  InspectorConfig cfg;
  cfg.max_probe_packets = 3;
  Harness h(cfg);
  Conn c;
  c.server_port = 7777;
  std::uint32_t seq = 1;
  for (int i = 0; i < 3; ++i) {
    const ByteVec junk = test::bytes("binary junk that is no protocol");
    h.feed(c.tcp(true, junk, seq), 0);
    seq += static_cast<std::uint32_t>(junk.size());
  }
  EXPECT_NE(h.flow.flags & FlowState::kDone, 0);  // given up (nDPI may still want packets)
  EXPECT_EQ(h.flow.proto, Protocol::unknown);
  EXPECT_EQ(h.flow.session, nullptr);
}

TEST(InspectorOthers, packets_without_ports_are_ignored) {
  Harness h;
  Conn c;
  decode::PacketView icmp = c.udp(true, test::bytes("x"));
  icmp.ip_proto = decode::ip_proto::icmp;
  h.feed(icmp, 0);
  EXPECT_EQ(h.flow.probes, 0);
}

}  // namespace
}  // namespace netscope::dpi
