// TcpTracker against tshark 4.0's TCP analysis, frame by frame, on every shared capture
// that carries TCP and on a capture of corner cases written at test time. tshark runs
// live (STYLE.md, Tests §2: compare with the oracle, not with a frozen file).
//
// A mismatch names the file, frame and flag. Where we differ from tshark on purpose, the
// difference is listed in kKnownDifferences with the reason; anything else fails.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "replay.hpp"

namespace netscope::test {
namespace {

namespace ta = flow::tcp_analysis;

struct FlagColumn {
  std::string_view tshark_field;  // tcp.analysis.<name>
  std::uint32_t bit;
};

// Our `retransmission` bit is set on fast and spurious retransmissions too, as tshark's
// tcp.analysis.retransmission field is (checked: chrissanders/tcp_dupack.pcapng frame 8,
// packetmancer/captures_http.cap frame 36), and as the Conventions count them.
constexpr std::array<FlagColumn, 12> kColumns{{
    {"retransmission", ta::retransmission},
    {"fast_retransmission", ta::fast_retransmission},
    {"spurious_retransmission", ta::spurious_retransmission},
    {"out_of_order", ta::out_of_order},
    {"duplicate_ack", ta::dup_ack},
    {"zero_window", ta::zero_window},
    {"window_full", ta::window_full},
    {"lost_segment", ta::lost_segment},
    {"keep_alive", ta::keep_alive},
    {"window_update", ta::window_update},
    {"ack_lost_segment", ta::ack_unseen},
    {"zero_window_probe", ta::zero_window_probe},
}};

struct TsharkFrame {
  std::uint32_t flags = 0;
  int dup_ack_num = 0;
};

struct KnownDifference {
  std::string_view file;
  std::uint32_t frame;
  std::uint32_t bit;
  bool only_ours;  // true: we flag it and tshark does not
};

// Deliberate differences from tshark 4.0.17.
constexpr KnownDifference kKnownDifferences[] = {
    // After an "ACKed unseen segment" from the server (frame 8), tshark 4.0 calls each
    // later retransmission that repeats the client's last ACK within 20 ms "fast", with
    // no duplicate ACKs before it, until the client's ACK number changes (reproduced
    // with crafted captures). The User's Guide requires more than two duplicate ACKs; we
    // follow the definition. These frames still count as retransmissions on both sides.
    {"zeek/tcp_reassembly.pcap", 8, ta::fast_retransmission, false},
    {"zeek/tcp_reassembly.pcap", 10, ta::fast_retransmission, false},
    {"zeek/tcp_reassembly.pcap", 12, ta::fast_retransmission, false},
    // The highest acknowledgeable sequence number tshark keeps after a run of gaps,
    // retransmissions and malformed (IP length > frame) segments in this stress trace
    // is not reproducible from its documented definitions; these ACKs cover data the
    // client was never seen sending in order, so we report them. Not a health counter.
    {"zeek/tcp_reassembly.pcap", 37, ta::ack_unseen, true},
    {"zeek/tcp_reassembly.pcap", 105, ta::ack_unseen, true},
    {"zeek/tcp_reassembly.pcap", 113, ta::ack_unseen, true},
};

bool have_tshark() {
  return std::system("tshark -v >/dev/null 2>&1") == 0;
}

std::map<std::uint32_t, TsharkFrame> run_tshark(const std::string& path) {
  std::string cmd = "tshark -n -o tcp.analyze_sequence_numbers:TRUE -r '" + path +
                    "' -Y tcp -T fields -e frame.number -e tcp.analysis.duplicate_ack_num";
  for (const auto& c : kColumns) cmd += " -e tcp.analysis." + std::string(c.tshark_field);
  cmd += " 2>/dev/null";
  std::map<std::uint32_t, TsharkFrame> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 2 + kColumns.size()) continue;
    TsharkFrame f;
    if (!cols[1].empty()) f.dup_ack_num = std::atoi(cols[1].c_str());
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
      std::string v = cols[2 + i];
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      if (!v.empty()) f.flags |= kColumns[i].bit;
    }
    out[static_cast<std::uint32_t>(std::stoul(cols[0]))] = f;
  }
  pclose(p);
  return out;
}

