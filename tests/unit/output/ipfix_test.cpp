// IPFIX encoding: messages decoded field by field with a decoder written here from
// RFC 7011 (not the encoder's own tables), and the meter's delta and timeout rules.
#include "output/ipfix.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "output/ipfix_exporter.hpp"
#include "output/ipfix_meter.hpp"
#include "snapshot_builder.hpp"

using namespace netscope;
using namespace netscope::output::ipfix;
using netscope::output::testing::ip;

namespace {

std::uint64_t be(const std::vector<std::uint8_t>& b, std::size_t at, std::size_t n) {
  EXPECT_LE(at + n, b.size());
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && at + i < b.size(); ++i) v = (v << 8) | b[at + i];
  return v;
}

struct Field {
  std::uint16_t id;
  std::uint16_t len;
  std::uint32_t pen;
};

// One decoded data record: "pen/id" -> raw bytes.
using Decoded = std::map<std::string, std::vector<std::uint8_t>>;

struct Message {
  std::uint32_t export_time = 0;
  std::uint32_t sequence = 0;
  std::uint32_t domain = 0;
  std::vector<Decoded> records;
};

// RFC 7011 §3: header, sets, template records (§3.4.1), data records with
// variable-length fields (§7). Templates persist across messages, as a collector's do.
Message decode_message(const std::vector<std::uint8_t>& m,
                       std::map<std::uint16_t, std::vector<Field>>& tpl) {
  Message out;
  EXPECT_GE(m.size(), 16u);
  EXPECT_EQ(be(m, 0, 2), 10u);
  EXPECT_EQ(be(m, 2, 2), m.size());
  out.export_time = static_cast<std::uint32_t>(be(m, 4, 4));
  out.sequence = static_cast<std::uint32_t>(be(m, 8, 4));
  out.domain = static_cast<std::uint32_t>(be(m, 12, 4));
  std::size_t at = 16;
  while (at + 4 <= m.size()) {
    const auto set_id = static_cast<std::uint16_t>(be(m, at, 2));
    const std::size_t set_len = be(m, at + 2, 2);
    EXPECT_GE(set_len, 4u);
    EXPECT_LE(at + set_len, m.size());
    const std::size_t end = at + set_len;
    std::size_t p = at + 4;
    if (set_id == 2) {
      while (p + 4 <= end) {
        const auto id = static_cast<std::uint16_t>(be(m, p, 2));
        const std::size_t count = be(m, p + 2, 2);
        p += 4;
        std::vector<Field> fields;
        for (std::size_t i = 0; i < count; ++i) {
          Field f{static_cast<std::uint16_t>(be(m, p, 2)),
                  static_cast<std::uint16_t>(be(m, p + 2, 2)), 0};
          p += 4;
          if (f.id & 0x8000u) {
            f.id &= 0x7fffu;
            f.pen = static_cast<std::uint32_t>(be(m, p, 4));
            p += 4;
          }
          fields.push_back(f);
        }
        tpl[id] = fields;
      }
    } else if (set_id >= 256) {
      EXPECT_TRUE(tpl.contains(set_id)) << "data set before its template";
      const auto& fields = tpl[set_id];
      while (p < end) {
        Decoded r;
        for (const Field& f : fields) {
          std::size_t len = f.len;
          if (len == 65535) {
            len = m[p++];
            if (len == 255) {
              len = be(m, p, 2);
              p += 2;
            }
          }
          r[std::to_string(f.pen) + "/" + std::to_string(f.id)] =
              std::vector<std::uint8_t>(m.begin() + static_cast<std::ptrdiff_t>(p),
                                        m.begin() + static_cast<std::ptrdiff_t>(p + len));
          p += len;
        }
        EXPECT_LE(p, end);
        out.records.push_back(std::move(r));
      }
    }
    at = end;
  }
  EXPECT_EQ(at, m.size());
  return out;
}

std::uint64_t num(const Decoded& r, const std::string& k) {
  auto it = r.find(k);
  EXPECT_NE(it, r.end()) << k;
  if (it == r.end()) return 0;
  return be(it->second, 0, it->second.size());
}
std::string str(const Decoded& r, const std::string& k) {
  auto it = r.find(k);
  EXPECT_NE(it, r.end()) << k;
  if (it == r.end()) return {};
  return std::string(it->second.begin(), it->second.end());
}

