#include "tui/terminal.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace netscope::tui {

namespace {

std::atomic<int> g_stop_signal{0};
int g_tty_fd = -1;
int g_wake_fd = -1;
termios g_saved{};
bool g_have_saved = false;

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_old_stop[3];
struct sigaction g_old_crash[5];

extern "C" void on_stop(int sig) {
  const int saved = errno;  // the interrupted code may be about to read it
  g_stop_signal.store(sig);
  const std::uint64_t one = 1;
  if (g_wake_fd >= 0) [[maybe_unused]]
    ssize_t n = write(g_wake_fd, &one, sizeof one);
  errno = saved;
}

extern "C" void on_crash(int sig) {
  // Mouse reporting off, cursor on, attributes reset, back to the main screen.
  static const char kReset[] = "\x1b[?1000l\x1b[?1002l\x1b[?1006l\x1b[0m\x1b[?25h\x1b[?1049l\r\n";
  if (g_tty_fd >= 0) {
    [[maybe_unused]] ssize_t n = write(g_tty_fd, kReset, sizeof kReset - 1);
    if (g_have_saved) tcsetattr(g_tty_fd, TCSANOW, &g_saved);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

TerminalGuard::TerminalGuard(int tty_fd, int wake_fd) {
  g_tty_fd = tty_fd;
  g_wake_fd = wake_fd;
  g_stop_signal.store(0);
  g_have_saved = tcgetattr(tty_fd, &g_saved) == 0;
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop;
  for (std::size_t i = 0; i < 3; ++i) sigaction(kStopSignals[i], &sa, &g_old_stop[i]);
  struct sigaction crash {};
  sigemptyset(&crash.sa_mask);
  crash.sa_handler = on_crash;
  crash.sa_flags = SA_RESETHAND;
  for (std::size_t i = 0; i < 5; ++i) sigaction(kCrashSignals[i], &crash, &g_old_crash[i]);
}

TerminalGuard::~TerminalGuard() {
  for (std::size_t i = 0; i < 3; ++i) sigaction(kStopSignals[i], &g_old_stop[i], nullptr);
  for (std::size_t i = 0; i < 5; ++i) sigaction(kCrashSignals[i], &g_old_crash[i], nullptr);
  g_wake_fd = -1;
  g_tty_fd = -1;
}

int TerminalGuard::stop_signal() {
  return g_stop_signal.load();
}

}  // namespace netscope::tui
