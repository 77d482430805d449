#pragma once
// Helpers for the capture tests: file I/O, a pcapng builder for either byte order, and
// reading every packet of a file into plain values that outlive the reader.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/file_reader.hpp"

namespace netscope::capture::test {

using Bytes = std::vector<std::uint8_t>;

inline std::string pcap_path(const std::string& rel) {
  return std::string(NETSCOPE_PCAPS) + "/" + rel;
}

inline Bytes read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// A file in a per-process temporary directory, removed at destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& name, const Bytes& bytes = {}) {
    auto dir = std::filesystem::temp_directory_path() /
               ("netscope_capture_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path_ = (dir / name).string();
    write(bytes);
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  void write(const Bytes& bytes) const {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A packet copied out of the reader.
struct Packet {
  std::int64_t ts_ns = 0;
  Bytes data;
  std::uint32_t orig_len = 0;
  int linktype = 0;
  std::uint32_t interface_id = 0;
  std::uint64_t file_offset = 0;
};

inline std::vector<Packet> read_all(FileReader& reader) {
  std::vector<Packet> out;
  RawPacket pkt;
  while (reader.next(pkt)) {
    out.push_back({pkt.ts.ns, Bytes(pkt.data.begin(), pkt.data.end()), pkt.orig_len, pkt.linktype,
                   pkt.interface_id, pkt.file_offset});
  }
  return out;
}

inline std::vector<Packet> read_all(const std::string& path, ReaderOptions options = {}) {
  FileReader reader(options);
  reader.open(path);
  auto packets = read_all(reader);
  if (reader.status() != ReadStatus::end) throw std::runtime_error(reader.error());
  return packets;
}

// Runs a shell command and returns its stdout, or nullopt-like empty + false on failure.
inline bool run_command(const std::string& cmd, std::string& out) {
  out.clear();
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return ::pclose(p) == 0;
}

inline bool have_tool(const std::string& tool) {
  std::string out;
  return run_command("command -v " + tool + " >/dev/null 2>&1", out);
}

// Builds pcapng files byte by byte in either byte order (pcapng §3, §4).
class PcapngBuilder {
 public:
  explicit PcapngBuilder(bool big_endian = false) : big_(big_endian) {}

  PcapngBuilder& u16(std::uint16_t v) {
    for (int i = 0; i < 2; ++i) out_.push_back(byte(v, i, 2));
    return *this;
  }
  PcapngBuilder& u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(byte(v, i, 4));
    return *this;
  }
  PcapngBuilder& u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(byte(v, i, 8));
    return *this;
  }
  PcapngBuilder& raw(const Bytes& b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  // A whole block: type, total length, body (padded to 4), total length.
  PcapngBuilder& block(std::uint32_t type, Bytes body) {
    while (body.size() % 4 != 0) body.push_back(0);
    const auto total = static_cast<std::uint32_t>(body.size() + 12);
    u32(type).u32(total).raw(body).u32(total);
    return *this;
  }
  PcapngBuilder& shb() {
    PcapngBuilder b(big_);
    b.u32(0x1A2B3C4D).u16(1).u16(0).u64(~std::uint64_t{0});
    return block(0x0A0D0D0A, b.bytes());
  }
  // options: pairs of (code, value bytes) already in this builder's byte order.
  PcapngBuilder& idb(std::uint16_t linktype, std::uint32_t snaplen,
                     const std::vector<std::pair<std::uint16_t, Bytes>>& options = {}) {
    PcapngBuilder b(big_);
    b.u16(linktype).u16(0).u32(snaplen);
    for (const auto& [code, value] : options) {
      b.u16(code).u16(static_cast<std::uint16_t>(value.size())).raw(value);
      while (b.bytes().size() % 4 != 0) b.raw({0});
    }
    if (!options.empty()) b.u32(0);
    return block(1, b.bytes());
  }
  PcapngBuilder& epb(std::uint32_t iface, std::uint64_t ts, const Bytes& data,
                     std::uint32_t orig_len = 0) {
    PcapngBuilder b(big_);
    b.u32(iface).u32(static_cast<std::uint32_t>(ts >> 32)).u32(static_cast<std::uint32_t>(ts));
    b.u32(static_cast<std::uint32_t>(data.size()));
    b.u32(orig_len ? orig_len : static_cast<std::uint32_t>(data.size())).raw(data);
    return block(6, b.bytes());
  }
  PcapngBuilder& spb(std::uint32_t orig_len, const Bytes& data) {
    PcapngBuilder b(big_);
    b.u32(orig_len).raw(data);
    return block(3, b.bytes());
  }
  PcapngBuilder& pb(std::uint16_t iface, std::uint64_t ts, const Bytes& data) {
    PcapngBuilder b(big_);
    b.u16(iface).u16(0).u32(static_cast<std::uint32_t>(ts >> 32));
    b.u32(static_cast<std::uint32_t>(ts)).u32(static_cast<std::uint32_t>(data.size()));
    b.u32(static_cast<std::uint32_t>(data.size())).raw(data);
    return block(2, b.bytes());
  }
  Bytes le_or_be64(std::uint64_t v) const {
    PcapngBuilder b(big_);
    b.u64(v);
    return b.bytes();
  }
  const Bytes& bytes() const { return out_; }

 private:
  std::uint8_t byte(std::uint64_t v, int i, int width) const {
    int shift = big_ ? (width - 1 - i) * 8 : i * 8;
    return static_cast<std::uint8_t>(v >> shift);
  }
  bool big_;
  Bytes out_;
};

}  // namespace netscope::capture::test
