// Issue 5, "Performance": inspection reads only the first packets of a flow and stops
// once its fields are known; DNS, which carries a series of messages, is parsed message
// by message up to a per-flow cap. These tests pin each stopping rule and cap, and check
// that the buffers reused across flows (ClientHello, DNS message, probe scratch) never
// carry one flow's fields into another.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <utility>

#include "dpi/dns.hpp"
#include "dpi/inspector.hpp"
#include "dpi/tls.hpp"
#include "dpi/tls_fingerprint.hpp"
#include "dpi_test_util.hpp"

namespace netscope::dpi {
namespace {

using test::ByteVec;
using test::ClientHelloWriter;
using test::Conn;
using test::hex;

struct Flow {
  explicit Flow(Inspector& i) : inspector(i) {}
  Inspector& inspector;
  FlowState state;
  InspectResult out;
  std::size_t events = 0;

  void feed(const decode::PacketView& pkt, int dir) {
    out.clear();
    inspector.inspect(state, pkt, dir, out);
    events += out.dns.size();
  }
  DpiInfo info() const {
    DpiInfo i;
    Inspector::describe(state, i);
    return i;
  }
};

ByteVec dns_query(std::uint16_t id, std::string_view label) {
  ByteVec m;
  test::put16(m, id);
  test::append(m, hex("0100 0001 0000 0000 0000"));
  m.push_back(static_cast<std::uint8_t>(label.size()));
  m.insert(m.end(), label.begin(), label.end());
  test::append(m, hex("03636f6d 00 0001 0001"));
  return m;
}

ByteVec dns_answer(std::uint16_t id, std::string_view label) {
  ByteVec m = dns_query(id, label);
  m[2] = 0x81;
  m[3] = 0x80;
  m[7] = 1;  // ancount
  test::append(m, hex("c00c 0001 0001 0000003c 0004 c0000201"));
  return m;
}

TEST(DpiCaps, dns_messages_are_parsed_up_to_the_per_flow_cap_then_inspection_stops) {
  InspectorConfig cfg;
  cfg.dns_max_messages = 6;
  Inspector inspector(cfg);
  Flow f(inspector);
  Conn c;
  c.server_port = 53;
  for (std::uint16_t id = 1; id <= 3; ++id) {  // 3 lookups: 6 messages, all parsed
    f.feed(c.udp(true, dns_query(id, "a")), 0);
    f.feed(c.udp(false, dns_answer(id, "a")), 1);
    EXPECT_TRUE(f.state.wants_packets());
  }
  EXPECT_EQ(f.events, 3u);
  f.feed(c.udp(true, dns_query(4, "a")), 0);  // the 7th message is past the cap
  f.feed(c.udp(false, dns_answer(4, "a")), 1);
  EXPECT_EQ(f.events, 3u);
  EXPECT_FALSE(f.state.wants_packets());
  EXPECT_EQ(inspector.counters().dns_message_cap, 1u);
  EXPECT_EQ(f.info().app, "DNS");  // what was learnt stays
}

TEST(DpiCaps, dns_over_tcp_stops_at_the_same_cap) {
  InspectorConfig cfg;
  cfg.dns_max_messages = 2;
  Inspector inspector(cfg);
  Flow f(inspector);
  Conn c;
  c.server_port = 53;
  f.feed(c.tcp(true, {}, 0, decode::tcp_flag::syn), 0);
  f.feed(c.tcp(false, {}, 0, decode::tcp_flag::syn | decode::tcp_flag::ack), 1);
  std::uint32_t seq[2] = {1, 1};
  for (std::uint16_t id = 1; id <= 3; ++id) {
    for (int dir = 0; dir < 2; ++dir) {
      const ByteVec m = dir == 0 ? dns_query(id, "b") : dns_answer(id, "b");
      ByteVec framed;
      test::put16(framed, static_cast<std::uint16_t>(m.size()));
      test::append(framed, m);
      f.feed(c.tcp(dir == 0, framed, seq[dir]), dir);
      seq[dir] += static_cast<std::uint32_t>(framed.size());
    }
  }
  EXPECT_EQ(f.events, 1u);  // the first lookup; its 2 messages reached the cap
  EXPECT_FALSE(f.state.wants_packets());
  EXPECT_EQ(inspector.counters().dns_message_cap, 1u);
}

TEST(DpiCaps, tls_stops_after_its_segment_budget_when_the_server_hello_never_comes) {
  Inspector inspector;
  Flow f(inspector);
  Conn c;
  f.feed(c.tcp(true, {}, 0, decode::tcp_flag::syn), 0);
  f.feed(c.tcp(false, {}, 0, decode::tcp_flag::syn | decode::tcp_flag::ack), 1);
  const ByteVec hello = ClientHelloWriter{}.records();
  std::uint32_t seq = 1;
  f.feed(c.tcp(true, hello, seq), 0);
  seq += static_cast<std::uint32_t>(hello.size());
  EXPECT_EQ(f.info().sni, "example.com");
  EXPECT_TRUE(f.state.wants_packets());  // the ServerHello is still to come
  const ByteVec app_data = hex("17 0303 0004 00010203");
  int segments = 1;
  while (f.state.wants_packets() && segments < 1000) {
    f.feed(c.tcp(true, app_data, seq), 0);
    seq += static_cast<std::uint32_t>(app_data.size());
    ++segments;
  }
  EXPECT_EQ(segments, 33);  // the TLS session's budget: 32 payload segments, then done
  EXPECT_EQ(f.info().sni, "example.com");
}

TEST(DpiCaps, http_stops_once_the_first_request_and_response_are_known) {
  Inspector inspector;
  Flow f(inspector);
  Conn c;
  c.server_port = 80;
  f.feed(c.tcp(true, {}, 0, decode::tcp_flag::syn), 0);
  f.feed(c.tcp(false, {}, 0, decode::tcp_flag::syn | decode::tcp_flag::ack), 1);
  const ByteVec req = test::bytes("GET /first HTTP/1.1\r\nHost: a.example\r\n\r\n");
  const ByteVec resp = test::bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  f.feed(c.tcp(true, req, 1), 0);
  EXPECT_TRUE(f.state.wants_packets());
  f.feed(c.tcp(false, resp, 1), 1);
  EXPECT_FALSE(f.state.wants_packets());  // keep-alive requests after this are not read
  EXPECT_EQ(f.info().http_path, "/first");
  EXPECT_EQ(f.info().http_status, 200);
}

TEST(DpiCaps, a_head_cut_by_the_snaplen_ends_its_direction_instead_of_buffering) {
  // The capture kept 40 bytes of a 300-byte request: the rest of the head never arrives,
  // so the client direction ends at once rather than holding later segments behind the
  // hole until the segment budget runs out. The fields are the same either way: none of
  // the request's (its head is incomplete), the response's status.
  Inspector inspector;
  Flow f(inspector);
  Conn c;
  c.server_port = 80;
  f.feed(c.tcp(true, {}, 0, decode::tcp_flag::syn), 0);
  f.feed(c.tcp(false, {}, 0, decode::tcp_flag::syn | decode::tcp_flag::ack), 1);
  const ByteVec head = test::bytes("GET /cut HTTP/1.1\r\nHost: cut.example\r\nUser-Agent: x");
  decode::PacketView cut = c.tcp(true, head, 1);
  cut.payload = cut.payload.first(40);
  cut.payload_len = 300;
  f.feed(cut, 0);
  EXPECT_TRUE(f.state.wants_packets());  // the response is still to come
  const ByteVec more(200, 'a');
  f.feed(c.tcp(true, more, 301), 0);  // the next segment: not buffered
  EXPECT_EQ(inspector.buffered_bytes(), 0u);
  const ByteVec resp = test::bytes("HTTP/1.1 404 Not Found\r\n\r\n");
  f.feed(c.tcp(false, resp, 1), 1);
  EXPECT_FALSE(f.state.wants_packets());
  EXPECT_EQ(f.info().app, "HTTP");
  EXPECT_EQ(f.info().http_method, "");
  EXPECT_EQ(f.info().http_status, 404);
}

TEST(DpiCaps, a_segment_cut_past_what_the_parser_needs_changes_nothing) {
  // Cut after the end of the head: the parser has all it reads, the flow goes on as usual.
  Inspector inspector;
  Flow f(inspector);
  Conn c;
  c.server_port = 80;
  f.feed(c.tcp(true, {}, 0, decode::tcp_flag::syn), 0);
  const ByteVec req = test::bytes("GET /whole HTTP/1.1\r\nHost: w.example\r\n\r\nbody");
  decode::PacketView cut = c.tcp(true, req, 1);
  cut.payload_len = 1000;
  f.feed(cut, 0);
  EXPECT_EQ(f.info().http_path, "/whole");
  EXPECT_EQ(f.info().http_host, "w.example");
}

TEST(DpiCaps, unknown_udp_gives_up_after_the_probe_budget) {
  InspectorConfig cfg;
  cfg.max_probe_packets = 4;
  Inspector inspector(cfg);
  Flow f(inspector);
  Conn c;
  c.server_port = 40000;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(f.state.wants_packets());
    f.feed(c.udp(i % 2 == 0, test::bytes("\x01 opaque game traffic")), i % 2);
  }
  EXPECT_NE(f.state.flags & FlowState::kDone, 0);  // given up (nDPI may still want packets)
  EXPECT_EQ(f.state.proto, Protocol::unknown);
  EXPECT_EQ(f.state.session, nullptr);
}

TEST(DpiCaps, a_later_segment_of_an_unknown_stream_is_still_probed_for_starttls) {
  // The cheap first-byte rejection must keep a protocol that starts mid-connection
  // (STARTTLS): the ClientHello after a plaintext exchange is recognised.
  Inspector inspector;
  Flow f(inspector);
  Conn c;
  c.server_port = 6667;
  f.feed(c.tcp(true, {}, 0, decode::tcp_flag::syn), 0);
  f.feed(c.tcp(false, {}, 0, decode::tcp_flag::syn | decode::tcp_flag::ack), 1);
  const ByteVec plain = test::bytes("STARTTLS\r\n");
  f.feed(c.tcp(true, plain, 1), 0);
  f.feed(c.tcp(false, test::bytes(":server 670 :STARTTLS ok\r\n"), 1), 1);
  EXPECT_EQ(f.state.proto, Protocol::unknown);
  f.feed(c.tcp(true, ClientHelloWriter{}.records(), 1 + static_cast<std::uint32_t>(plain.size())),
         0);
  EXPECT_EQ(f.state.proto, Protocol::tls);
  EXPECT_EQ(f.info().sni, "example.com");
}

TEST(DpiCaps, every_recogniser_is_tried_for_each_first_byte_it_accepts) {
  // HTTP by each method's first letter and by a status line, SSH, TLS: on a port that
  // hints at none of them, so only content decides.
  for (const char* start :
       {"GET / HTTP/1.1\r\n\r\n", "POST / HTTP/1.1\r\n\r\n", "DELETE / HTTP/1.1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\n\r\n", "MKCOL /d HTTP/1.1\r\n\r\n", "UNLOCK /d HTTP/1.1\r\n\r\n",
        "LOCK /d HTTP/1.1\r\n\r\n", "TRACE / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
        "SSH-2.0-OpenSSH_9.2\r\n"}) {
    Inspector inspector;
    Flow f(inspector);
    Conn c;
    c.server_port = 9999;
    f.feed(c.tcp(true, test::bytes(start), 1), 0);
    EXPECT_NE(f.state.proto, Protocol::unknown) << start;
  }
}

TEST(DpiReuse, a_second_client_hello_does_not_inherit_the_first_ones_fields) {
  Inspector inspector;
  ClientHelloWriter rich;
  rich.padding = 300;
  rich.extra_extensions = {23, 35};
  ClientHelloWriter bare;
  bare.sni.clear();
  bare.alpn.clear();
  bare.groups.clear();
  bare.point_formats.clear();
  bare.supported_versions.clear();
  bare.ciphers = {0x002f};
  Flow first(inspector);
  Flow second(inspector);
  Conn c;
  first.feed(c.tcp(true, rich.records(), 1), 0);
  c.client_port = 40001;
  second.feed(c.tcp(true, bare.records(), 1), 0);
  const DpiInfo a = first.info();
  const DpiInfo b = second.info();
  EXPECT_EQ(a.sni, "example.com");
  EXPECT_EQ(b.sni, "");
  EXPECT_EQ(b.alpn, "");
  EXPECT_EQ(b.tls_offered, "TLS 1.2");
  // The fingerprints equal those of a ClientHello parsed into a fresh object.
  const ByteVec msg = bare.message();
  tls::ClientHello fresh;
  ASSERT_TRUE(tls::parse_client_hello(Bytes(msg).subspan(4), fresh));
  EXPECT_EQ(b.ja3, tls::ja3_hash(fresh));
  EXPECT_EQ(b.ja4, tls::ja4(fresh, 't'));
  EXPECT_EQ(tls::ja3_string(fresh), "771,47,13,,");  // signature_algorithms is left
  EXPECT_EQ(b.ja4.substr(0, 10), "t12i010100");
}

TEST(DpiReuse, a_parsed_dns_message_is_emptied_before_the_next_parse) {
  dns::Message m;
  const ByteVec answer = dns_answer(7, "first");
  ASSERT_TRUE(dns::parse_message(answer, m));
  EXPECT_EQ(m.records.size(), 1u);
  EXPECT_EQ(m.qname, "first.com");
  const ByteVec query = dns_query(8, "q");
  ASSERT_TRUE(dns::parse_message(query, m));
  EXPECT_EQ(m.qname, "q.com");
  EXPECT_TRUE(m.records.empty());
  EXPECT_FALSE(m.response);
  EXPECT_EQ(m.id, 8);
  ByteVec broken = query;
  broken.resize(14);  // the question is cut: the parse fails and says so
  EXPECT_FALSE(dns::parse_message(broken, m));
  EXPECT_FALSE(m.has_question);
}

}  // namespace
}  // namespace netscope::dpi