FlowRecord v4_record() {
  FlowRecord r;
  r.src = ip("10.0.0.1");
  r.dst = ip("93.184.216.34");
  r.src_port = 43012;
  r.dst_port = 443;
  r.proto = 6;
  r.octets = 123456789012ull;
  r.packets = 4242;
  r.start_ms = 1700000000123;
  r.end_ms = 1700000060456;
  r.tcp_flags = tcp_flag::syn | tcp_flag::ack | tcp_flag::fin;
  r.end_reason = EndReason::end_of_flow;
  r.direction = 1;
  r.process = "curl";
  r.pid = 4242;
  r.user = "ana";
  r.app = "TLS";
  r.sni = "example.net";
  return r;
}

TEST(IpfixEncoder, TemplatesThenOneV4AndOneV6Record) {
  MessageEncoder enc(7);
  FlowRecord v6 = v4_record();
  v6.src = ip("2001:db8::1");
  v6.dst = ip("2001:db8::2");
  v6.direction = 0;
  v6.sni.clear();
  const std::vector<FlowRecord> recs{v4_record(), v6};
  const auto msgs = enc.encode(recs, true, 1700000100);
  ASSERT_EQ(msgs.size(), 1u);
  std::map<std::uint16_t, std::vector<Field>> tpl;
  const Message m = decode_message(msgs[0], tpl);
  EXPECT_EQ(m.export_time, 1700000100u);
  EXPECT_EQ(m.sequence, 0u);
  EXPECT_EQ(m.domain, 7u);
  ASSERT_TRUE(tpl.contains(256));
  ASSERT_TRUE(tpl.contains(257));
  EXPECT_EQ(tpl[256].size(), 17u);
  ASSERT_EQ(m.records.size(), 2u);

  const Decoded& a = m.records[0];
  EXPECT_EQ(num(a, "0/8"), 0x0A000001u);   // sourceIPv4Address
  EXPECT_EQ(num(a, "0/12"), 0x5DB8D822u);  // destinationIPv4Address
  EXPECT_EQ(num(a, "0/7"), 43012u);
  EXPECT_EQ(num(a, "0/11"), 443u);
  EXPECT_EQ(num(a, "0/4"), 6u);
  EXPECT_EQ(num(a, "0/1"), 123456789012ull);  // octetDeltaCount
  EXPECT_EQ(num(a, "0/2"), 4242u);            // packetDeltaCount
  EXPECT_EQ(num(a, "0/152"), 1700000000123ull);
  EXPECT_EQ(num(a, "0/153"), 1700000060456ull);
  EXPECT_EQ(num(a, "0/6"), 0x13u);  // FIN SYN ACK
  EXPECT_EQ(num(a, "0/136"), 3u);
  EXPECT_EQ(num(a, "0/61"), 1u);
  EXPECT_EQ(str(a, "32473/1"), "curl");
  EXPECT_EQ(num(a, "32473/2"), 4242u);
  EXPECT_EQ(str(a, "32473/3"), "ana");
  EXPECT_EQ(str(a, "32473/4"), "TLS");
  EXPECT_EQ(str(a, "32473/5"), "example.net");

  const Decoded& b = m.records[1];
  EXPECT_EQ(b.at("0/27").size(), 16u);
  EXPECT_EQ(b.at("0/27")[0], 0x20);
  EXPECT_EQ(b.at("0/28")[15], 0x02);
  EXPECT_EQ(num(b, "0/61"), 0u);
  EXPECT_EQ(str(b, "32473/5"), "");
  EXPECT_EQ(enc.sequence(), 2u);
}

TEST(IpfixEncoder, SplitsAtTheMessageSizeAndCountsSequence) {
  MessageEncoder enc(1, 1400);
  std::vector<FlowRecord> recs(100, v4_record());
  for (std::size_t i = 0; i < recs.size(); ++i) recs[i].src_port = static_cast<std::uint16_t>(i);
  const auto msgs = enc.encode(recs, true, 1);
  ASSERT_GT(msgs.size(), 1u);
  std::map<std::uint16_t, std::vector<Field>> tpl;
  std::uint32_t expected_seq = 0;
  std::vector<std::uint64_t> ports;
  for (const auto& raw : msgs) {
    EXPECT_LE(raw.size(), 1400u);
    const Message m = decode_message(raw, tpl);
    EXPECT_EQ(m.sequence, expected_seq);  // RFC 7011 §3.1: records sent before this message
    expected_seq += static_cast<std::uint32_t>(m.records.size());
    for (const Decoded& r : m.records) ports.push_back(num(r, "0/7"));
  }
  ASSERT_EQ(ports.size(), 100u);
  for (std::size_t i = 0; i < ports.size(); ++i) EXPECT_EQ(ports[i], i);
  EXPECT_EQ(enc.sequence(), 100u);
  // The next batch continues the count; without templates it holds only data.
  const auto more = enc.encode(std::span(recs).first(3), false, 2);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(decode_message(more[0], tpl).sequence, 100u);
  EXPECT_EQ(be(more[0], 16, 2), 256u);
}

