// The malformed captures of the shared corpus: each must produce exactly its named
// anomalies (and no others), and no capture in the corpus may crash the decoder.

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <string>

#include "capture_file.hpp"
#include "packet_builder.hpp"

namespace netscope::decode::test {
namespace {

struct FileResult {
  std::map<std::string, std::uint64_t> anomalies;  // only non-zero counters
  std::vector<PacketView> views;                   // payload spans point into `cap`
  CaptureFile cap;
};

FileResult decode_file(const std::string& rel) {
  FileResult r;
  r.cap = read_capture(pcap_path(rel));
  EXPECT_TRUE(r.cap.ok) << rel << ": " << r.cap.error;
  AnomalyCounters counters;
  for (const auto& pkt : r.cap.packets) {
    PacketView v;
    decode_packet(r.cap.linktype, pkt.data, pkt.orig_len, v, counters);
    r.views.push_back(v);
  }
  for (std::size_t i = 0; i < kAnomalyCount; ++i) {
    if (counters.counts[i] != 0) {
      r.anomalies[std::string(anomaly_name(static_cast<Anomaly>(i)))] = counters.counts[i];
    }
  }
  return r;
}

using Expected = std::map<std::string, std::uint64_t>;

struct Case {
  const char* file;
  Expected anomalies;
};

class MalformedFile : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedFile, produces_exactly_its_named_anomalies) {
  const FileResult r = decode_file(GetParam().file);
  EXPECT_EQ(r.anomalies, GetParam().anomalies);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, MalformedFile,
    ::testing::Values(
        Case{"zeek/trunc_trunc-hdr.pcap", {{"truncated_link", 1}, {"snaplen_truncated", 1}}},
        Case{"zeek/trunc_ip4-trunc.pcap", {{"truncated_ipv4", 1}, {"snaplen_truncated", 1}}},
        Case{"zeek/trunc_ip6-trunc.pcap", {{"truncated_ipv6", 1}, {"snaplen_truncated", 1}}},
        Case{"zeek/trunc_ip-discarder-truncated-tcp-oob.pcapng",
             {{"truncated_tcp", 1}, {"snaplen_truncated", 1}}},
        // Total length 0: accepted as offload (as tshark does) but counted.
        Case{"zeek/ip-bogus-header-len.pcap", {{"ip_len_zero", 1}}},
        Case{"tcpdump/ipv4_invalid_total_length.pcap", {{"ipv4_len_exceeds_frame", 1}}},
        Case{"tcpdump/ipv6_invalid_length.pcap", {{"truncated_ipv6", 1}}},
        Case{"tcpdump/LINKTYPE_IPV6_invalid.pcap", {{"bad_ip_version", 1}}},
        // Frame 1 cuts the SYN's options; the others cut payload or Ethernet padding.
        Case{"zeek/tcp_truncated-header.pcap", {{"truncated_tcp", 1}, {"snaplen_truncated", 24}}},
        Case{"tcpdump/tcp_rst_data-trunc.pcap", {{"snaplen_truncated", 1}}},
        Case{"tcpdump/quic_32_bit_pointer_overflow.pcap",
             {{"bad_ipv6_payload_len", 1}, {"snaplen_truncated", 1}}},
        // UDP length 8 inside a 43-byte IP payload: the "DNS message" is trailing bytes.
        Case{"tcpdump/dns-zlip-1.pcap", {{"udp_trailing_bytes", 1}}},
        Case{"packetmancer/captures_telnet-cooked.pcap", {{"ipv4_len_exceeds_frame", 5}}}),
    [](const auto& info) {
      std::string name = info.param.file;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(MalformedFiles, rst_with_data_cut_by_snaplen_is_still_transport) {
  const FileResult r = decode_file("tcpdump/tcp_rst_data-trunc.pcap");
  ASSERT_EQ(r.views.size(), 1u);
  const PacketView& v = r.views[0];
  ASSERT_TRUE(v.is_tcp());
  EXPECT_EQ(v.tcp_flags, tcp_flag::rst | tcp_flag::ack);
  EXPECT_EQ(v.payload_len, 58u);
  EXPECT_EQ(v.payload.size(), 57u);
  EXPECT_EQ(v.missing_bytes, 1u);
  EXPECT_EQ(v.ip_bytes, 98u);
}

TEST(MalformedFiles, jumbo_claim_is_clamped_to_the_wire) {
  const FileResult r = decode_file("tcpdump/quic_32_bit_pointer_overflow.pcap");
  ASSERT_EQ(r.views.size(), 1u);
  const PacketView& v = r.views[0];
  EXPECT_EQ(v.ip_version, 6);
  EXPECT_EQ(v.ip_bytes, v.orig_len);  // raw IP: the whole wire length, not 201311154+40
  ASSERT_TRUE(v.is_udp());
  EXPECT_EQ(v.dport, 443);
}

TEST(MalformedFiles, unsupported_link_type_is_refused) {
  const CaptureFile cap = read_capture(pcap_path("tcpdump/unsupported-link-type-160.pcap"));
  ASSERT_TRUE(cap.ok);
  EXPECT_FALSE(linktype_supported(cap.linktype));
}

// Every capture libpcap can open goes through the decoder without a sanitizer report.
TEST(CorpusFiles, every_packet_of_every_file_decodes_without_crashing) {
  std::size_t files = 0;
  std::size_t packets = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(NETSCOPE_PCAPS)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
    const CaptureFile cap = read_capture(entry.path().string());
    if (cap.packets.empty()) continue;
    ++files;
    AnomalyCounters counters;
    for (const auto& pkt : cap.packets) {
      PacketView v;
      decode_packet(cap.linktype, pkt.data, pkt.orig_len, v, counters);
      ++packets;
      if (v.has_transport()) {
        // The payload view never leaves the captured bytes.
        EXPECT_GE(v.payload.data(), pkt.data.data());
        EXPECT_LE(v.payload.data() + v.payload.size(), pkt.data.data() + pkt.data.size());
        EXPECT_LE(v.payload.size(), v.payload_len);
      }
      if (v.has_ip()) {
        EXPECT_LE(v.ip_bytes, v.orig_len) << entry.path();
      }
    }
  }
  EXPECT_GT(files, 50u);
  EXPECT_GT(packets, 4000u);
}

}  // namespace
}  // namespace netscope::decode::test
