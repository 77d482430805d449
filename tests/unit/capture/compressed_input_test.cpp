// FileReader's streaming path: gzip and zstd files (compressed in the test), FIFOs,
// stdin, and the per-record bound of the streaming buffer.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <thread>

#include "capture/file_reader.hpp"
#include "capture_test_util.hpp"

namespace netscope::capture {
namespace {

using test::Bytes;
using test::pcap_path;
using test::read_all;
using test::read_bytes;
using test::TempFile;

Bytes gzip(const Bytes& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes zstd(const Bytes& in) {
  Bytes out(ZSTD_compressBound(in.size()));
  std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Compresses each half separately and concatenates: `cat a.gz b.gz` / `zstd` frames.
template <typename Compress>
Bytes two_members(const Bytes& in, Compress compress) {
  const auto half = static_cast<long>(in.size() / 2);
  return concat(compress(Bytes(in.begin(), in.begin() + half)),
                compress(Bytes(in.begin() + half, in.end())));
}

void expect_same_packets(const std::vector<test::Packet>& a, const std::vector<test::Packet>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].data, b[i].data);
    EXPECT_EQ(a[i].ts_ns, b[i].ts_ns);
    EXPECT_EQ(a[i].file_offset, b[i].file_offset);
    EXPECT_EQ(a[i].interface_id, b[i].interface_id);
  }
}

// 1.49 MB: larger than the streaming buffer's first allocation, so refills are exercised.
const char* kBig = "zeek/http_206_example_b.pcap";

TEST(CompressedInput, gzip_and_zstd_files_read_like_the_plain_file) {
  for (const char* name : {kBig, "chrissanders/http_espn_fail.pcapng"}) {
    SCOPED_TRACE(name);
    Bytes plain = read_bytes(pcap_path(name));
    auto expected = read_all(pcap_path(name));
    struct Case {
      const char* file;
      Bytes bytes;
    };
    const Case cases[] = {
        {"c.pcap.gz", gzip(plain)},
        {"c.pcap.zst", zstd(plain)},
        {"two_members.gz", two_members(plain, gzip)},
        {"two_frames.zst", two_members(plain, zstd)},
        {"no_extension.bin", gzip(plain)},  // recognised by magic, not by name
    };
    for (const auto& c : cases) {
      SCOPED_TRACE(c.file);
      TempFile tmp(c.file, c.bytes);
      FileReader reader;
      reader.open(tmp.path());
      EXPECT_FALSE(reader.zero_copy());
      EXPECT_EQ(reader.file_size(), c.bytes.size());
      auto packets = read_all(reader);
      EXPECT_EQ(reader.status(), ReadStatus::end) << reader.error();
      expect_same_packets(packets, expected);
      EXPECT_EQ(reader.offset(), plain.size());  // offsets are in the decompressed stream
    }
  }
}

TEST(CompressedInput, cut_gzip_file_is_truncated_after_the_packets_it_holds) {
  Bytes plain = read_bytes(pcap_path(kBig));
  Bytes gz = gzip(plain);
  gz.resize(gz.size() / 2);
  TempFile tmp("cut.pcap.gz", gz);
  FileReader reader;
  reader.open(tmp.path());
  auto packets = read_all(reader);
  EXPECT_GT(packets.size(), 100u);
  EXPECT_LT(packets.size(), 1556u);
  EXPECT_EQ(reader.status(), ReadStatus::truncated);
  EXPECT_NE(reader.error().find("file ends in the middle of packet"), std::string::npos);
}

TEST(CompressedInput, damaged_gzip_member_is_corrupt_after_the_good_data) {
  Bytes plain = read_bytes(pcap_path("zeek/tcp_option-sack.pcap"));
  // A second member whose header has reserved flag bits set (RFC 1952 §2.3.1).
  Bytes gz = concat(gzip(plain), Bytes{0x1f, 0x8b, 8, 0xe0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4});
  TempFile tmp("damaged.pcap.gz", gz);
  FileReader reader;
  reader.open(tmp.path());
  EXPECT_EQ(read_all(reader).size(), 4u);
  EXPECT_EQ(reader.status(), ReadStatus::corrupt);
  EXPECT_NE(reader.error().find("gzip data is corrupt"), std::string::npos) << reader.error();
  EXPECT_EQ(reader.offset(), plain.size());
}

TEST(CompressedInput, trailing_zero_padding_after_gzip_is_ignored) {
  Bytes plain = read_bytes(pcap_path("zeek/tcp_option-sack.pcap"));
  TempFile tmp("padded.pcap.gz", concat(gzip(plain), Bytes(512, 0)));
  auto packets = read_all(tmp.path());
  EXPECT_EQ(packets.size(), 4u);
}

TEST(CompressedInput, compressed_stream_cut_between_records_is_still_truncated) {
  Bytes plain = read_bytes(pcap_path("zeek/tcp_option-sack.pcap"));
  // The decoded data ends on a record boundary, but the second frame/member is cut.
  const Bytes cut_zstd = concat(zstd(plain), Bytes{0x28, 0xb5, 0x2f, 0xfd, 0x00});
  Bytes second_gz = gzip(plain);
  second_gz.resize(10);  // the member header only
  const Bytes cut_gzip = concat(gzip(plain), second_gz);
  for (const Bytes& bytes : {cut_zstd, cut_gzip}) {
    TempFile tmp("cut_frame.z", bytes);
    FileReader reader;
    reader.open(tmp.path());
    EXPECT_EQ(read_all(reader).size(), 4u);
    EXPECT_EQ(reader.status(), ReadStatus::truncated);
    EXPECT_NE(reader.error().find("compressed data ends in the middle"), std::string::npos)
        << reader.error();
  }
}

TEST(CompressedInput, corrupt_zstd_is_reported) {
  Bytes plain = read_bytes(pcap_path("zeek/tcp_option-sack.pcap"));
  // A frame whose only block has the reserved block type 3 (RFC 8878 §3.1.1.2).
  TempFile tmp("bad.zst", concat(zstd(plain), Bytes{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x07, 0x00,
                                                    0x00, 0x00, 0x00, 0x00}));
  FileReader reader;
  reader.open(tmp.path());
  EXPECT_EQ(read_all(reader).size(), 4u);
  EXPECT_EQ(reader.status(), ReadStatus::corrupt);
  EXPECT_NE(reader.error().find("zstd data is corrupt"), std::string::npos) << reader.error();
}

// Writes `bytes` to `fd` from a thread, then closes it.
std::thread feed(int fd, Bytes bytes) {
  return std::thread([fd, b = std::move(bytes)] {
    std::size_t off = 0;
    while (off < b.size()) {
      ssize_t n = ::write(fd, b.data() + off, std::min<std::size_t>(b.size() - off, 4096));
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
}

TEST(CompressedInput, fifo_is_streamed) {
  TempFile fifo_name("capture.fifo");
  std::remove(fifo_name.path().c_str());
  ASSERT_EQ(::mkfifo(fifo_name.path().c_str(), 0600), 0);
  for (bool compressed : {false, true}) {
    Bytes plain = read_bytes(pcap_path("chrissanders/http_espn_fail.pcapng"));
    std::thread writer([&] {
      int fd = ::open(fifo_name.path().c_str(), O_WRONLY);
      feed(fd, compressed ? gzip(plain) : plain).join();
    });
    FileReader reader;
    reader.open(fifo_name.path());
    EXPECT_FALSE(reader.zero_copy());
    EXPECT_EQ(reader.file_size(), 0u);
    auto packets = read_all(reader);
    writer.join();
    EXPECT_EQ(reader.status(), ReadStatus::end) << reader.error();
    expect_same_packets(packets, read_all(pcap_path("chrissanders/http_espn_fail.pcapng")));
  }
}

TEST(CompressedInput, dash_reads_a_pipe_on_stdin) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int saved_stdin = ::dup(0);
  ASSERT_GE(::dup2(fds[0], 0), 0);
  ::close(fds[0]);
  std::thread writer = feed(fds[1], zstd(read_bytes(pcap_path(kBig))));
  std::vector<test::Packet> packets;
  ReadStatus status = ReadStatus::ok;
  {
    FileReader reader;
    reader.open("-");
    EXPECT_EQ(reader.path(), "-");
    packets = read_all(reader);
    status = reader.status();
  }
  writer.join();
  ::dup2(saved_stdin, 0);
  ::close(saved_stdin);
  EXPECT_EQ(status, ReadStatus::end);
  expect_same_packets(packets, read_all(pcap_path(kBig)));
}

TEST(CompressedInput, record_larger_than_the_bound_is_corrupt_not_buffered) {
  // http_206_example_b has 1514-byte frames; a 1000-byte bound must stop at the first.
  for (bool mmap : {true, false}) {
    FileReader reader(ReaderOptions{.use_mmap = mmap, .max_record_bytes = 1000});
    reader.open(pcap_path(kBig));
    auto packets = read_all(reader);
    EXPECT_EQ(reader.status(), ReadStatus::corrupt);
    EXPECT_LT(packets.size(), 10u);
    for (const auto& p : packets) EXPECT_LE(p.data.size(), 1000u);
  }
  TempFile big_block("huge_block.pcapng");
  test::PcapngBuilder b;
  b.shb().idb(1, 0).u32(0x40000BAD).u32(0x7ffffff0).u32(0);
  big_block.write(b.bytes());
  FileReader reader(ReaderOptions{.use_mmap = false});
  reader.open(big_block.path());
  RawPacket pkt;
  EXPECT_FALSE(reader.next(pkt));
  EXPECT_EQ(reader.status(), ReadStatus::corrupt);
  EXPECT_NE(reader.error().find("impossible total length 2147483632"), std::string::npos);
}

}  // namespace
}  // namespace netscope::capture