TEST(IpfixEncoder, LongStringsAreCutOnACharacterBoundary) {
  MessageEncoder enc(1);
  FlowRecord r = v4_record();
  r.sni = std::string(253, 'a') + "\xC3\xA9" + std::string(100, 'b');  // é across byte 254
  const auto msgs = enc.encode(std::span(&r, 1), true, 1);
  std::map<std::uint16_t, std::vector<Field>> tpl;
  const Message m = decode_message(msgs.at(0), tpl);
  EXPECT_EQ(str(m.records.at(0), "32473/5"), std::string(253, 'a'));
}

TEST(IpfixEncoder, TemplatesOnlyWhenNoRecords) {
  MessageEncoder enc(1);
  const auto msgs = enc.encode({}, true, 1);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(be(msgs[0], 16, 2), 2u);
  EXPECT_TRUE(enc.encode({}, false, 1).empty());
}

TEST(IpfixTarget, SplitHostPort) {
  std::string host;
  std::uint16_t port = 0;
  std::string err;
  ASSERT_TRUE(split_host_port("127.0.0.1:4739", host, port, err));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 4739);
  ASSERT_TRUE(split_host_port("[::1]:9995", host, port, err));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9995);
  EXPECT_FALSE(split_host_port("::1:9995", host, port, err));
  EXPECT_FALSE(split_host_port("host", host, port, err));
  EXPECT_FALSE(split_host_port("host:0", host, port, err));
  EXPECT_FALSE(split_host_port("host:65536", host, port, err));
  EXPECT_FALSE(split_host_port(":80", host, port, err));
  EXPECT_FALSE(split_host_port("[::1]80", host, port, err));
  ExporterConfig bad;
  bad.target = "nonsense";
  EXPECT_THROW(IpfixExporter{bad}, std::runtime_error);
}

// --- FlowMeter

