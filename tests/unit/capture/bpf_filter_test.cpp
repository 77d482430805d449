// BpfFilter against tcpdump: the same expression on the same file must select the same
// packets. Counts are hard-coded (checked with tcpdump 4.99.3 / libpcap 1.10.3) and,
// when tcpdump is installed, also compared with a live run.

#include "capture/bpf_filter.hpp"

#include <gtest/gtest.h>

#include "capture/file_reader.hpp"
#include "capture_test_util.hpp"

namespace netscope::capture {
namespace {

using test::pcap_path;

std::size_t count_matches(const std::string& file, const std::string& expression) {
  BpfFilter filter(expression);
  FileReader reader;
  reader.open(file);
  filter.prepare(reader.interfaces().at(0).linktype);
  RawPacket pkt;
  std::size_t n = 0;
  while (reader.next(pkt)) n += filter.matches(pkt) ? 1 : 0;
  EXPECT_EQ(reader.status(), ReadStatus::end);
  return n;
}

// Counts with tcpdump writing the matches to a file and our reader counting them, so
// multi-line tcpdump output cannot skew the number.
std::size_t tcpdump_count(const std::string& file, const std::string& expression) {
  test::TempFile out("tcpdump_out.pcap");
  std::string ignored;
  EXPECT_TRUE(test::run_command(
      "tcpdump -r '" + file + "' -w '" + out.path() + "' '" + expression + "' 2>/dev/null",
      ignored));
  return test::read_all(out.path()).size();
}

struct Expectation {
  const char* file;
  const char* expression;
  std::size_t matches;
};

TEST(BpfFilter, selects_the_same_packets_as_tcpdump) {
  const Expectation cases[] = {
      {"packetmancer/captures_http.cap", "tcp", 41},
      {"packetmancer/captures_http.cap", "udp port 53", 2},
      {"packetmancer/captures_http.cap", "tcp[tcpflags] & tcp-syn != 0", 2},
      {"zeek/http_206_example_b.pcap", "tcp[tcpflags] & tcp-syn != 0", 4},
      {"zeek/mixed-vlan-mpls.pcap", "vlan", 14},
      {"tcpdump/LINKTYPE_RAW_ipv4.pcap", "udp port 53", 1},   // LINKTYPE_RAW -> DLT_RAW
      {"tcpdump/tcp-handshake-nano.pcap", "tcp port 80", 3},  // Linux SLL
  };
  const bool have_tcpdump = test::have_tool("tcpdump");
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.file) + " '" + c.expression + "'");
    const std::size_t ours = count_matches(pcap_path(c.file), c.expression);
    EXPECT_EQ(ours, c.matches);
    if (have_tcpdump) {
      EXPECT_EQ(ours, tcpdump_count(pcap_path(c.file), c.expression));
    }
  }
}

TEST(BpfFilter, compiles_lazily_per_link_type_in_mixed_pcapng) {
  // libpcap refuses this file (126 interfaces, mixed link types), so tshark is the oracle:
  // all 18 packets are 802.1Q-tagged IPv6/TCP (tshark -Y "vlan and ipv6 and tcp").
  BpfFilter tagged("vlan and ip6 and tcp");
  BpfFilter untagged("ip6");  // BPF "ip6" looks at the outer ethertype only
  FileReader reader;
  reader.open(pcap_path("zeek/ldap_gap-data-missing.pcapng"));
  RawPacket pkt;
  std::size_t n_tagged = 0, n_untagged = 0;
  while (reader.next(pkt)) {
    n_tagged += tagged.matches(pkt) ? 1 : 0;
    n_untagged += untagged.matches(pkt) ? 1 : 0;
  }
  EXPECT_EQ(n_tagged, 18u);
  EXPECT_EQ(n_untagged, 0u);
  EXPECT_TRUE(tagged.compile_errors().empty());
}

TEST(BpfFilter, prepare_throws_with_expression_and_libpcap_message) {
  BpfFilter filter("tcp port banana");
  try {
    filter.prepare(1);
    FAIL() << "compiled a bad expression";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'tcp port banana'"), std::string::npos) << what;
    EXPECT_NE(what.find("EN10MB"), std::string::npos) << what;
    EXPECT_NE(what.find("banana"), std::string::npos) << what;
  }
}

TEST(BpfFilter, link_type_the_expression_cannot_apply_to_matches_nothing) {
  BpfFilter filter("ether host 00:11:22:33:44:55");
  FileReader reader;
  reader.open(pcap_path("tcpdump/LINKTYPE_RAW_ipv4.pcap"));
  RawPacket pkt;
  ASSERT_TRUE(reader.next(pkt));
  EXPECT_FALSE(filter.matches(pkt));
  ASSERT_EQ(filter.compile_errors().count(101), 1u);
  EXPECT_FALSE(filter.compile_errors().at(101).empty());
  EXPECT_THROW(filter.prepare(101), std::runtime_error);
}

TEST(BpfFilter, empty_expression_matches_everything) {
  EXPECT_EQ(count_matches(pcap_path("packetmancer/captures_http.cap"), ""), 43u);
}

}  // namespace
}  // namespace netscope::capture
