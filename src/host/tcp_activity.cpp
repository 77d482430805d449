#include "host/tcp_activity.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <utility>

namespace netscope::host {

namespace {

// snmp is about 1.6 KB and sockstat 0.2 KB; a read that fills this much is cut short
// and treated as unreadable.
constexpr std::size_t kMaxText = 16 * 1024;

// The next line of `text` (without its '\n'), advancing `text` past it.
std::string_view next_line(std::string_view& text) {
  const std::size_t end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  return line;
}

// The next space-separated token of `line`, advancing `line` past it; empty at the end.
std::string_view next_token(std::string_view& line) {
  const std::size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  const std::size_t end = line.find(' ');
  const std::string_view token = line.substr(0, end);
  line = end == std::string_view::npos ? std::string_view{} : line.substr(end);
  return token;
}

bool parse_integer(std::string_view token, std::int64_t& value) {
  if (token.empty()) return false;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  return ec == std::errc{} && end == token.data() + token.size();
}

}  // namespace

bool parse_snmp_tcp(std::string_view text, std::vector<std::int64_t>& out) {
  bool names_seen = false;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (!line.starts_with("Tcp:")) continue;
    if (!names_seen) {  // "Tcp: RtoAlgorithm RtoMin ..."
      names_seen = true;
      continue;
    }
    line.remove_prefix(4);
    const std::size_t before = out.size();
    for (std::string_view token = next_token(line); !token.empty(); token = next_token(line)) {
      std::int64_t value = 0;
      if (!parse_integer(token, value)) return false;
      out.push_back(value);
    }
    return out.size() > before;
  }
  return false;
}

bool parse_sockstat_tcp(std::string_view text, std::vector<std::int64_t>& out) {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (!line.starts_with("TCP: ")) continue;
    line.remove_prefix(4);
    std::int64_t inuse = -1;
    std::int64_t tw = -1;
    for (std::string_view key = next_token(line); !key.empty(); key = next_token(line)) {
      std::int64_t value = 0;
      if (!parse_integer(next_token(line), value)) return false;
      if (key == "inuse") inuse = value;
      if (key == "tw") tw = value;
    }
    if (inuse < 0 || tw < 0) return false;
    out.push_back(inuse);
    out.push_back(tw);
    return true;
  }
  return false;
}

std::optional<TcpActivity> TcpActivity::open(const std::string& net_dir) {
  const int snmp = ::open((net_dir + "/snmp").c_str(), O_RDONLY | O_CLOEXEC);
  const int sockstat = ::open((net_dir + "/sockstat").c_str(), O_RDONLY | O_CLOEXEC);
  TcpActivity activity(snmp, sockstat);  // closes what did open, whatever happens next
  if (snmp < 0 || sockstat < 0 || !activity.read(activity.last_)) return std::nullopt;
  return activity;
}

TcpActivity::TcpActivity(int snmp_fd, int sockstat_fd)
    : snmp_fd_(snmp_fd), sockstat_fd_(sockstat_fd) {}

TcpActivity::TcpActivity(TcpActivity&& other) noexcept
    : snmp_fd_(std::exchange(other.snmp_fd_, -1)),
      sockstat_fd_(std::exchange(other.sockstat_fd_, -1)),
      text_(std::move(other.text_)),
      last_(std::move(other.last_)),
      now_(std::move(other.now_)) {}

TcpActivity& TcpActivity::operator=(TcpActivity&& other) noexcept {
  if (this != &other) {
    if (snmp_fd_ >= 0) ::close(snmp_fd_);
    if (sockstat_fd_ >= 0) ::close(sockstat_fd_);
    snmp_fd_ = std::exchange(other.snmp_fd_, -1);
    sockstat_fd_ = std::exchange(other.sockstat_fd_, -1);
    text_ = std::move(other.text_);
    last_ = std::move(other.last_);
    now_ = std::move(other.now_);
  }
  return *this;
}

TcpActivity::~TcpActivity() {
  if (snmp_fd_ >= 0) ::close(snmp_fd_);
  if (sockstat_fd_ >= 0) ::close(sockstat_fd_);
}

bool TcpActivity::changed() {
  now_.clear();
  if (!read(now_)) {
    last_.clear();  // unknown: the next read compares with nothing and counts as a change
    return true;
  }
  const bool moved = now_ != last_;
  std::swap(now_, last_);
  return moved;
}

bool TcpActivity::read(std::vector<std::int64_t>& out) {
  return read_file(snmp_fd_) && parse_snmp_tcp(text_, out) && read_file(sockstat_fd_) &&
         parse_sockstat_tcp(text_, out);
}

bool TcpActivity::read_file(int fd) {
  // A seq_file read at offset 0 starts the file afresh (fs/seq_file.c), so one descriptor
  // serves every refresh.
  text_.resize(kMaxText);
  std::size_t filled = 0;
  for (;;) {
    const ssize_t n =
        ::pread(fd, text_.data() + filled, text_.size() - filled, static_cast<off_t>(filled));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
    if (filled == text_.size()) return false;  // larger than any snmp or sockstat
  }
  text_.resize(filled);
  return filled != 0;
}

}  // namespace netscope::host