monitor::ConnectionRecord conn(std::uint64_t pk_up, std::uint64_t by_up, std::uint64_t pk_down,
                               std::uint64_t by_down, std::int64_t last_s) {
  monitor::ConnectionRecord c = output::testing::tcp_connection("10.0.0.2", 40000, 80, 0, 0);
  c.packets_up = pk_up;
  c.bytes_up = by_up;
  c.packets_down = pk_down;
  c.bytes_down = by_down;
  c.first_seen = core::Timestamp{1000 * 1'000'000'000ll};
  c.last_seen = core::Timestamp{last_s * 1'000'000'000ll};
  return c;
}

monitor::Snapshot snap_at(std::int64_t s, std::vector<monitor::ConnectionRecord> cs) {
  monitor::Snapshot snap;
  snap.time = core::Timestamp{s * 1'000'000'000ll};
  snap.connections = std::move(cs);
  monitor::ProcessRecord p;
  p.pid = 4242;
  p.name = "curl";
  p.user = "ana";
  snap.processes.push_back(p);
  return snap;
}

TEST(IpfixMeter, ActiveTimeoutThenEndOfFlowSumToTheTotals) {
  FlowMeter meter(MeterConfig{10, 5});
  std::vector<FlowRecord> out;
  meter.update(snap_at(1001, {conn(3, 180, 2, 120, 1001)}), out);
  EXPECT_TRUE(out.empty());
  meter.update(snap_at(1010, {conn(10, 1000, 8, 9000, 1010)}), out);
  ASSERT_EQ(out.size(), 2u);  // active timeout: 10 s since the first packet
  EXPECT_EQ(out[0].end_reason, EndReason::active_timeout);
  EXPECT_EQ(out[0].direction, 1);
  EXPECT_EQ(out[0].src, ip("10.0.0.1"));
  EXPECT_EQ(out[0].packets, 10u);
  EXPECT_EQ(out[0].octets, 1000u);
  EXPECT_EQ(out[0].start_ms, 1'000'000);
  EXPECT_EQ(out[0].user, "ana");
  EXPECT_EQ(out[0].tcp_flags & tcp_flag::syn, tcp_flag::syn);
  EXPECT_EQ(out[1].direction, 0);
  EXPECT_EQ(out[1].src, ip("10.0.0.2"));
  EXPECT_EQ(out[1].packets, 8u);
  EXPECT_EQ(out[1].octets, 9000u);
  out.clear();
  monitor::ConnectionRecord closed = conn(12, 1100, 9, 9050, 1012);
  closed.closed = true;
  closed.close_reason = "closed";
  closed.state = "TIME_WAIT";
  meter.update(snap_at(1013, {closed}), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].end_reason, EndReason::end_of_flow);
  EXPECT_EQ(out[0].packets, 2u);
  EXPECT_EQ(out[0].octets, 100u);
  EXPECT_EQ(out[0].start_ms, 1'010'000);  // the previous record's end
  EXPECT_EQ(out[0].end_ms, 1'012'000);
  EXPECT_EQ(out[0].tcp_flags & (tcp_flag::fin | tcp_flag::syn), tcp_flag::fin);
  EXPECT_EQ(out[1].packets, 1u);
  out.clear();
  // The last ACK after the close: one more record; then nothing while it lingers.
  closed.packets_up = 13;
  closed.bytes_up = 1140;
  meter.update(snap_at(1014, {closed}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].packets, 1u);
  EXPECT_EQ(out[0].octets, 40u);
  out.clear();
  meter.update(snap_at(1015, {closed}), out);
  meter.update(snap_at(1030, {}), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(meter.tracked(), 0u);
}

TEST(IpfixMeter, IdleTimeoutAndForcedEnd) {
  FlowMeter meter(MeterConfig{60, 5});
  std::vector<FlowRecord> out;
  meter.update(snap_at(1002, {conn(1, 60, 1, 60, 1001)}), out);
  EXPECT_TRUE(out.empty());
  meter.update(snap_at(1006, {conn(1, 60, 1, 60, 1001)}), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].end_reason, EndReason::idle_timeout);
  out.clear();
  meter.update(snap_at(1007, {conn(1, 60, 1, 60, 1001)}), out);
  EXPECT_TRUE(out.empty());  // nothing new
  meter.update(snap_at(1009, {conn(4, 300, 1, 60, 1009)}), out);
  EXPECT_TRUE(out.empty());
  meter.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].end_reason, EndReason::forced_end);
  EXPECT_EQ(out[0].packets, 3u);
  EXPECT_EQ(out[0].octets, 240u);
  EXPECT_EQ(out[0].start_ms, 1'007'000);  // after the snapshot before its first packet
}

TEST(IpfixMeter, ShortConnectionSeenOnlyClosedAndEndReasons) {
  FlowMeter meter({});
  std::vector<FlowRecord> out;
  monitor::ConnectionRecord c = conn(5, 400, 4, 900, 1000);
  c.closed = true;
  c.close_reason = "evicted";
  c.proto = 17;
  meter.update(snap_at(1001, {c}), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].end_reason, EndReason::lack_of_resources);
  EXPECT_EQ(out[0].tcp_flags, 0);
  EXPECT_EQ(end_reason_for("idle_timeout"), EndReason::idle_timeout);
  EXPECT_EQ(end_reason_for("end_of_input"), EndReason::forced_end);
  EXPECT_EQ(end_reason_for("closed"), EndReason::end_of_flow);
}

}  // namespace

