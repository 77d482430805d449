// Real captures, every packet compared with tshark as an independent oracle: addresses,
// ports, IP length, TCP sequence/ack/flags/length/options, UDP length, VLAN, ICMP type.
// tshark runs with reassembly and defragmentation off so each row describes its frame.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "capture_file.hpp"
#include "packet_builder.hpp"

namespace netscope::decode::test {
namespace {

const std::vector<std::string> kFields = {
    "frame.len",
    "frame.cap_len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ip.len",
    "ipv6.plen",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.flags",
    "tcp.len",
    "tcp.hdr_len",
    "tcp.window_size_value",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.timestamp.tsval",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "vlan.id",
    "icmp.type",
    "icmpv6.type",
    "arp.opcode",
    "mpls.label",
    "ieee8021ad.id",
};

enum Field : std::size_t {
  kFrameLen,
  kCapLen,
  kIpSrc,
  kIpDst,
  kIp6Src,
  kIp6Dst,
  kIpLen,
  kIp6Plen,
  kTcpSport,
  kTcpDport,
  kTcpSeq,
  kTcpAck,
  kTcpFlags,
  kTcpLen,
  kTcpHdrLen,
  kTcpWin,
  kTcpMss,
  kTcpWscale,
  kTcpTsval,
  kUdpSport,
  kUdpDport,
  kUdpLen,
  kVlanId,
  kIcmpType,
  kIcmp6Type,
  kArpOp,
  kMplsLabel,
  kSTagId,
};

bool have_tshark() {
  return std::system("tshark -v >/dev/null 2>&1") == 0;
}

// One row per frame; each field is the list of its occurrences (outermost first).
using Row = std::vector<std::vector<std::string>>;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::vector<Row> run_tshark(const std::string& path) {
  std::string cmd = "tshark -n -r '" + path +
                    "' -o tcp.relative_sequence_numbers:FALSE -o ip.defragment:FALSE"
                    " -o ipv6.defragment:FALSE -o tcp.desegment_tcp_streams:FALSE -T fields"
                    " -E separator=/t -E occurrence=a -E aggregator=,";
  for (const auto& f : kFields) cmd += " -e " + f;
  cmd += " 2>/dev/null";
  std::vector<Row> rows;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return rows;
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    line += buf;
    if (line.empty() || line.back() != '\n') continue;
    line.pop_back();
    Row row;
    for (const auto& cell : split(line, '\t')) {
      row.push_back(cell.empty() ? std::vector<std::string>{} : split(cell, ','));
    }
    row.resize(kFields.size());
    rows.push_back(std::move(row));
    line.clear();
  }
  pclose(p);
  return rows;
}

std::uint64_t num(const std::string& s) {
  return std::stoull(s, nullptr, 0);  // tcp.flags comes as 0x...
}

const std::string& first(const Row& r, Field f) {
  return r[f].front();
}
bool has(const Row& r, Field f) {
  return !r[f].empty();
}

core::IpAddress addr(const std::string& s) {
  auto a = core::IpAddress::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(core::IpAddress{});
}

struct Totals {
  std::size_t packets = 0, decoded = 0, tcp = 0, udp = 0;
};

// Decodes every packet of `rel` and compares it with tshark's row for the same frame.
Totals compare_with_tshark(const std::string& rel) {
  Totals t;
  const CaptureFile cap = read_capture(pcap_path(rel));
  EXPECT_TRUE(cap.ok) << rel << ": " << cap.error;
  const std::vector<Row> rows = run_tshark(pcap_path(rel));
  EXPECT_EQ(rows.size(), cap.packets.size()) << rel;
  if (rows.size() != cap.packets.size()) return t;
  EXPECT_TRUE(linktype_supported(cap.linktype)) << cap.linktype;

  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rel + " frame " + std::to_string(i + 1));
    const Row& r = rows[i];
    const FilePacket& pkt = cap.packets[i];
    PacketView v;
    AnomalyCounters a;
    decode_packet(cap.linktype, pkt.data, pkt.orig_len, v, a);
    ++t.packets;

    EXPECT_EQ(v.orig_len, num(first(r, kFrameLen)));
    EXPECT_EQ(v.cap_len, num(first(r, kCapLen)));
    EXPECT_EQ(v.missing_bytes, v.orig_len - v.cap_len);

    const bool v4 = has(r, kIpSrc);
    const bool v6 = has(r, kIp6Src);
    EXPECT_EQ(v.has_ip(), v4 || v6);
    if (v4) {
      EXPECT_EQ(v.ip_version, 4);
      EXPECT_EQ(v.src, addr(first(r, kIpSrc)));
      EXPECT_EQ(v.dst, addr(first(r, kIpDst)));
      if (a.get(Anomaly::ipv4_len_exceeds_frame) != 0) {
        // Clamped to what the wire held; tshark reports the field as written.
        EXPECT_LT(v.ip_bytes, num(first(r, kIpLen)));
        EXPECT_EQ(v.ip_bytes, v.orig_len - v.cap_len + (pkt.data.size() - 14));
      } else {
        EXPECT_EQ(v.ip_bytes, num(first(r, kIpLen)));
      }
    } else if (v6) {
      EXPECT_EQ(v.ip_version, 6);
      EXPECT_EQ(v.src, addr(first(r, kIp6Src)));
      EXPECT_EQ(v.dst, addr(first(r, kIp6Dst)));
      EXPECT_EQ(v.ip_bytes, 40 + num(first(r, kIp6Plen)));
    }
    t.decoded += (v.layers & (PacketView::kIp | PacketView::kArp)) != 0 ? 1 : 0;

