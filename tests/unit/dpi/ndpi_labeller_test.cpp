// nDPI labelling (build option NETSCOPE_NDPI, ndpi_labeller.hpp): the labels nDPI gives
// hand-built flows (a BitTorrent handshake, a TLS ClientHello to YouTube, a DNS query)
// through the Inspector, with our own fields left as our parsers found them; the bounds
// (live slots, packets per flow, stale reclaim) and their counters. Without the option,
// the same flows get no nDPI label and inspection stops exactly as before.

#include "dpi/ndpi_labeller.hpp"

#include <gtest/gtest.h>

#include <string>

#include "dpi/inspector.hpp"
#include "dpi_test_util.hpp"

namespace netscope::dpi {
namespace {

using test::ByteVec;
using test::Conn;

// The BitTorrent peer wire handshake (BEP 3): pstrlen 19, "BitTorrent protocol", 8
// reserved bytes, the 20-byte info hash and the 20-byte peer id.
ByteVec bittorrent_handshake() {
  ByteVec b{19};
  test::append(b, test::bytes("BitTorrent protocol"));
  b.insert(b.end(), 8, 0);
  b.insert(b.end(), 20, 0xab);
  test::append(b, test::bytes("-TR2940-0123456789ab"));
  return b;
}

// SYN, SYN-ACK, ACK, then `client_data` from the client and `server_data` back, all
// through the Inspector the way the engine calls it (while wants_packets()).
struct TcpFlow {
  Conn conn;
  FlowState state;
  InspectResult out;
  bool changed = false;
  std::uint32_t cseq = 1000;
  std::uint32_t sseq = 5000;

