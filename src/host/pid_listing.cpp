#include "host/pid_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace netscope::host {

namespace {

std::optional<pid_t> parse_pid(std::string_view name) {
  if (name.empty() || name.size() > 10) return std::nullopt;
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc{} || end != name.data() + name.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

PidListing::PidListing(std::string proc_root) : proc_root_(std::move(proc_root)) {
  fd_ = ::open(proc_root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct statfs fs {};
  procfs_ = fd_ >= 0 && ::fstatfs(fd_, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

PidListing::~PidListing() {
  if (fd_ >= 0) ::close(fd_);
}

bool PidListing::list_all(std::vector<pid_t>& out) {
  out.clear();
  if (fd_ < 0 || ::lseek(fd_, 0, SEEK_SET) != 0) return false;
  return read_entries(out, procfs_);
}

std::optional<std::size_t> PidListing::list_from(pid_t first, std::vector<pid_t>& out) {
  out.clear();
  if (!offset_ || fd_ < 0) return std::nullopt;
  if (::lseek(fd_, *offset_ + first, SEEK_SET) < 0 || !read_entries(out, false)) {
    return std::nullopt;
  }
  // A pid below `first` means the offsets do not mean what they did: stop using them.
  for (const pid_t pid : out) {
    if (pid < first) {
      offset_.reset();
      return std::nullopt;
    }
  }
  return out.size();
}

bool PidListing::read_entries(std::vector<pid_t>& out, bool learn) {
  // Aligned for the dirent64 records getdents64() writes into it.
  alignas(dirent64) std::array<char, 32768> buffer;
  std::optional<std::int64_t> learned;
  bool consistent = learn;
  std::optional<std::int64_t> previous_off;  // d_off of the previous pid entry
  pid_t previous_pid = 0;
  for (;;) {
    const ssize_t n = ::getdents64(fd_, buffer.data(), buffer.size());
    if (n < 0) return false;
    if (n == 0) break;
    const auto size = static_cast<std::size_t>(n);
    for (std::size_t pos = 0; pos < size;) {
      // Each record: the fixed header, then the NUL-terminated name, within d_reclen.
      if (size - pos < offsetof(dirent64, d_name)) return false;
      dirent64 entry{};
      std::memcpy(&entry, buffer.data() + pos, offsetof(dirent64, d_name));
      if (entry.d_reclen <= offsetof(dirent64, d_name) || entry.d_reclen > size - pos) {
        return false;
      }
      const char* name = buffer.data() + pos + offsetof(dirent64, d_name);
      const std::size_t max_name = entry.d_reclen - offsetof(dirent64, d_name);
      pos += entry.d_reclen;
      const auto pid = parse_pid(std::string_view(name, ::strnlen(name, max_name)));
      if (!pid) continue;  // self, net, sys, ...
      out.push_back(*pid);
      if (consistent && previous_off) {
        const std::int64_t candidate = *previous_off - *pid;
        if (*pid <= previous_pid || (learned && *learned != candidate)) consistent = false;
        learned = candidate;
      }
      previous_off = entry.d_off;
      previous_pid = *pid;
    }
  }
  if (learn) {
    if (consistent && learned && *learned > 0) {
      offset_ = learned;
    } else {
      offset_.reset();
    }
  }
  return true;
}

}  // namespace netscope::host