    // A TCP header cut by the snaplen is IP-only for us; tshark shows what it can.
    if (a.get(Anomaly::truncated_tcp) != 0) {
      EXPECT_FALSE(v.has_transport());
    } else {
      EXPECT_EQ(v.is_tcp(), has(r, kTcpSport));
    }
    if (v.is_tcp() && has(r, kTcpSport)) {
      ++t.tcp;
      EXPECT_EQ(v.sport, num(first(r, kTcpSport)));
      EXPECT_EQ(v.dport, num(first(r, kTcpDport)));
      EXPECT_EQ(v.seq, num(first(r, kTcpSeq)));
      EXPECT_EQ(v.ack, num(first(r, kTcpAck)));
      EXPECT_EQ(v.tcp_flags, num(first(r, kTcpFlags)) & 0xff);
      if (a.get(Anomaly::ipv4_len_exceeds_frame) == 0) {
        EXPECT_EQ(v.payload_len, num(first(r, kTcpLen)));
      }
      EXPECT_EQ(v.tcp_header_len, num(first(r, kTcpHdrLen)));
      EXPECT_EQ(v.window, num(first(r, kTcpWin)));
      EXPECT_EQ(v.payload.size(),
                std::min<std::size_t>(v.payload_len,
                                      pkt.data.size() - (v.payload.data() - pkt.data.data())));
      EXPECT_EQ(v.tcp_opts.has_mss, has(r, kTcpMss));
      if (has(r, kTcpMss)) {
        EXPECT_EQ(v.tcp_opts.mss, num(first(r, kTcpMss)));
      }
      EXPECT_EQ(v.tcp_opts.has_wscale, has(r, kTcpWscale));
      if (has(r, kTcpWscale)) {
        EXPECT_EQ(v.tcp_opts.wscale, num(first(r, kTcpWscale)));
      }
      EXPECT_EQ(v.tcp_opts.has_timestamps, has(r, kTcpTsval));
      if (has(r, kTcpTsval)) {
        EXPECT_EQ(v.tcp_opts.ts_val, num(first(r, kTcpTsval)));
      }
    }
    EXPECT_EQ(v.is_udp(), has(r, kUdpSport));
    if (v.is_udp() && has(r, kUdpSport)) {
      ++t.udp;
      EXPECT_EQ(v.sport, num(first(r, kUdpSport)));
      EXPECT_EQ(v.dport, num(first(r, kUdpDport)));
      if (v.first_fragment) {
        // The UDP length covers the whole datagram; this fragment holds part of it.
        EXPECT_EQ(v.payload_len + 8, v.ip_bytes - (v.ip_version == 4 ? 20 : 48));
        EXPECT_LT(v.payload_len + 8, num(first(r, kUdpLen)));
      } else {
        EXPECT_EQ(v.payload_len + 8, num(first(r, kUdpLen)));
      }
    }
    EXPECT_EQ(v.vlan_count, r[kVlanId].size() + r[kSTagId].size());
    if (has(r, kVlanId)) {
      EXPECT_EQ(v.vlan, num(r[kVlanId].back()));
    } else if (has(r, kSTagId)) {
      EXPECT_EQ(v.vlan, num(r[kSTagId].back()));
    }
    EXPECT_EQ(v.mpls_labels, r[kMplsLabel].size());
    if (has(r, kIcmpType)) {
      EXPECT_EQ(v.icmp_type, num(first(r, kIcmpType)));
    }
    if (has(r, kIcmp6Type)) {
      EXPECT_EQ(v.icmp_type, num(first(r, kIcmp6Type)));
    }
    EXPECT_EQ((v.layers & PacketView::kArp) != 0, has(r, kArpOp));
    if (has(r, kArpOp)) {
      EXPECT_EQ(v.arp_op, num(first(r, kArpOp)));
    }
  }
  return t;
}

class TsharkOracle : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  }
};

TEST_P(TsharkOracle, every_packet_matches_tshark) {
  const Totals t = compare_with_tshark(GetParam());
  EXPECT_GT(t.packets, 0u);
  EXPECT_GT(t.decoded, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Files, TsharkOracle,
    ::testing::Values("zeek/http-qinq-0.pcap", "zeek/http-vlan-0.pcap", "zeek/mixed-vlan-mpls.pcap",
                      "zeek/nflog-http.pcap", "zeek/linux_dlt_sll2.pcap",
                      "zeek/tls_openjdk-25.0.2-zeek.org.pcap", "zeek/tls_irc-starttls.pcap",
                      "tcpdump/tcp-handshake-nano.pcap", "tcpdump/quic_handshake.pcap",
                      "tcpdump/quic_handshake_truncated.pcap", "zeek/ipv6-http-atomic-frag.pcap",
                      "zeek/ipv6-fragmented-dns.pcap", "chrissanders/ipv6_fragments.pcapng",
                      "chrissanders/http_ip4and6.pcapng", "tcpdump/802.1ad_QinQ.pcap",
                      "tcpdump/LINKTYPE_RAW_ipv4.pcap", "zeek/tcp_option-sack.pcap",
                      "zeek/tcp_tcp-fast-open.pcap", "zeek/wikipedia.pcap",
                      "packetmancer/captures_telnet-cooked.pcap", "zeek/dns_long-connection.pcap",
                      "zeek/tcp_truncated-header.pcap"),
    [](const auto& info) {
      std::string name = info.param;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace netscope::decode::test
