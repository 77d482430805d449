// FileReader on classic pcap files: real captures, byte-swapped copies, cut and damaged
// files, and open errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "capture/file_reader.hpp"
#include "capture_test_util.hpp"
#include "core/bytes.hpp"

namespace netscope::capture {
namespace {

using test::Bytes;
using test::pcap_path;
using test::read_all;
using test::read_bytes;
using test::TempFile;

struct IndexedCapture {
  std::string file;
  std::uint64_t packets;
};

// The packet counts in INDEX.md come from capinfos (Wireshark 4.0.17).
std::vector<IndexedCapture> indexed_captures() {
  std::ifstream index(pcap_path("INDEX.md"));
  std::vector<IndexedCapture> out;
  std::string line, dir;
  while (std::getline(index, line)) {
    if (line.rfind("## ", 0) == 0) {
      dir = line.back() == '/' ? line.substr(3) : "";
      continue;
    }
    if (dir.empty() || line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    if (cells.size() < 6 || cells[5].empty() ||
        cells[5].find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    out.push_back({dir + cells[0], std::stoull(cells[5])});
  }
  return out;
}

TEST(PcapReader, every_indexed_capture_has_the_capinfos_packet_count_mapped_and_streamed) {
  auto captures = indexed_captures();
  ASSERT_GE(captures.size(), 80u);
  for (const auto& c : captures) {
    SCOPED_TRACE(c.file);
    auto mapped = read_all(pcap_path(c.file));
    EXPECT_EQ(mapped.size(), c.packets);
    // A 64-byte first buffer makes almost every record cross a refill.
    auto streamed =
        read_all(pcap_path(c.file), ReaderOptions{.use_mmap = false, .stream_buffer_bytes = 64});
    ASSERT_EQ(streamed.size(), mapped.size());
    for (std::size_t i = 0; i < mapped.size(); ++i) {
      EXPECT_EQ(streamed[i].data, mapped[i].data);
      EXPECT_EQ(streamed[i].ts_ns, mapped[i].ts_ns);
      EXPECT_EQ(streamed[i].file_offset, mapped[i].file_offset);
    }
  }
}

TEST(PcapReader, nanosecond_pcap_keeps_nanoseconds_as_tshark_shows_them) {
  FileReader reader;
  reader.open(pcap_path("tcpdump/tcp-handshake-nano.pcap"));
  EXPECT_EQ(reader.format(), FileFormat::pcap);
  ASSERT_EQ(reader.interfaces().size(), 1u);
  EXPECT_EQ(reader.interfaces()[0].linktype, 113);  // LINUX_SLL
  auto packets = read_all(reader);
  ASSERT_EQ(packets.size(), 3u);
  // tshark -r tcp-handshake-nano.pcap -T fields -e frame.time_epoch -e frame.len
  EXPECT_EQ(packets[0].ts_ns, 1418145369924505488);
  EXPECT_EQ(packets[1].ts_ns, 1418145370052027262);
  EXPECT_EQ(packets[2].ts_ns, 1418145370052115157);
  EXPECT_EQ(packets[0].orig_len, 76u);
  EXPECT_EQ(packets[2].orig_len, 68u);
  EXPECT_EQ(packets[2].data.size(), 68u);
  EXPECT_EQ(packets[0].linktype, 113);
  EXPECT_EQ(packets[0].file_offset, 24u);
  EXPECT_EQ(packets[1].file_offset, 24u + 16 + 76);
  EXPECT_EQ(reader.status(), ReadStatus::end);
  EXPECT_EQ(reader.offset(), 292u);  // the file size
}

TEST(PcapReader, microseconds_of_a_million_or_more_carry_into_seconds) {
  auto packets = read_all(pcap_path("tcpdump/timestamp_invalid_micro.pcap"));
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0].ts_ns, 1418145369'999999000);  // usec 999999: valid
  EXPECT_EQ(packets[1].ts_ns, 1418145371'000000000);  // sec 1418145370, usec 1000000
}

// Rewrites a little-endian pcap file in big-endian byte order.
Bytes byte_swap_pcap(Bytes b) {
  auto swap32 = [&](std::size_t at) { std::reverse(b.begin() + at, b.begin() + at + 4); };
  auto swap16 = [&](std::size_t at) { std::reverse(b.begin() + at, b.begin() + at + 2); };
  swap32(0);
  swap16(4);
  swap16(6);
  for (std::size_t at = 8; at < 24; at += 4) swap32(at);
  std::size_t at = 24;
  while (at + 16 <= b.size()) {
    std::uint32_t caplen = core::load_le32(&b[at + 8]);
    for (std::size_t f = 0; f < 16; f += 4) swap32(at + f);
    at += 16 + caplen;
  }
  return b;
}

TEST(PcapReader, big_endian_files_read_like_their_little_endian_originals) {
  for (const char* name : {"packetmancer/captures_http.cap", "tcpdump/tcp-handshake-nano.pcap"}) {
    SCOPED_TRACE(name);
    Bytes original = read_bytes(pcap_path(name));
    Bytes swapped = byte_swap_pcap(original);
    ASSERT_NE(swapped, original);
    ASSERT_EQ(swapped[0], 0xa1);  // now big-endian magic
    TempFile tmp("swapped.pcap", swapped);
    auto expected = read_all(pcap_path(name));
    auto actual = read_all(tmp.path());
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      EXPECT_EQ(actual[i].ts_ns, expected[i].ts_ns);
      EXPECT_EQ(actual[i].data, expected[i].data);
      EXPECT_EQ(actual[i].orig_len, expected[i].orig_len);
      EXPECT_EQ(actual[i].linktype, expected[i].linktype);
    }
  }
}

void expect_truncated_at(const Bytes& file, std::size_t cut, std::size_t packets_before,
                         std::uint64_t record_offset, std::size_t need, bool mmap) {
  TempFile tmp("cut.pcap", Bytes(file.begin(), file.begin() + static_cast<long>(cut)));
  FileReader reader(ReaderOptions{.use_mmap = mmap});
  reader.open(tmp.path());
  auto packets = read_all(reader);
  EXPECT_EQ(packets.size(), packets_before);
  EXPECT_EQ(reader.status(), ReadStatus::truncated);
  EXPECT_EQ(reader.offset(), record_offset);
  const std::string expected = tmp.path() + ": file ends in the middle of packet " +
                               std::to_string(packets_before + 1) + " (record at byte offset " +
                               std::to_string(record_offset) + " needs " + std::to_string(need) +
                               " bytes, " + std::to_string(cut - record_offset) + " remain)";
  EXPECT_EQ(reader.error(), expected);
  RawPacket pkt;
  EXPECT_FALSE(reader.next(pkt));  // stays stopped
  EXPECT_EQ(reader.status(), ReadStatus::truncated);
}

TEST(PcapReader, file_cut_mid_record_returns_every_earlier_packet_and_names_the_offset) {
  const std::string name = pcap_path("packetmancer/captures_http.cap");
  Bytes file = read_bytes(name);
  auto packets = read_all(name);
  ASSERT_EQ(packets.size(), 43u);
  for (bool mmap : {true, false}) {
    SCOPED_TRACE(mmap ? "mmap" : "stream");
    const std::size_t k = 20;  // cut packet index (0-based)
    const std::uint64_t at = packets[k].file_offset;
    const std::size_t need = 16 + packets[k].data.size();
    expect_truncated_at(file, at + 16 + 7, k, at, need, mmap);  // in the data
    expect_truncated_at(file, at + 9, k, at, 16, mmap);         // in the record header
    expect_truncated_at(file, file.size() - 1, 42, packets[42].file_offset,
                        16 + packets[42].data.size(), mmap);
  }
}

TEST(PcapReader, impossible_captured_length_is_corrupt_after_the_good_packets) {
  Bytes file = read_bytes(pcap_path("packetmancer/captures_http.cap"));
  auto packets = read_all(pcap_path("packetmancer/captures_http.cap"));
  const std::uint64_t at = packets[3].file_offset;
  const std::uint32_t huge = 300000;  // above the 65535 snaplen and libpcap's 256 KiB
  std::memcpy(&file[at + 8], &huge, 4);
  TempFile tmp("bad_caplen.pcap", file);
  FileReader reader;
  reader.open(tmp.path());
  EXPECT_EQ(read_all(reader).size(), 3u);
  EXPECT_EQ(reader.status(), ReadStatus::corrupt);
  EXPECT_EQ(reader.offset(), at);
  EXPECT_NE(reader.error().find("packet 4 has captured length 300000"), std::string::npos)
      << reader.error();
  EXPECT_NE(reader.error().find("byte offset " + std::to_string(at)), std::string::npos);
}

Bytes pcap_header(std::uint32_t magic, std::uint32_t snaplen, std::uint32_t linktype) {
  test::PcapngBuilder b;  // little-endian field writer
  b.u32(magic).u16(2).u16(4).u32(0).u32(0).u32(snaplen).u32(linktype);
  return b.bytes();
}

TEST(PcapReader, captured_length_above_original_length_is_kept) {
  test::PcapngBuilder b;
  b.raw(pcap_header(0xa1b2c3d4, 65535, 1)).u32(1).u32(2).u32(4).u32(2).raw({1, 2, 3, 4});
  TempFile tmp("caplen_gt_origlen.pcap", b.bytes());
  auto packets = read_all(tmp.path());
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].data, (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(packets[0].orig_len, 4u);  // raised to caplen
  EXPECT_EQ(packets[0].ts_ns, 1'000'002'000);
}

TEST(PcapReader, modified_pcap_records_have_24_byte_headers) {
  test::PcapngBuilder b;
  b.raw(pcap_header(0xa1b2cd34, 65535, 1));
  b.u32(5).u32(0).u32(2).u32(2).u32(7).u16(0x0800).raw({0, 0}).raw({0xaa, 0xbb});
  b.u32(6).u32(0).u32(1).u32(1).u32(7).u16(0x0800).raw({0, 0}).raw({0xcc});
  TempFile tmp("modified.pcap", b.bytes());
  auto packets = read_all(tmp.path());
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].data, (Bytes{0xaa, 0xbb}));
  EXPECT_EQ(packets[1].data, (Bytes{0xcc}));
  EXPECT_EQ(packets[1].ts_ns, 6'000'000'000);
}

TEST(PcapReader, zero_packet_file_ends_cleanly) {
  FileReader reader;
  reader.open(pcap_path("zeek/empty.pcap"));
  RawPacket pkt;
  EXPECT_FALSE(reader.next(pkt));
  EXPECT_EQ(reader.status(), ReadStatus::end);
  EXPECT_TRUE(reader.error().empty());
  ASSERT_EQ(reader.interfaces().size(), 1u);
  EXPECT_EQ(reader.interfaces()[0].linktype, 1);
}

std::string open_error(const std::string& path) {
  FileReader reader;
  try {
    reader.open(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PcapReader, open_errors_name_the_file_and_the_reason) {
  EXPECT_EQ(open_error("/nonexistent/x.pcap"),
            "/nonexistent/x.pcap: cannot open: No such file or directory");
  EXPECT_NE(open_error("/tmp").find("/tmp: read failed: Is a directory"), std::string::npos);
  TempFile empty("empty.bin");
  EXPECT_EQ(open_error(empty.path()), empty.path() + ": empty file");
  TempFile text("notes.pcap", Bytes{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6});
  EXPECT_EQ(open_error(text.path()),
            text.path() + ": not a pcap or pcapng capture file (first bytes: de ad be ef)");
  TempFile tiny("tiny.pcap", Bytes{0xd4, 0xc3});
  EXPECT_EQ(open_error(tiny.path()), tiny.path() + ": too short to be a capture file (2 bytes)");
  Bytes v1 = pcap_header(0xa1b2c3d4, 65535, 1);
  v1[4] = 1;
  TempFile old("old.pcap", v1);
  EXPECT_EQ(open_error(old.path()), old.path() + ": unsupported pcap version 1.4 (expected 2.x)");
  Bytes short_header = pcap_header(0xa1b2c3d4, 65535, 1);
  short_header.resize(20);
  TempFile cut("cut_header.pcap", short_header);
  EXPECT_EQ(open_error(cut.path()),
            cut.path() + ": pcap file header is truncated (20 of 24 bytes)");
}

TEST(PcapReader, plain_files_are_zero_copy_unless_mmap_is_off) {
  FileReader mapped;
  mapped.open(pcap_path("zeek/tcp_option-sack.pcap"));
  EXPECT_TRUE(mapped.zero_copy());
  EXPECT_EQ(mapped.file_size(), 400u);
  FileReader streamed(ReaderOptions{.use_mmap = false});
  streamed.open(pcap_path("zeek/tcp_option-sack.pcap"));
  EXPECT_FALSE(streamed.zero_copy());
  EXPECT_EQ(read_all(streamed).size(), 4u);
}

TEST(PcapReader, memory_input_reads_in_place) {
  Bytes file = read_bytes(pcap_path("zeek/tcp_option-sack.pcap"));
  FileReader reader;
  reader.open_memory(file, "sack.pcap");
  RawPacket pkt;
  ASSERT_TRUE(reader.next(pkt));
  EXPECT_EQ(pkt.data.data(), file.data() + 24 + 16);
  EXPECT_EQ(reader.path(), "sack.pcap");
}

TEST(LinktypeName, names_known_types_with_description_and_numbers_unknown_ones) {
  EXPECT_EQ(linktype_name(1), "EN10MB (Ethernet)");
  EXPECT_EQ(linktype_name(276), "LINUX_SLL2 (Linux cooked v2)");
  EXPECT_EQ(linktype_name(101), "RAW (Raw IP)");  // LINKTYPE_RAW is DLT_RAW (12)
  EXPECT_EQ(linktype_name(160), "DLT 160");
}

}  // namespace
}  // namespace netscope::capture