bool is_known(std::string_view file, std::uint32_t frame, std::uint32_t bit, bool only_ours) {
  for (const auto& k : kKnownDifferences) {
    if (k.file == file && k.frame == frame && k.bit == bit && k.only_ours == only_ours) return true;
  }
  return false;
}

// Compares `path` (named `label` in kKnownDifferences) frame by frame, then the health
// counters the Conventions define against tshark's per-file counts.
void compare_capture(const std::string& path, std::string_view label) {
  const auto theirs = run_tshark(path);
  ASSERT_FALSE(theirs.empty()) << "tshark found no TCP in " << path;
  const ReplayResult ours = replay_tcp(path);

  std::uint32_t expected_only_ours = 0;
  std::uint64_t tshark_retx = 0, tshark_fast = 0, tshark_spurious = 0, tshark_ooo = 0,
                tshark_dup = 0, tshark_dup_events = 0, tshark_zero = 0, tshark_full = 0,
                tshark_lost = 0, tshark_keep_alive = 0;
  for (const auto& [frame, t] : theirs) {
    const auto it = ours.frames.find(frame);
    const std::uint32_t mine = it == ours.frames.end() ? 0 : it->second.flags;
    for (const auto& c : kColumns) {
      const bool in_theirs = (t.flags & c.bit) != 0;
      const bool in_mine = (mine & c.bit) != 0;
      if (in_theirs == in_mine) continue;
      if (is_known(label, frame, c.bit, in_mine)) {
        if (in_mine && c.bit == ta::dup_ack) ++expected_only_ours;
        continue;
      }
      ADD_FAILURE() << label << " frame " << frame << ": tcp.analysis." << c.tshark_field
                    << (in_mine ? " flagged by us only" : " flagged by tshark only");
    }
    tshark_retx += (t.flags & ta::retransmission) != 0;
    tshark_fast += (t.flags & ta::fast_retransmission) != 0;
    tshark_spurious += (t.flags & ta::spurious_retransmission) != 0;
    tshark_ooo += (t.flags & ta::out_of_order) != 0;
    tshark_dup += (t.flags & ta::dup_ack) != 0;
    tshark_dup_events += t.dup_ack_num == 3;  // a run of 3+ reaches #3 exactly once
    tshark_zero += (t.flags & ta::zero_window) != 0;
    tshark_full += (t.flags & ta::window_full) != 0;
    tshark_lost += (t.flags & ta::lost_segment) != 0;
    tshark_keep_alive += (t.flags & ta::keep_alive) != 0;
  }
  for (const auto& [frame, f] : ours.frames) {
    if (f.flags != 0 && theirs.find(frame) == theirs.end()) {
      ADD_FAILURE() << label << " frame " << frame << ": flagged by us, not TCP to tshark";
    }
  }

  flow::TcpHealth sum;
  for (const auto& tr : ours.trackers) {
    for (int dir = 0; dir < 2; ++dir) {
      const auto& h = tr.health(dir);
      sum.retransmissions += h.retransmissions;
      sum.fast_retransmissions += h.fast_retransmissions;
      sum.spurious_retransmissions += h.spurious_retransmissions;
      sum.out_of_order += h.out_of_order;
      sum.dup_acks += h.dup_acks;
      sum.dup_ack_events += h.dup_ack_events;
      sum.zero_windows += h.zero_windows;
      sum.window_full += h.window_full;
      sum.lost_segments += h.lost_segments;
      sum.keep_alives += h.keep_alives;
    }
  }
  // The Conventions: retransmissions = tshark's retransmission || fast || spurious,
  // which is tshark's retransmission field alone (it is set on the other two as well).
  EXPECT_EQ(sum.retransmissions, tshark_retx) << label;
  EXPECT_EQ(sum.spurious_retransmissions, tshark_spurious) << label;
  EXPECT_EQ(sum.out_of_order, tshark_ooo) << label;
  EXPECT_EQ(sum.dup_acks, tshark_dup + expected_only_ours) << label;
  EXPECT_EQ(sum.zero_windows, tshark_zero) << label;
  EXPECT_EQ(sum.window_full, tshark_full) << label;
  EXPECT_EQ(sum.lost_segments, tshark_lost) << label;
  EXPECT_EQ(sum.keep_alives, tshark_keep_alive) << label;
  if (label != "zeek/tcp_reassembly.pcap") {
    EXPECT_EQ(sum.fast_retransmissions, tshark_fast) << label;
  }
  if (expected_only_ours == 0) {
    EXPECT_EQ(sum.dup_ack_events, tshark_dup_events) << label;
  }
}