namespace netscope::dpi {
namespace {

TEST(DpiReuse, fingerprints_from_the_digest_cache_equal_fresh_ones) {
  // The per-thread digest cache is keyed by the whole hashed text: a repeat gives the
  // same fingerprint, a different hello never gets another's, and evicted entries are
  // computed again.
  const auto fingerprints = [](const ClientHelloWriter& w) {
    const ByteVec msg = w.message();
    tls::ClientHello h;
    EXPECT_TRUE(tls::parse_client_hello(Bytes(msg).subspan(4), h));
    return std::pair(tls::ja3_hash(h), tls::ja4(h, 't'));
  };
  ClientHelloWriter a;
  ClientHelloWriter b;
  b.ciphers = {0x1301, 0xc02f, 0x1302};  // same set, another order: JA4 equal, JA3 not
  // Computed on a thread of their own, with an empty cache: the reference values.
  std::pair<std::string, std::string> fresh_a;
  std::pair<std::string, std::string> fresh_b;
  std::thread([&] {
    fresh_a = fingerprints(a);
    fresh_b = fingerprints(b);
  }).join();
  const auto first_a = fingerprints(a);
  const auto first_b = fingerprints(b);
  EXPECT_EQ(first_a, fresh_a);
  EXPECT_EQ(first_b, fresh_b);
  EXPECT_EQ(fingerprints(a), fresh_a);  // from the cache now
  EXPECT_NE(first_a.first, first_b.first);
  EXPECT_EQ(first_a.second, first_b.second);
  std::set<std::string> ja3s;
  std::set<std::string> ja4s;
  for (std::uint16_t i = 0; i < 600; ++i) {  // more hellos than the cache has slots
    ClientHelloWriter w;
    w.ciphers = {static_cast<std::uint16_t>(0x2000 + i)};
    w.extra_extensions = {static_cast<std::uint16_t>(0x3000 + i)};
    const auto f = fingerprints(w);
    EXPECT_NE(f.first, first_a.first);
    EXPECT_NE(f.second, first_a.second);
    ja3s.insert(f.first);
    ja4s.insert(f.second);
  }
  EXPECT_EQ(ja3s.size(), 600u);  // distinct hellos, distinct fingerprints: no false hits
  EXPECT_EQ(ja4s.size(), 600u);
  EXPECT_EQ(fingerprints(a), fresh_a);
  EXPECT_EQ(fingerprints(b), fresh_b);
}

}  // namespace
}  // namespace netscope::dpi
