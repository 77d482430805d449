#include "tui/app.hpp"

#define NCURSES_WIDECHAR 1
#include <fcntl.h>
#include <langinfo.h>
#include <ncursesw/curses.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <thread>

#include "enrich/blacklist.hpp"
#include "tui/export.hpp"
#include "tui/frames.hpp"
#include "tui/layout.hpp"
#include "tui/prepare.hpp"
#include "tui/render.hpp"
#include "tui/state.hpp"
#include "tui/terminal.hpp"

namespace netscope::tui {

namespace {

// While the TUI owns the terminal, diagnostics written to stderr (core::Log) would land on
// the screen. They go through a pipe instead: the newest shows in the footer, and all of
// them are written to the real stderr after the screen is restored.
class StderrCapture {
 public:
  StderrCapture() {
    if (isatty(STDERR_FILENO) == 0) return;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return;
    // A writer never blocks on it: once the UI stops reading (it is quitting while the
    // monitor's threads still log), a full pipe drops the line (core::Log gives up on
    // EAGAIN) instead of stalling that thread with the log's lock held, which the
    // monitor's shutdown would then wait on for ever.
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    saved_ = dup(STDERR_FILENO);
    if (saved_ < 0 || dup2(p[1], STDERR_FILENO) < 0) {
      close(p[0]);
      close(p[1]);
      if (saved_ >= 0) close(saved_);
      saved_ = -1;
      return;
    }
    close(p[1]);
    rd_ = p[0];
    fcntl(rd_, F_SETFL, fcntl(rd_, F_GETFL) | O_NONBLOCK);
  }
  ~StderrCapture() {
    if (saved_ < 0) return;
    read_lines();
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(rd_);
    for (const std::string& l : all_) std::cerr << l << "\n";
    if (!partial_.empty()) std::cerr << partial_ << "\n";
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  int fd() const { return rd_; }
  // New complete lines since the last call.
  std::vector<std::string> read_lines() {
    std::vector<std::string> out;
    if (rd_ < 0) return out;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(rd_, buf, sizeof buf);
      if (n <= 0) break;
      partial_.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      out.push_back(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
    for (const std::string& l : out) {
      if (all_.size() >= 200) all_.pop_front();
      all_.push_back(l);
    }
    return out;
  }

 private:
  int saved_ = -1;
  int rd_ = -1;
  std::string partial_;
  std::deque<std::string> all_;
};

int map_key(int rc, wint_t wch) {
  if (rc == KEY_CODE_YES) {
    switch (wch) {
      case KEY_UP:
        return key::up;
      case KEY_DOWN:
        return key::down;
      case KEY_LEFT:
        return key::left;
      case KEY_RIGHT:
        return key::right;
      case KEY_PPAGE:
        return key::page_up;
      case KEY_NPAGE:
        return key::page_down;
      case KEY_HOME:
        return key::home;
      case KEY_END:
        return key::end;
      case KEY_ENTER:
        return key::enter;
      case KEY_BTAB:
        return key::back_tab;
      case KEY_BACKSPACE:
        return key::backspace;
      default:
        return -1;
    }
  }
  switch (wch) {
    case '\n':
    case '\r':
      return key::enter;
    case '\t':
      return key::tab;
    case 27:
      return key::escape;
    case 127:
    case 8:
      return key::backspace;
    default:
      return static_cast<int>(wch);
  }
}

bool no_color_env() {
  // https://no-color.org: set and not empty.
  const char* v = std::getenv("NO_COLOR");
  return v != nullptr && v[0] != '\0';
}

class App {
 public:
  App(const TuiOptions& opt, SnapshotMailbox& mailbox, Style style)
      : opt_(opt), mailbox_(mailbox), renderer_(style) {
    s_.tables = opt.tables;
    s_.model.totals = opt.totals;
    s_.model.resolve = opt.resolve;
    s_.model.top = opt.top;
    s_.model.units = opt.units;
    s_.replay = opt.replay;
    if (s_.tables.size() == 1) {
      s_.overview_focus = s_.tables.front();
      s_.screen = s_.tables.front() == Table::processes     ? Screen::processes
                  : s_.tables.front() == Table::connections ? Screen::connections
                                                            : Screen::remotes;
    }
    s_.overview_focus = s_.tables.front();
  }

  void init() { renderer_.init_colors(); }

  // One pass of the loop; false when it is time to quit.
  bool step(StderrCapture& err) {
    if (TerminalGuard::stop_signal() != 0) return false;
    mailbox_.drain();
    if (auto snap = mailbox_.take()) pending_ = std::move(snap);
    if (!s_.paused && pending_) show(std::move(pending_));
    preparer_.drain();
    if (!s_.paused) {
      if (auto index = preparer_.take()) keeper_.set_index(std::move(index));
    }
    keeper_.adopt(preparer_.take_parts());
    for (std::string& e : mailbox_.take_events()) set_message(std::move(e));
    for (std::string& l : err.read_lines()) set_message(std::move(l));
    if (!finished_seen_ && mailbox_.is_finished()) {
      finished_seen_ = true;
      const monitor::MonitorResult r = mailbox_.result();
      if (!r.error.empty()) set_message(r.error);
      dirty_ = true;
    }
    {
      // The screen may change with the size (the overview needs 120x30) or a key; build
      // the tables it shows, and only those.
      int h = 0;
      int w = 0;
      getmaxyx(stdscr, h, w);
      adapt_to_size(s_, w, h);
      tables_on_screen(s_, s_.model.tables);
    }
    std::optional<PartsRequest> request;
    if (keeper_.update(s_, mailbox_.unattributed_dns(), &request)) dirty_ = true;
    if (s_.filter_pending != keeper_.waiting()) {
      s_.filter_pending = keeper_.waiting();
      dirty_ = true;
    }
    if (request) preparer_.upgrade(std::move(request->snapshot), request->which);
    if (dirty_) draw();
    if (!pending_osc_.empty()) {
      // After doupdate(), so the sequence does not land inside ncurses' output.
      std::fputs(pending_osc_.c_str(), stdout);
      std::fflush(stdout);
      pending_osc_.clear();
    }
    pollfd fds[4] = {{STDIN_FILENO, POLLIN, 0},
                     {mailbox_.fd(), POLLIN, 0},
                     {preparer_.fd(), POLLIN, 0},
                     {err.fd(), POLLIN, 0}};
    const nfds_t n = err.fd() >= 0 ? 4 : 3;
    poll(fds, n, 1000);
    if ((fds[0].revents & (POLLHUP | POLLERR)) != 0) return false;  // the terminal is gone
    return read_keys();
  }

 private:
  void set_message(std::string m) {
    s_.message = std::move(m);
    dirty_ = true;
  }

  // The snapshot goes to the preparer thread (prefilter, SnapshotIndex); step() shows it
  // once it is ready, and every frame until the next one reuses its index.
  void show(std::shared_ptr<const monitor::Snapshot> snap) {
    preparer_.submit(std::move(snap), s_.filter, s_.model, s_.mode == Mode::filter);
  }

  void draw() {
    curs_set(s_.mode == Mode::filter ? 1 : 0);
    renderer_.draw(stdscr, s_, keeper_.frame());
    wnoutrefresh(stdscr);
    doupdate();
    dirty_ = false;
  }

  bool read_keys() {
    wint_t wch = 0;
    for (;;) {
      const int rc = wget_wch(stdscr, &wch);
      if (rc == ERR) return true;
      if (rc == KEY_CODE_YES && wch == KEY_RESIZE) {
        dirty_ = true;
        continue;
      }
      if (rc == KEY_CODE_YES && wch == KEY_MOUSE) {
        mouse();
        continue;
      }
      const int k = map_key(rc, wch);
      if (k < 0) continue;
      if (!run(handle_key(s_, k, keeper_.frame()))) return false;
    }
  }

  void mouse() {
    MEVENT ev{};
    if (getmouse(&ev) != OK) return;
    if ((ev.bstate & BUTTON4_PRESSED) != 0) {
      run(handle_wheel(s_, -1, keeper_.frame()));
      return;
    }
#ifdef BUTTON5_PRESSED
    if ((ev.bstate & BUTTON5_PRESSED) != 0) {
      run(handle_wheel(s_, 1, keeper_.frame()));
      return;
    }
#endif
    if ((ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) == 0) return;
    int h = 0;
    int w = 0;
    getmaxyx(stdscr, h, w);
    const ScreenLayout l = compute_layout(s_, w, h);
    for (std::size_t i = 0; i < kTables; ++i) {
      const Rect& r = l.panes[i];
      if (r.empty() || ev.x < r.x || ev.x >= r.x + r.w || ev.y < r.y || ev.y >= r.y + r.h) {
        continue;
      }
      if (ev.y >= r.y + 2) {
        run(handle_click(s_, static_cast<Table>(i), static_cast<std::size_t>(ev.y - r.y - 2),
                         keeper_.frame()));
      } else if (s_.screen == Screen::overview) {
        s_.overview_focus = static_cast<Table>(i);
        dirty_ = true;
      }
    }
  }

  // Carries out a command; false to quit.
  bool run(const Command& c) {
    switch (c.kind) {
      case Command::Kind::none:
        return true;
      case Command::Kind::quit:
        return false;
      case Command::Kind::redraw:
        dirty_ = true;
        return true;
      case Command::Kind::rebuild:
        keeper_.request_rebuild();
        return true;
      case Command::Kind::resume:
        if (pending_) show(std::move(pending_));
        dirty_ = true;
        return true;
      case Command::Kind::export_view:
        try {
          set_message("exported to " + export_to_dir(s_, keeper_.frame(), opt_.export_dir));
        } catch (const std::exception& e) {
          set_message(e.what());
        }
        return true;
      case Command::Kind::copy:
        pending_osc_ = osc52(c.text);
        set_message("copied " + c.text + " (OSC 52)");
        return true;
      case Command::Kind::reload_blacklist:
        // The files are small and read once per key press: fine on the UI thread.
        if (const auto list = enrich::active_blacklist()) {
          const enrich::BlacklistLoad r = list->reload();
          std::string m = r.summary();
          if (!r.ok) m += " (not reloaded: " + (r.errors.empty() ? "" : r.errors.front()) + ")";
          set_message(m);
        } else {
          set_message("no --blacklist to reload");
        }
        return true;
      case Command::Kind::toggle_recording:
        if (!opt_.toggle_recording) {
          set_message("recording needs a recorder: start netscope with --pcap-dir DIR");
        } else {
          const bool on = opt_.toggle_recording(c.pid);
          set_message((on ? "recording " : "stopped recording ") + c.text + " (" +
                      std::to_string(c.pid) + ")" + (on ? " to --pcap-dir" : ""));
        }
        return true;
      case Command::Kind::kill:
        if (::kill(c.pid, SIGTERM) == 0) {
          set_message("SIGTERM sent to " + std::to_string(c.pid));
        } else {
          set_message("could not signal " + std::to_string(c.pid) + ": " + std::strerror(errno));
        }
        return true;
    }
    return true;
  }

  const TuiOptions& opt_;
  SnapshotMailbox& mailbox_;
  Renderer renderer_;
  UiState s_;
  FrameKeeper keeper_;  // the index of the snapshot shown and its frame
  IndexPreparer preparer_{opt_.prefilter};
  std::shared_ptr<const monitor::Snapshot> pending_;
  std::string pending_osc_;
  bool dirty_ = true;
  bool finished_seen_ = false;
};

}  // namespace

int run_tui(const TuiOptions& opt, monitor::LiveMonitor& mon, SnapshotMailbox& mailbox) {
  std::setlocale(LC_ALL, "");
  const bool unicode = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  const Style style{opt.color && !no_color_env(), unicode};

  // The monitor thread and every thread it starts keep these signals blocked, so that
  // they reach the UI thread and interrupt its poll().
  sigset_t block;
  sigset_t old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigaddset(&block, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  std::thread worker([&] {
    // An exception here would end the process (std::terminate) with the terminal in the
    // UI's modes: it ends the run instead, and the UI reports it.
    try {
      mailbox.finished(mon.run());
    } catch (const std::exception& e) {
      mailbox.finished(monitor::MonitorResult{2, e.what()});
    }
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  int code = 0;
  {
    StderrCapture err;
    // Before newterm(): the guard saves the terminal's modes as the shell had them.
    TerminalGuard guard(STDOUT_FILENO, mailbox.fd());
    SCREEN* screen = newterm(nullptr, stdout, stdin);
    if (screen == nullptr) {
      mon.stop();
      worker.join();
      std::cerr << "netscope: cannot start the terminal UI (TERM="
                << (std::getenv("TERM") != nullptr ? std::getenv("TERM") : "") << ")\n";
      return 2;
    }
    {
      cbreak();
      noecho();
      nonl();
      keypad(stdscr, TRUE);
      nodelay(stdscr, TRUE);
      set_escdelay(25);
      curs_set(0);
      mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                    | BUTTON5_PRESSED
#endif
                ,
                nullptr);
      mouseinterval(0);
      App app(opt, mailbox, style);
      app.init();
      while (app.step(err)) {
      }
      endwin();
    }
    delscreen(screen);
    mon.stop();
    worker.join();
  }
  const monitor::MonitorResult r = mailbox.result();
  if (r.exit_code != 0) {
    if (!r.error.empty()) std::cerr << "netscope: " << r.error << "\n";
    code = r.exit_code;
  }
  return code;
}

}  // namespace netscope::tui
