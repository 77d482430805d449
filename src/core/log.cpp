#include "core/log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/timestamp.hpp"

namespace netscope::core {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::warn)};
std::mutex g_mu;
int g_fd = -1;  // -1: stderr, plain format

constexpr std::string_view kLevelNames[] = {"error", "warn", "info", "debug"};

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (int i = 0; i < 4; ++i) {
    if (text == kLevelNames[i]) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  if (text == "warning") {
    out = LogLevel::warn;
    return true;
  }
  return false;
}

void Log::configure(LogLevel level, const std::string& path) {
  g_level.store(static_cast<int>(level));
  std::lock_guard lock(g_mu);
  if (g_fd >= 0) {
    ::close(g_fd);
    g_fd = -1;
  }
  if (path.empty()) return;
  g_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (g_fd < 0) {
    throw std::runtime_error("cannot open log file " + path + ": " + std::strerror(errno));
  }
}

bool Log::enabled(LogLevel level) {
  return static_cast<int>(level) <= g_level.load();
}

void Log::write(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  std::lock_guard lock(g_mu);
  if (g_fd < 0) {
    line = "netscope: ";
    line += message;
    line += '\n';
  } else {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    line = to_rfc3339(Timestamp{static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec});
    line += ' ';
    line += kLevelNames[static_cast<int>(level)];
    line += ' ';
    line += message;
    line += '\n';
  }
  const int fd = g_fd < 0 ? STDERR_FILENO : g_fd;
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace netscope::core