// Every shared capture in which tshark finds TCP.
const char* const kCaptures[] = {
    "chrissanders/dns_tcp.pcapng",
    "chrissanders/http_espn_fail.pcapng",
    "chrissanders/http_google.pcapng",
    "chrissanders/http_ip4and6.pcapng",
    "chrissanders/latency1.pcapng",
    "chrissanders/latency2.pcapng",
    "chrissanders/latency4.pcapng",
    "chrissanders/nowebaccess2.pcapng",
    "chrissanders/tcp_dupack.pcapng",
    "chrissanders/tcp_refuseconnection.pcapng",
    "chrissanders/tcp_retransmissions.pcapng",
    "chrissanders/tcp_zerowindowdead.pcapng",
    "chrissanders/tcp_zerowindowrecovery.pcapng",
    "packetmancer/captures_http.cap",
    "packetmancer/captures_tcp-ecn-sample.pcap",
    "packetmancer/captures_telnet-cooked.pcap",
    "packetmancer/tests_fixtures_tiny.pcap",
    "tcpdump/ssh.pcap",
    "tcpdump/tcp-handshake-nano.pcap",
    "tcpdump/tcp_rst_data-trunc.pcap",
    "tcpdump/timestamp_invalid_micro.pcap",
    "zeek/http-qinq-0.pcap",
    "zeek/http-vlan-0.pcap",
    "zeek/http_206_example_b.pcap",
    "zeek/http_pipelined-requests.pcap",
    "zeek/ipv6-http-atomic-frag.pcap",
    "zeek/ldap_gap-data-missing.pcapng",
    "zeek/mixed-vlan-mpls.pcap",
    "zeek/nflog-http.pcap",
    "zeek/ssh_single-conn.pcap",
    "zeek/ssh_ssh-on-port-80.pcap",
    "zeek/tcp_ctu-64702-888.pcap",
    "zeek/tcp_option-sack.pcap",
    "zeek/tcp_reassembly.pcap",
    "zeek/tcp_retransmit-fast009.pcap",
    "zeek/tcp_ssh-dups.pcap",
    "zeek/tcp_syn-bad.pcap",
    "zeek/tcp_tcp-fast-open.pcap",
    "zeek/tcp_truncated-header.pcap",
    "zeek/tls_certificate-with-sct.pcap",
    "zeek/tls_chrome-1250-tls-x25519-kyber.pcap",
    "zeek/tls_chrome-34-google.pcap",
    "zeek/tls_hrr.pcap",
    "zeek/tls_irc-starttls.pcap",
    "zeek/tls_openjdk-25.0.2-zeek.org.pcap",
    "zeek/tls_tls12-decryption.pcap",
    "zeek/tls_tls13-ech.pcap",
    "zeek/tls_tls13_wolfssl.pcap",
    "zeek/vlan-pcp-dei.pcapng",
    "zeek/wikipedia.pcap",
};