  void send(Inspector& in, const decode::PacketView& v, int dir) {
    if (!state.wants_packets()) return;
    out.clear();
    in.inspect(state, v, dir, out);
    changed = changed || out.changed;
    conn.t_ns += 1'000'000;
  }
  void handshake(Inspector& in) {
    send(in, conn.tcp(true, {}, cseq, decode::tcp_flag::syn), 0);
    send(in, conn.tcp(false, {}, sseq, decode::tcp_flag::syn | decode::tcp_flag::ack), 1);
    ++cseq;
    ++sseq;
    send(in, conn.tcp(true, {}, cseq, decode::tcp_flag::ack), 0);
  }
  void client(Inspector& in, const ByteVec& data) {
    send(in, conn.tcp(true, data, cseq), 0);
    cseq += static_cast<std::uint32_t>(data.size());
  }
  void server(Inspector& in, const ByteVec& data) {
    send(in, conn.tcp(false, data, sseq), 1);
    sseq += static_cast<std::uint32_t>(data.size());
  }
  DpiInfo info() const {
    DpiInfo d;
    if (state.detected()) Inspector::describe(state, d);
    return d;
  }
};

ByteVec client_hello_record(const std::string& sni) {
  test::ClientHelloWriter w;
  w.sni = sni;
  const ByteVec msg = w.message();
  ByteVec rec{0x16, 0x03, 0x01};
  test::put16(rec, static_cast<std::uint16_t>(msg.size()));
  test::append(rec, msg);
  return rec;
}

// A DNS query for `name`, type A (RFC 1035 §4.1).
ByteVec dns_query(const std::string& name) {
  ByteVec b = test::hex("12 34 01 00 00 01 00 00 00 00 00 00");
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<std::uint8_t>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
             name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  b.push_back(0);
  test::append(b, test::hex("00 01 00 01"));
  return b;
}

#if NETSCOPE_NDPI

TEST(NdpiLabeller, labels_a_bittorrent_handshake_our_parsers_know_nothing_of) {
  Inspector in;
  TcpFlow f;
  f.conn.server_port = 51413;
  f.handshake(in);
  f.client(in, bittorrent_handshake());
  f.server(in, bittorrent_handshake());
  const DpiInfo d = f.info();
  EXPECT_TRUE(f.changed);
  EXPECT_EQ(d.app, "");  // not one of ours
  EXPECT_EQ(d.ndpi_app, "BitTorrent");
  EXPECT_EQ(d.ndpi_category, "Download");
  EXPECT_EQ(in.counters().ndpi_flows, 1u);
  EXPECT_EQ(in.counters().ndpi_labelled, 1u);
  // Labelled: the slot is gone and nothing else wants the packets.
  EXPECT_EQ(f.state.flags & FlowState::kNdpiActive, 0);
}

TEST(NdpiLabeller, a_youtube_client_hello_gets_tls_youtube_while_our_tls_fields_stay_ours) {
  Inspector in;
  TcpFlow f;
  f.handshake(in);
  f.client(in, client_hello_record("www.youtube.com"));
  const DpiInfo d = f.info();
  EXPECT_EQ(d.app, "TLS");
  EXPECT_EQ(d.sni, "www.youtube.com");
  EXPECT_EQ(d.alpn, "h2,http/1.1");
  EXPECT_EQ(d.ndpi_app, "TLS.YouTube");
  EXPECT_EQ(d.ndpi_category, "Media");
}

TEST(NdpiLabeller, a_dns_query_is_labelled_by_its_name) {
  Inspector in;
  Conn c;
  c.server_port = 53;
  FlowState s;
  InspectResult out;
  in.inspect(s, c.udp(true, dns_query("www.wikipedia.org")), 0, out);
  DpiInfo d;
  Inspector::describe(s, d);
  EXPECT_EQ(d.app, "DNS");
  EXPECT_EQ(d.ndpi_app, "DNS.Wikipedia");
  EXPECT_EQ(d.ndpi_category, "Web");
}

TEST(NdpiLabeller, gives_up_after_max_packets_and_frees_the_slot) {
  DpiCounters k;
  NdpiConfig cfg;
  cfg.max_packets = 4;
  NdpiLabeller l(cfg, k);
  Conn c;
  c.server_port = 40001;
  // Addresses no other test uses: nDPI's detection module is per thread and remembers
  // peers (its BitTorrent cache), so after the BitTorrent test 10.0.0.1/2 are "known".
  c.client = core::IpAddress::from_v4(0x0a090901);  // 10.9.9.1
  c.server = core::IpAddress::from_v4(0x0a090902);
  FlowState s;
  bool changed = false;
  ByteVec noise(64);
  for (int i = 0; i < 10; ++i) {
    for (std::size_t j = 0; j < noise.size(); ++j) {
      noise[j] = static_cast<std::uint8_t>(j * 37 + static_cast<std::size_t>(i) * 101 + 7);
    }
    l.feed(s, c.udp(i % 2 == 0, noise), i % 2, changed);
    if (i < 3) {
      EXPECT_EQ(l.live(), 1u) << i;
    }
  }
  EXPECT_EQ(l.live(), 0u);
  EXPECT_NE(s.flags & FlowState::kNdpiDone, 0);
  EXPECT_FALSE(changed);
  EXPECT_FALSE(s.detected());
  EXPECT_EQ(k.ndpi_flows, 1u);
  EXPECT_EQ(k.ndpi_labelled, 0u);
}

TEST(NdpiLabeller, flows_past_max_live_are_skipped_and_counted) {
  DpiCounters k;
  NdpiConfig cfg;
  cfg.max_live = 2;
  NdpiLabeller l(cfg, k);
  FlowState s[3];
  bool changed = false;
  for (int i = 0; i < 3; ++i) {
    Conn c;
    c.client_port = static_cast<std::uint16_t>(40000 + i);
    l.feed(s[i], c.tcp(true, test::bytes("hello"), 1), 0, changed);
  }
  EXPECT_EQ(l.live(), 2u);
  EXPECT_EQ(k.ndpi_flows, 2u);
  EXPECT_EQ(k.ndpi_skipped, 1u);
  EXPECT_NE(s[2].flags & FlowState::kNdpiDone, 0);
  EXPECT_EQ(s[2].flags & FlowState::kNdpiActive, 0);
  // A flow that ends frees its slot at once.
  l.release(s[0]);
  EXPECT_EQ(l.live(), 1u);
  EXPECT_EQ(s[0].flags & FlowState::kNdpiActive, 0);
}

TEST(NdpiLabeller, a_stale_slot_is_reclaimed_and_its_flow_gives_up) {
  DpiCounters k;
  NdpiConfig cfg;
  cfg.max_live = 1;
  cfg.stale_ns = 30'000'000'000;
  NdpiLabeller l(cfg, k);
  Conn a;
  Conn b;
  b.client_port = 40999;
  FlowState fa;
  FlowState fb;
  bool changed = false;
  l.feed(fa, a.tcp(true, test::bytes("hello"), 1), 0, changed);
  b.t_ns = a.t_ns + 10'000'000'000;  // 10 s later: a is not stale yet
  l.feed(fb, b.tcp(true, test::bytes("hello"), 1), 0, changed);
  EXPECT_EQ(k.ndpi_skipped, 1u);
  FlowState fc;
  Conn c;
  c.client_port = 41999;
  c.t_ns = a.t_ns + 31'000'000'000;  // 31 s later: a's slot is reclaimed for c
  l.feed(fc, c.tcp(true, test::bytes("hello"), 1), 0, changed);
  EXPECT_EQ(k.ndpi_reclaimed, 1u);
  EXPECT_NE(fc.flags & FlowState::kNdpiActive, 0);
  // a comes back: its slot now belongs to c, so a stops without touching c's state.
  a.t_ns = c.t_ns;
  l.feed(fa, a.tcp(false, {}, 9, decode::tcp_flag::syn | decode::tcp_flag::ack), 1, changed);
  EXPECT_EQ(fa.flags & FlowState::kNdpiActive, 0);
  EXPECT_NE(fa.flags & FlowState::kNdpiDone, 0);
  EXPECT_EQ(l.live(), 1u);
  EXPECT_NE(fc.flags & FlowState::kNdpiActive, 0);
}

TEST(NdpiLabeller, packets_without_payload_start_no_state) {
  DpiCounters k;
  NdpiLabeller l(NdpiConfig{}, k);
  Conn c;
  FlowState s;
  bool changed = false;
  l.feed(s, c.tcp(true, {}, 1, decode::tcp_flag::syn), 0, changed);  // a SYN scan
  l.feed(s, c.tcp(false, {}, 9, decode::tcp_flag::rst | decode::tcp_flag::ack), 1, changed);
  EXPECT_EQ(l.live(), 0u);
  EXPECT_EQ(k.ndpi_flows, 0u);
  EXPECT_EQ(s.flags & (FlowState::kNdpiActive | FlowState::kNdpiDone), 0);
  EXPECT_TRUE(s.wants_packets());  // our own inspection has not finished either
}

TEST(NdpiLabeller, per_flow_state_is_small_and_flow_state_did_not_grow) {
  static_assert(sizeof(FlowState) <= 24);
  EXPECT_GT(NdpiLabeller::flow_struct_size(), 0u);
  EXPECT_LE(NdpiLabeller::flow_struct_size(), 4096u);
}

#else  // !NETSCOPE_NDPI

TEST(NdpiLabeller, without_the_build_option_no_flow_gets_an_ndpi_label) {
  Inspector in;
  TcpFlow bt;
  bt.handshake(in);
  bt.client(in, bittorrent_handshake());
  bt.server(in, bittorrent_handshake());
  EXPECT_FALSE(bt.state.detected());
  EXPECT_EQ(bt.info().ndpi_app, "");
  TcpFlow tls;
  tls.handshake(in);
  tls.client(in, client_hello_record("www.youtube.com"));
  const DpiInfo d = tls.info();
  EXPECT_EQ(d.app, "TLS");
  EXPECT_EQ(d.ndpi_app, "");
  EXPECT_EQ(d.ndpi_category, "");
  EXPECT_EQ(tls.state.flags & (FlowState::kNdpiActive | FlowState::kNdpiLabelled), 0);
  Conn c;
  c.server_port = 53;
  FlowState dns;
  InspectResult out;
  in.inspect(dns, c.udp(true, dns_query("www.wikipedia.org")), 0, out);
  DpiInfo d2;
  Inspector::describe(dns, d2);
  EXPECT_EQ(d2.app, "DNS");
  EXPECT_EQ(d2.ndpi_app, "");
  EXPECT_EQ(in.counters().ndpi_flows, 0u);
  EXPECT_EQ(dns.ndpi, 0u);
}

#endif

}  // namespace
}  // namespace netscope::dpi
