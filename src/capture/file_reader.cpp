#include "capture/file_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "capture/input_buffer.hpp"
#include "capture/pcap_parser.hpp"
#include "capture/pcapng_parser.hpp"
#include "capture/read_context.hpp"
#include "capture/stream_decoder.hpp"

namespace netscope::capture {

using detail::Compression;

std::string_view to_string(ReadStatus s) {
  switch (s) {
    case ReadStatus::ok:
      return "ok";
    case ReadStatus::end:
      return "end";
    case ReadStatus::truncated:
      return "truncated";
    case ReadStatus::corrupt:
      return "corrupt";
  }
  return "unknown";
}

struct FileReader::Impl {
  ReaderOptions options;
  detail::ReadContext ctx;
  detail::InputBuffer in;
  detail::PcapParser pcap;
  detail::PcapngParser pcapng;
  FileFormat format = FileFormat::pcap;
  bool opened = false;
  std::uint64_t file_size = 0;
  void* map = nullptr;
  std::size_t map_len = 0;
  std::uint64_t released = 0;  // bytes at the start of `map` handed back to the kernel

  ~Impl() { unmap(); }
  void unmap() {
    if (map != nullptr) ::munmap(map, map_len);
    map = nullptr;
    released = 0;
  }

  // The pages of a mapped file count in the process's RSS once touched. Packets are
  // read once, front to back, so every kReleaseStep bytes the pages more than one step
  // behind the cursor are dropped (MADV_DONTNEED: they stay in the page cache), which
  // bounds RSS whatever the file size. The last packet returned is never in that range.
  static constexpr std::uint64_t kReleaseStep = 8ULL << 20;
  void release_behind() {
    const std::uint64_t pos = in.offset();
    if (pos < released + 2 * kReleaseStep) [[likely]]
      return;
    const std::uint64_t upto = (pos - kReleaseStep) & ~std::uint64_t{0xfffff};
    ::madvise(static_cast<std::uint8_t*>(map) + released, upto - released, MADV_DONTNEED);
    released = upto;
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(ctx.path + ": " + why);
  }

  void reset(const std::string& name) {
    in.detach();
    unmap();
    ctx = detail::ReadContext{};
    ctx.path = name;
    ctx.max_record = options.max_record_bytes;
    pcap = {};
    pcapng = {};
    file_size = 0;
    opened = false;
  }

  // The whole stream is in memory: plain data is read in place, compressed data through
  // a decoder fed from memory.
  void attach_memory(std::span<const std::uint8_t> bytes) {
    Compression c = detail::sniff_compression(bytes);
    if (c == Compression::none && options.use_mmap) {
      in.attach_memory(bytes);
    } else {
      in.attach_stream(detail::make_decoder(c, std::make_unique<detail::RawInput>(bytes)),
                       options.stream_buffer_bytes);
    }
  }

  void attach_fd(int fd, bool owns) {
    auto raw = std::make_unique<detail::RawInput>(fd, owns);
    Compression c = detail::sniff_compression(raw->peek(4));
    if (!raw->error().empty()) fail(raw->error());
    in.attach_stream(detail::make_decoder(c, std::move(raw)), options.stream_buffer_bytes);
  }

  void read_header() {
    const std::uint8_t* head = in.ensure(4);
    if (head == nullptr) {
      if (!in.error().empty()) fail(in.error());
      if (in.available() == 0) fail("empty file");
      fail("too short to be a capture file (" + std::to_string(in.available()) + " bytes)");
    }
    std::span<const std::uint8_t> magic{head, 4};
    if (detail::is_pcap_magic(magic)) {
      format = FileFormat::pcap;
      pcap.read_header(in, ctx);
    } else if (detail::is_pcapng_magic(magic)) {
      format = FileFormat::pcapng;
      pcapng.read_header(in, ctx);
    } else {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", head[0], head[1], head[2], head[3]);
      fail(std::string("not a pcap or pcapng capture file (first bytes: ") + hex + ")");
    }
    opened = true;
  }
};

FileReader::FileReader() : FileReader(ReaderOptions{}) {}
FileReader::FileReader(ReaderOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}
FileReader::~FileReader() = default;

void FileReader::open(const std::string& path) {
  Impl& m = *impl_;
  m.reset(path);
  int fd = 0;  // "-" is stdin, which we read but do not close
  const bool is_stdin = path == "-";
  if (!is_stdin) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) m.fail(std::string("cannot open: ") + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    m.file_size = static_cast<std::uint64_t>(st.st_size);
    if (st.st_size == 0) {
      if (!is_stdin) ::close(fd);
      m.fail("empty file");
    }
    if (m.options.use_mmap) {
      const auto len = static_cast<std::size_t>(st.st_size);
      void* p = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        // Packets are read front to back once: let the kernel read ahead aggressively.
        ::madvise(p, len, MADV_SEQUENTIAL);
        if (!is_stdin) ::close(fd);
        m.map = p;
        m.map_len = len;
        m.attach_memory({static_cast<const std::uint8_t*>(p), len});
        m.read_header();
        return;
      }
    }
  }
  // Pipes, FIFOs, character devices, or mmap refused: stream through a bounded buffer.
  m.attach_fd(fd, !is_stdin);
  m.read_header();
}

void FileReader::open_memory(std::span<const std::uint8_t> bytes, const std::string& name) {
  Impl& m = *impl_;
  m.reset(name);
  m.file_size = bytes.size();
  m.attach_memory(bytes);
  m.read_header();
}

bool FileReader::next(RawPacket& out) {
  Impl& m = *impl_;
  if (m.ctx.status != ReadStatus::ok) [[unlikely]]
    return false;
  if (!m.opened) [[unlikely]] {
    m.ctx.status = ReadStatus::end;
    return false;
  }
  if (m.map != nullptr) m.release_behind();
  if (m.format == FileFormat::pcap) [[likely]]
    return m.pcap.next(m.in, out, m.ctx);
  return m.pcapng.next(m.in, out, m.ctx);
}

ReadStatus FileReader::status() const {
  return impl_->ctx.status;
}
const std::string& FileReader::error() const {
  return impl_->ctx.error;
}
std::uint64_t FileReader::offset() const {
  return impl_->ctx.status == ReadStatus::ok ? impl_->in.offset() : impl_->ctx.stop_offset;
}
FileFormat FileReader::format() const {
  return impl_->format;
}
const std::vector<InterfaceInfo>& FileReader::interfaces() const {
  return impl_->ctx.interfaces;
}
const std::string& FileReader::path() const {
  return impl_->ctx.path;
}
std::uint64_t FileReader::file_size() const {
  return impl_->file_size;
}
std::uint64_t FileReader::packets_read() const {
  return impl_->ctx.packets;
}
bool FileReader::zero_copy() const {
  return impl_->opened && !impl_->in.streaming();
}

}  // namespace netscope::capture
