// FileReader on pcapng files: real captures checked against tshark, and files built in
// the test (both byte orders, every packet block type, timestamp options, damage).

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "capture/file_reader.hpp"
#include "capture_test_util.hpp"

namespace netscope::capture {
namespace {

using test::Bytes;
using test::pcap_path;
using test::PcapngBuilder;
using test::read_all;
using test::read_bytes;
using test::TempFile;

TEST(PcapngReader, mixed_link_type_file_with_126_interfaces_reads_all_18_packets) {
  FileReader reader;
  reader.open(pcap_path("zeek/ldap_gap-data-missing.pcapng"));
  EXPECT_EQ(reader.format(), FileFormat::pcapng);
  auto packets = read_all(reader);
  EXPECT_EQ(reader.status(), ReadStatus::end);
  ASSERT_EQ(packets.size(), 18u);
  ASSERT_EQ(reader.interfaces().size(), 126u);
  std::set<int> linktypes;
  for (const auto& i : reader.interfaces()) linktypes.insert(i.linktype);
  EXPECT_GE(linktypes.size(), 3u);  // Ethernet, 802.3br, SLL...
  EXPECT_EQ(reader.interfaces()[0].name, "\\Device\\NPF_{CD09206F-6D09-4F4E-B6BE-CA2FD3B8647D}");
  EXPECT_EQ(reader.interfaces()[0].snaplen, 65535u);
  // tshark: every packet is on interface 48 (Ethernet); the first at .956327000.
  for (const auto& p : packets) {
    EXPECT_EQ(p.interface_id, 48u);
    EXPECT_EQ(p.linktype, 1);
  }
  EXPECT_EQ(packets[0].ts_ns, 1725966494'956327000);
  EXPECT_EQ(packets[3].orig_len, 1518u);
}

TEST(PcapngReader, multi_interface_file_keeps_interface_ids_and_names) {
  FileReader reader;
  reader.open(pcap_path("zeek/pcapng-multi-interface.pcapng"));
  // The interfaces are known after open(), before the first packet.
  ASSERT_EQ(reader.interfaces().size(), 2u);
  EXPECT_EQ(reader.interfaces()[0].name, "eth0");
  auto packets = read_all(reader);
  ASSERT_EQ(packets.size(), 6u);
  const std::uint32_t ids[] = {0, 0, 1, 1, 1, 1};
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(packets[i].interface_id, ids[i]);
  // tshark frame.time_epoch: interface 0 has ns resolution, interface 1 µs.
  EXPECT_EQ(packets[0].ts_ns, 1767663089'500330493);
  EXPECT_EQ(packets[5].ts_ns, 1767663437'140942000);
  EXPECT_EQ(packets[5].orig_len, 182u);
}

TEST(PcapngReader, timestamp_past_2106_does_not_wrap) {
  auto packets = read_all(pcap_path("tcpdump/time_2106_overflow.pcapng"));
  ASSERT_EQ(packets.size(), 1u);
  // tshark: 4294967296.000000000 = 2106-02-07T06:28:16Z, one past 32-bit seconds.
  EXPECT_EQ(packets[0].ts_ns, 4294967296LL * 1'000'000'000);
}

TEST(PcapngReader, zero_packet_file_ends_cleanly_with_its_interface) {
  FileReader reader;
  reader.open(pcap_path("tcpdump/empty.pcapng"));
  EXPECT_EQ(reader.interfaces().size(), 1u);
  RawPacket pkt;
  EXPECT_FALSE(reader.next(pkt));
  EXPECT_EQ(reader.status(), ReadStatus::end);
}

// Parses tshark's "1767663089.500330493" into nanoseconds.
std::int64_t epoch_ns(const std::string& s) {
  auto dot = s.find('.');
  std::string frac = s.substr(dot + 1);
  frac.resize(9, '0');
  return std::stoll(s.substr(0, dot)) * 1'000'000'000 + std::stoll(frac.substr(0, 9));
}

TEST(PcapngReader, every_packet_matches_tshark_when_tshark_is_installed) {
  if (!test::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  for (const char* name :
       {"zeek/ldap_gap-data-missing.pcapng", "zeek/pcapng-multi-interface.pcapng",
        "chrissanders/http_espn_fail.pcapng", "zeek/vlan-pcp-dei.pcapng",
        "tcpdump/tcp-handshake-nano.pcap", "zeek/tls_openjdk-25.0.2-zeek.org.pcap"}) {
    SCOPED_TRACE(name);
    std::string out;
    ASSERT_TRUE(test::run_command("tshark -r '" + pcap_path(name) +
                                      "' -T fields -e frame.time_epoch -e frame.len "
                                      "-e frame.cap_len -e frame.interface_id 2>/dev/null",
                                  out));
    auto packets = read_all(pcap_path(name));
    std::istringstream lines(out);
    std::string line;
    std::size_t i = 0;
    for (; std::getline(lines, line); ++i) {
      ASSERT_LT(i, packets.size());
      std::istringstream fields(line);
      std::string epoch;
      std::uint32_t len = 0, caplen = 0, iface = 0;
      fields >> epoch >> len >> caplen;
      if (!(fields >> iface)) iface = 0;  // pcap files have no interface id
      EXPECT_EQ(packets[i].ts_ns, epoch_ns(epoch)) << "packet " << i + 1;
      EXPECT_EQ(packets[i].orig_len, len);
      EXPECT_EQ(packets[i].data.size(), caplen);
      EXPECT_EQ(packets[i].interface_id, iface);
    }
    EXPECT_EQ(i, packets.size());
  }
}

// One section of every block kind the reader handles, in the given byte order.
Bytes sample_file(bool big_endian) {
  PcapngBuilder b(big_endian);
  b.shb();
  b.idb(1, 0, {{2, {'e', 't', 'h', '0'}}, {9, {9}}});  // Ethernet, ns
  // Raw IP; 2^-20 s units; timestamps offset by 100 s (pcapng §4.2 if_tsoffset).
  b.idb(101, 128, {{9, {0x80 | 20}}, {14, b.le_or_be64(100)}});
  b.block(4, {0, 0, 0, 0});  // Name Resolution Block: skipped
  b.epb(0, 1'500'000'000'123456789ULL, {1, 2, 3}, 60);
  b.block(0x40000BAD, {1, 2, 3, 4, 5});                              // custom block: skipped
  b.epb(1, (std::uint64_t{3} << 20) | (1u << 19), {4, 5, 6, 7, 8});  // 3.5 s + 100
  b.spb(2, {9, 9, 9, 9});                                            // orig 2 < room 4: caplen 2
  b.pb(1, std::uint64_t{1} << 20, {0xaa});                           // obsolete Packet Block
  b.block(5, {0, 0, 0, 0});  // Interface Statistics Block: skipped
  return b.bytes();
}

void expect_sample_packets(const std::string& path) {
  FileReader reader;
  reader.open(path);
  auto packets = read_all(reader);
  ASSERT_EQ(reader.status(), ReadStatus::end) << reader.error();
  ASSERT_EQ(packets.size(), 4u);
  ASSERT_EQ(reader.interfaces().size(), 2u);
  EXPECT_EQ(reader.interfaces()[0].name, "eth0");
  EXPECT_EQ(reader.interfaces()[1].linktype, 101);
  EXPECT_EQ(reader.interfaces()[1].snaplen, 128u);

  EXPECT_EQ(packets[0].ts_ns, 1'500'000'000'123456789);
  EXPECT_EQ(packets[0].data, (Bytes{1, 2, 3}));
  EXPECT_EQ(packets[0].orig_len, 60u);
  EXPECT_EQ(packets[0].linktype, 1);
  EXPECT_EQ(packets[0].file_offset, 28u + 40 + 44 + 16);  // SHB, IDB, IDB, NRB

  EXPECT_EQ(packets[1].ts_ns, 103'500'000'000);
  EXPECT_EQ(packets[1].interface_id, 1u);
  EXPECT_EQ(packets[1].linktype, 101);
  EXPECT_EQ(packets[1].data, (Bytes{4, 5, 6, 7, 8}));

  EXPECT_EQ(packets[2].interface_id, 0u);  // SPB: interface 0, previous timestamp
  EXPECT_EQ(packets[2].ts_ns, packets[1].ts_ns);
  EXPECT_EQ(packets[2].data, (Bytes{9, 9}));
  EXPECT_EQ(packets[2].orig_len, 2u);

  EXPECT_EQ(packets[3].ts_ns, 101'000'000'000);
  EXPECT_EQ(packets[3].data, (Bytes{0xaa}));
  EXPECT_EQ(packets[3].interface_id, 1u);
}

TEST(PcapngReader, built_file_reads_the_same_in_both_byte_orders) {
  for (bool big : {false, true}) {
    SCOPED_TRACE(big ? "big-endian" : "little-endian");
    TempFile tmp("sample.pcapng", sample_file(big));
    expect_sample_packets(tmp.path());
  }
}

TEST(PcapngReader, new_section_resets_interfaces_and_may_switch_byte_order) {
  PcapngBuilder le(false);
  le.shb().idb(1, 0).idb(1, 0).epb(1, 1000, {1});
  PcapngBuilder be(true);
  be.shb().idb(113, 0).epb(0, 2000, {2, 2});
  Bytes file = le.bytes();
  file.insert(file.end(), be.bytes().begin(), be.bytes().end());
  TempFile tmp("two_sections.pcapng", file);
  FileReader reader;
  reader.open(tmp.path());
  auto packets = read_all(reader);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].interface_id, 1u);
  EXPECT_EQ(packets[0].ts_ns, 1'000'000);
  EXPECT_EQ(packets[1].interface_id, 0u);
  EXPECT_EQ(packets[1].linktype, 113);
  EXPECT_EQ(packets[1].ts_ns, 2'000'000);
  EXPECT_EQ(reader.interfaces().size(), 1u);
}

TEST(PcapngReader, simple_packet_block_is_cut_to_the_snaplen) {
  PcapngBuilder b;
  b.shb().idb(1, 3).spb(100, {1, 2, 3, 4, 5, 6, 7, 8});
  TempFile tmp("spb.pcapng", b.bytes());
  auto packets = read_all(tmp.path());
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].data, (Bytes{1, 2, 3}));
  EXPECT_EQ(packets[0].orig_len, 100u);
}

TEST(PcapngReader, decimal_resolutions_finer_than_nanoseconds_divide) {
  PcapngBuilder b;
  b.shb().idb(1, 0, {{9, {12}}}).epb(0, 5'000'000'000'123456ULL, {1});  // picoseconds
  TempFile tmp("ps.pcapng", b.bytes());
  auto packets = read_all(tmp.path());
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].ts_ns, 5'000'000'000'123);
}

struct Damage {
  const char* name;
  Bytes file;
  std::size_t good_packets;
  std::uint64_t offset;
  const char* message;
};

TEST(PcapngReader, damaged_blocks_are_corrupt_at_their_offset_after_the_good_packets) {
  auto start = [] {
    PcapngBuilder b;
    b.shb().idb(1, 0).epb(0, 1, {1, 2, 3, 4});
    return b;
  };
  const std::uint64_t third = 28 + 20 + 36;  // SHB + IDB + EPB
  std::vector<Damage> cases;
  {
    auto b = start();
    b.u32(6).u32(34).raw(Bytes(30, 0));
    cases.push_back({"length not a multiple of 4", b.bytes(), 1, third,
                     "block of type 0x00000006 has an impossible total length 34"});
  }
  {
    auto b = start();
    b.u32(6).u32(8).u32(0);
    cases.push_back({"length below 12", b.bytes(), 1, third, "impossible total length 8"});
  }
  {
    auto b = start();
    b.u32(6).u32(36).raw(Bytes(24, 0)).u32(40);
    cases.push_back({"trailing length differs", b.bytes(), 1, third,
                     "has trailing length 40, total length 36"});
  }
  {
    auto b = start();
    b.u32(6).u32(32).u32(0).u32(0).u32(0).u32(9).u32(9).u32(32);
    cases.push_back({"caplen beyond block", b.bytes(), 1, third,
                     "packet 2 has captured length 9 but its block holds only 0"});
  }
  {
    auto b = start();
    b.epb(7, 1, {1});
    cases.push_back({"undefined interface", b.bytes(), 1, third,
                     "packet 2 refers to interface 7 but the section has 1"});
  }
  {
    PcapngBuilder b;
    b.shb().spb(1, {1});
    cases.push_back({"SPB before IDB", b.bytes(), 0, 28,
                     "simple packet block before any interface description block"});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (bool mmap : {true, false}) {
      TempFile tmp("damaged.pcapng", c.file);
      FileReader reader(ReaderOptions{.use_mmap = mmap});
      reader.open(tmp.path());
      EXPECT_EQ(read_all(reader).size(), c.good_packets);
      EXPECT_EQ(reader.status(), ReadStatus::corrupt);
      EXPECT_EQ(reader.offset(), c.offset);
      EXPECT_NE(reader.error().find(c.message), std::string::npos) << reader.error();
      EXPECT_NE(reader.error().find("byte offset " + std::to_string(c.offset)), std::string::npos)
          << reader.error();
      EXPECT_EQ(reader.error().rfind(tmp.path() + ": ", 0), 0u) << reader.error();
    }
  }
}

TEST(PcapngReader, file_cut_mid_block_is_truncated_with_the_block_offset) {
  const std::string name = pcap_path("chrissanders/http_espn_fail.pcapng");
  Bytes file = read_bytes(name);
  auto packets = read_all(name);
  ASSERT_EQ(packets.size(), 569u);
  const std::size_t k = 300;
  const std::uint64_t at = packets[k].file_offset;
  for (bool mmap : {true, false}) {
    TempFile tmp("cut.pcapng", Bytes(file.begin(), file.begin() + static_cast<long>(at + 21)));
    FileReader reader(ReaderOptions{.use_mmap = mmap});
    reader.open(tmp.path());
    EXPECT_EQ(read_all(reader).size(), k);
    EXPECT_EQ(reader.status(), ReadStatus::truncated);
    EXPECT_EQ(reader.offset(), at);
    EXPECT_NE(
        reader.error().find(": file ends in the middle of packet 301 (record at byte offset " +
                            std::to_string(at) + " needs "),
        std::string::npos)
        << reader.error();
    EXPECT_NE(reader.error().find(" bytes, 21 remain)"), std::string::npos) << reader.error();
  }
}

TEST(PcapngReader, bad_section_header_fails_open) {
  PcapngBuilder bad_bom;
  bad_bom.u32(0x0A0D0D0A).u32(28).u32(0x11223344).raw(Bytes(16, 0));
  TempFile a("bad_bom.pcapng", bad_bom.bytes());
  FileReader reader;
  EXPECT_THROW(reader.open(a.path()), std::runtime_error);
  PcapngBuilder v2;
  v2.u32(0x0A0D0D0A).u32(28).u32(0x1A2B3C4D).u16(2).u16(0).u64(0).u32(28);
  TempFile b("v2.pcapng", v2.bytes());
  try {
    reader.open(b.path());
    FAIL() << "opened a version 2 pcapng";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported pcapng version 2.0"), std::string::npos);
  }
}

}  // namespace
}  // namespace netscope::capture
