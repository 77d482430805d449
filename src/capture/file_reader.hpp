#pragma once
// FileReader: streams packets out of a pcap (µs or ns, either byte order) or pcapng file
// (any number of interfaces with differing link types, snaplens and timestamp
// resolutions). Plain files are memory-mapped and read without copying; "-" (stdin) and
// files ending in .gz or .zst are read through a bounded streaming buffer. Memory use is
// bounded by the largest record, never by file size.
//
// Errors are values, not exceptions, after open(): next() returns false at the end of
// the file or at damage, and status() says which, with the byte offset where reading
// stopped. Every packet before the damage is returned.
//
// Decisions where files break the rules (each covered by a test):
// - pcap records with caplen > max(snaplen, 256 KiB) are corrupt (libpcap agrees); a
//   snaplen of 0 or a huge one is not an error. No record may exceed
//   ReaderOptions::max_record_bytes (64 MiB), in any format.
// - caplen > origlen is kept, as tshark does; orig_len is raised to caplen so that
//   orig_len >= data.size() always holds.
// - A µs fraction >= 1,000,000 (or ns >= 10^9) is carried into the seconds.
// - pcapng Simple Packet Blocks have no timestamp: they get the previous packet's, so
//   packet time never goes backwards. Malformed IDB options end the option list only.
// - gzip/zstd are recognised by magic bytes whatever the name. Bytes after the last gzip
//   member that do not start another member are ignored (as gzip(1) does). Compressed
//   data cut inside a member or frame is `truncated` even when the cut falls between
//   records; undecodable compressed data is `corrupt`.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/raw_packet.hpp"

namespace netscope::capture {

enum class FileFormat { pcap, pcapng };

enum class ReadStatus {
  ok,         // more packets may follow
  end,        // clean end of file
  truncated,  // the file ends in the middle of a record
  corrupt,    // a record header is impossible (bad length, unknown magic, ...)
};

std::string_view to_string(ReadStatus s);

// A record (pcap packet or pcapng block) larger than this is treated as corrupt: it bounds
// the streaming buffer, and no real capture comes close (libpcap caps packets at 256 KiB).
inline constexpr std::size_t kDefaultMaxRecordBytes = 64u * 1024 * 1024;

struct ReaderOptions {
  // Memory-map plain regular files (and read open_memory() input in place). Off forces
  // the streaming path (tests, benchmarks, the fuzzer's differential check).
  bool use_mmap = true;
  std::size_t max_record_bytes = kDefaultMaxRecordBytes;
  // First size of the streaming buffer; it grows to the largest record. Tiny values make
  // every record cross a refill, which tests and the fuzzer use.
  std::size_t stream_buffer_bytes = 1024 * 1024;
};

struct InterfaceInfo {
  int linktype = 0;
  std::uint32_t snaplen = 0;
  std::string name;  // pcapng if_name when present
};

class FileReader {
 public:
  FileReader();
  explicit FileReader(ReaderOptions options);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Opens and reads the file header. Throws std::runtime_error naming the file (and the
  // reason) when the file cannot be opened or is not a pcap/pcapng capture.
  // "-" is stdin. gzip and zstd input is recognised by its magic bytes (so .gz and .zst
  // files work), and decompressed while streaming. Non-seekable inputs (pipes, FIFOs)
  // are streamed.
  void open(const std::string& path);
  // Reads a capture held in memory (gzip/zstd recognised as above). `bytes` must outlive
  // the reader; packets point into it. `name` is used in messages. Used by the fuzzer.
  void open_memory(std::span<const std::uint8_t> bytes, const std::string& name);

  // Fills `out` with the next packet. Returns false at the end or on damage; then
  // status() and error() tell which.
  bool next(RawPacket& out);

  ReadStatus status() const;
  // Human-readable description of the damage, naming the file and byte offset.
  const std::string& error() const;
  // Offset (in the decompressed stream) where reading stopped or will continue.
  std::uint64_t offset() const;

  FileFormat format() const;
  // Interfaces seen so far (pcap files have exactly one).
  const std::vector<InterfaceInfo>& interfaces() const;
  const std::string& path() const;
  // Size of the file on disk when known (plain files), else 0. For progress reporting.
  std::uint64_t file_size() const;
  // Packets returned by next() so far.
  std::uint64_t packets_read() const;
  // True when packets point into a memory-mapped file or caller memory (zero-copy).
  bool zero_copy() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Name of a link type for messages: "EN10MB (Ethernet)", "LINUX_SLL2", "DLT 160".
std::string linktype_name(int linktype);

}  // namespace netscope::capture