TEST(IpfixMeter, SidesSwappedIsTheSameFlowAndIpv6) {
  // The tick builder may turn a connection around (the owning socket is on the other
  // side): the same packets, counted up and down the other way, are not exported twice.
  FlowMeter meter(MeterConfig{60, 15});
  std::vector<FlowRecord> out;
  monitor::ConnectionRecord c = conn(4, 400, 6, 3000, 1001);
  c.local_addr = ip("2001:db8::1");
  c.remote_addr = ip("2001:db8::2");
  meter.update(snap_at(1002, {c}), out);
  monitor::ConnectionRecord turned = c;
  std::swap(turned.local_addr, turned.remote_addr);
  std::swap(turned.local_port, turned.remote_port);
  std::swap(turned.packets_up, turned.packets_down);
  std::swap(turned.bytes_up, turned.bytes_down);
  turned.packets_up += 1;  // one more packet from 2001:db8::2
  turned.bytes_up += 100;
  meter.update(snap_at(1003, {turned}), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(meter.tracked(), 1u);
  meter.flush(out);
  ASSERT_EQ(out.size(), 2u);
  for (const FlowRecord& r : out) {
    if (r.src == ip("2001:db8::2")) {
      EXPECT_EQ(r.packets, 7u);
      EXPECT_EQ(r.octets, 3100u);
      EXPECT_EQ(r.direction, 1);  // now the local side
    } else {
      EXPECT_EQ(r.src, ip("2001:db8::1"));
      EXPECT_EQ(r.packets, 4u);
      EXPECT_EQ(r.octets, 400u);
    }
  }
  MessageEncoder enc(1);
  std::map<std::uint16_t, std::vector<Field>> tpl;
  const Message m = decode_message(enc.encode(out, true, 1).at(0), tpl);
  ASSERT_EQ(m.records.size(), 2u);
  EXPECT_EQ(m.records[0].at("0/27").size(), 16u);
}

// --- IpfixExporter: a replay's ticks wait for the exporter instead of being dropped, and
// what reaches a UDP socket decodes to every record.

TEST(IpfixExporter, ReplayWaitsAndEveryRecordArrives) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int big = 1 << 22;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);

  ExporterConfig cfg;
  cfg.target = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  cfg.queue_capacity = 1;
  cfg.block_when_full = true;
  cfg.observation_domain = 9;
  ExporterStats stats;
  {
    IpfixExporter exporter(cfg);
    for (std::int64_t t = 1; t <= 50; ++t) {
      monitor::ConnectionRecord c = conn(3, 300, 2, 500, 1000 + t);
      c.local_port = static_cast<std::uint16_t>(30000 + t);
      c.closed = true;
      c.close_reason = "closed";
      auto s = std::make_shared<monitor::Snapshot>(snap_at(1000 + t, {c}));
      s->tick = static_cast<std::uint64_t>(t);
      exporter.submit(s);
    }
    exporter.finish();
    stats = exporter.stats();
  }
  EXPECT_EQ(stats.snapshots_dropped, 0u);
  EXPECT_EQ(stats.records, 100u);
  EXPECT_EQ(stats.send_errors, 0u);

  std::map<std::uint16_t, std::vector<Field>> tpl;
  std::size_t records = 0;
  std::uint64_t octets = 0;
  std::vector<std::uint8_t> buf(65536);
  for (std::uint64_t i = 0; i < stats.messages; ++i) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    ASSERT_GT(n, 0) << "message " << i << " of " << stats.messages;
    const std::vector<std::uint8_t> m(buf.begin(), buf.begin() + n);
    const Message d = decode_message(m, tpl);
    EXPECT_EQ(d.domain, 9u);
    EXPECT_EQ(d.sequence, records);
    records += d.records.size();
    for (const Decoded& r : d.records) octets += num(r, "0/1");
  }
  close(fd);
  EXPECT_EQ(records, 100u);
  EXPECT_EQ(octets, 50u * 800u);
}

// Templates go out in the first message and again once template_refresh_s has passed
// (RFC 7011 §8.4); 0 resends them with every batch.
TEST(IpfixExporter, TemplatesResentOnSchedule) {
  for (const double refresh : {0.0, 1e9}) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ExporterConfig cfg;
    cfg.target = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    cfg.block_when_full = true;
    cfg.template_refresh_s = refresh;
    std::uint64_t messages = 0;
    {
      IpfixExporter exporter(cfg);
      for (std::int64_t t = 1; t <= 4; ++t) {
        auto s = std::make_shared<monitor::Snapshot>(snap_at(1000 + t, {}));
        s->tick = static_cast<std::uint64_t>(t);
        exporter.submit(s);
      }
      exporter.finish();
      messages = exporter.stats().messages;
    }
    std::size_t with_templates = 0;
    std::vector<std::uint8_t> buf(65536);
    for (std::uint64_t i = 0; i < messages; ++i) {
      const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      ASSERT_GT(n, 20);
      if (buf[16] == 0 && buf[17] == 2) ++with_templates;
    }
    close(fd);
    if (refresh == 0) {
      EXPECT_GE(with_templates, 4u);
    } else {
      EXPECT_EQ(with_templates, 1u);
      EXPECT_EQ(messages, 1u);
    }
  }
}