std::string pcap_path(std::string_view rel) {
  return std::string(NETSCOPE_PCAPS) + "/" + std::string(rel);
}

class TsharkAgreement : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  }
};

TEST_P(TsharkAgreement, tcp_analysis_flags_match_tshark_per_frame) {
  compare_capture(pcap_path(GetParam()), GetParam());
}

INSTANTIATE_TEST_SUITE_P(SharedCaptures, TsharkAgreement, ::testing::ValuesIn(kCaptures),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(TsharkAgreementCornerCases, crafted_corner_cases_match_tshark_per_frame) {
  if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  if (std::system("/usr/bin/python3 -c 'import scapy.all' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-scapy not installed";
  }
  const auto dir = std::filesystem::path(::testing::TempDir()) / "netscope_tcp_corner_cases";
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "corner_cases.pcap").string();
  const std::string cmd = std::string("/usr/bin/python3 '") + NETSCOPE_CORNER_CASES_SCRIPT + "' '" +
                          out + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  compare_capture(out, "corner_cases.pcap");
  // The script's connections, in order of first packet, as the tracker sees them.
  const ReplayResult r = replay_tcp(out);
  ASSERT_EQ(r.trackers.size(), 8u);
  EXPECT_EQ(r.trackers[1].health(0).retransmissions, 2u) << "two re-sent SYNs";
  EXPECT_EQ(r.trackers[2].health(0).keep_alives, 4u);
  EXPECT_EQ(r.trackers[2].health(0).retransmissions, 0u);
  EXPECT_EQ(r.trackers[4].window_scale(0), 7);
  EXPECT_EQ(r.trackers[4].health(0).window_full, 1u);
  EXPECT_EQ(r.trackers[5].health(0).fast_retransmissions, 1u);
  EXPECT_EQ(r.trackers[5].health(1).dup_ack_events, 1u);
  EXPECT_TRUE(r.trackers[7].refused());
}

// Handshake RTT against tshark's tcp.analysis.initial_rtt, and the data RTT samples
// against its tcp.analysis.ack_rtt (no retransmissions in these captures, so Karn's rule
// drops nothing and the sample sets are the same).
TEST(TsharkAgreementRtt, handshake_and_data_rtt_match_tshark_on_latency_captures) {
  if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  for (const char* rel : {"chrissanders/latency1.pcapng", "chrissanders/latency2.pcapng",
                          "chrissanders/latency4.pcapng"}) {
    const std::string path = pcap_path(rel);
    const std::string cmd = "tshark -n -r '" + path +
                            "' -Y tcp -T fields -e tcp.analysis.initial_rtt "
                            "-e tcp.analysis.ack_rtt 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    double irtt = -1, min_rtt = 1e18, max_rtt = -1;
    std::uint64_t samples = 0;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) {
      std::stringstream ss(line);
      std::string a, b;
      std::getline(ss, a, '\t');
      std::getline(ss, b, '\t');
      if (!a.empty() && a != "\n") irtt = std::stod(a) * 1000;
      if (!b.empty() && b != "\n") {
        const double ms = std::stod(b) * 1000;
        ++samples;
        min_rtt = std::min(min_rtt, ms);
        max_rtt = std::max(max_rtt, ms);
      }
    }
    pclose(p);
    const ReplayResult r = replay_tcp(path);
    ASSERT_EQ(r.trackers.size(), 1u) << rel;
    const auto& t = r.trackers[0];
    ASSERT_TRUE(t.handshake_rtt_ms()) << rel;
    EXPECT_NEAR(*t.handshake_rtt_ms(), irtt, 0.001) << rel;
    EXPECT_EQ(t.rtt().count(), samples) << rel;
    EXPECT_NEAR(*t.rtt().min_ms(), min_rtt, 0.001) << rel;
    EXPECT_NEAR(*t.rtt().max_ms(), max_rtt, 0.001) << rel;
  }
}

}  // namespace
}  // namespace netscope::test
