#pragma once
// The terminal's life around the TUI: the screen is restored however the program ends.
// Quit, SIGINT, SIGTERM and SIGHUP set a flag and wake the UI loop, which then calls
// endwin() on its own thread. A crash signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
// cannot run ncurses, so its handler writes the reset sequences and the saved termios
// with async-signal-safe calls only, then re-raises the signal with its default action.

#include <atomic>

namespace netscope::tui {

class TerminalGuard {
 public:
  // Saves the termios of `tty_fd` and installs the handlers. `wake_fd` (an eventfd) is
  // written when a stop signal arrives.
  TerminalGuard(int tty_fd, int wake_fd);
  ~TerminalGuard();  // restores the previous handlers
  TerminalGuard(const TerminalGuard&) = delete;
  TerminalGuard& operator=(const TerminalGuard&) = delete;

  // The signal that asked to stop (0: none yet).
  static int stop_signal();
};

}  // namespace netscope::tui
