#include "cli/live_mode.hpp"

#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <ostream>
#include <regex>
#include <sstream>
#include <thread>

#include "capture/capture_error.hpp"
#include "cli/sinks.hpp"
#include "core/log.hpp"
#include "enrich/blacklist.hpp"
#include "host/privileges.hpp"
#include "monitor/live_monitor.hpp"
#include "monitor/snapshot_filter.hpp"
#include "output/events.hpp"
#include "output/json_lines.hpp"
#include "output/raw.hpp"
#include "output/snapshot_json.hpp"
#include "tui/app.hpp"

namespace netscope::cli {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

std::atomic<monitor::LiveMonitor*> g_monitor{nullptr};

extern "C" void on_stop_signal(int /*sig*/) {
  const int saved = errno;  // the interrupted code may be about to read it
  if (monitor::LiveMonitor* m = g_monitor.load()) m->stop();
  errno = saved;
}

// Installs the handlers for the monitor's lifetime; restores the defaults after.
class SignalScope {
 public:
  explicit SignalScope(monitor::LiveMonitor& m) {
    g_monitor.store(&m);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // A closed pipe (`netscope --raw | head`) ends the run through the stream's error
    // state, not through a signal that would skip the flush of other outputs.
    signal(SIGPIPE, SIG_IGN);
  }
  ~SignalScope() {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_monitor.store(nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
};

// --- SIGHUP reloads the --blacklist files (headless modes; the TUI uses its L key, since
// SIGHUP there means the terminal is gone). The handler only writes to an eventfd; a
// small thread does the reading and parsing, off the tick thread.
std::atomic<int> g_hangup_fd{-1};

extern "C" void on_hangup_signal(int /*sig*/) {
  const int fd = g_hangup_fd.load();
  if (fd < 0) return;
  const int saved = errno;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
  errno = saved;
}

class ReloadOnHangup {
 public:
  ReloadOnHangup() {
    std::shared_ptr<enrich::Blacklist> list = enrich::active_blacklist();
    if (!list) return;  // nothing to reload: SIGHUP keeps its default meaning
    hup_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (hup_fd_ < 0 || stop_fd_ < 0) {
      core::Log::warn("SIGHUP will not reload --blacklist: eventfd failed");
      return;
    }
    thread_ = std::thread([this, list] { run(*list); });
    g_hangup_fd.store(hup_fd_);
    struct sigaction sa {};
    sa.sa_handler = on_hangup_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, nullptr);
  }
  ~ReloadOnHangup() {
    if (thread_.joinable()) {
      // Ignored, not the default (which ends the process), while the outputs still finish
      // (the event log's last commit, the recordings' files).
      signal(SIGHUP, SIG_IGN);
      g_hangup_fd.store(-1);
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
      thread_.join();
    }
    if (hup_fd_ >= 0) ::close(hup_fd_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
  }
  ReloadOnHangup(const ReloadOnHangup&) = delete;
  ReloadOnHangup& operator=(const ReloadOnHangup&) = delete;

 private:
  void run(enrich::Blacklist& list) const {
    // It re-reads the --blacklist files, which the start may have read with this capability.
    host::drop_thread_capabilities("blacklist reloader", {CAP_DAC_READ_SEARCH});
    for (;;) {
      pollfd fds[2] = {{hup_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if ((fds[1].revents & POLLIN) != 0) return;
      std::uint64_t count = 0;
      if (::read(hup_fd_, &count, sizeof count) != sizeof count) continue;
      const enrich::BlacklistLoad r = list.reload();
      for (const std::string& e : r.errors) core::Log::warn("--blacklist " + e);
      core::Log::warn("SIGHUP: " + r.summary());
    }
  }

  int hup_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};
// --- end SIGHUP reload

monitor::MonitorConfig monitor_config(const LiveCliOptions& o) {
  monitor::MonitorConfig c;
  c.read_file = o.read_file;
  c.speed = o.speed;
  c.local_nets = o.local_nets;
  c.capture.interfaces = o.interfaces;
  c.capture.show_localhost = o.show_localhost;
  c.capture.snaplen = o.snaplen;
  c.capture.bpf = o.bpf;
  c.max_flows = o.max_flows;
  c.timeouts = timeouts_from(o.timeouts);
  c.refresh = std::chrono::milliseconds(o.refresh_ms);
  c.window_s = o.window_s;
  c.resolve = !o.no_resolve;
  c.attribute = !o.no_attribution;
  c.dpi = !o.no_dpi;
  c.decorators = make_decorators(o);
  return c;
}

// Throws std::runtime_error naming the option when the pattern is malformed.
monitor::SnapshotFilter make_filter(const LiveCliOptions& o) {
  monitor::SnapshotFilter f;
  f.pids = o.pids;
  if (!o.filter.empty()) {
    try {
      f.set_pattern(o.filter);
    } catch (const std::regex_error& e) {
      throw std::runtime_error("--filter \"" + o.filter + "\": " + e.what());
    }
  }
  return f;
}

class PrintListener : public monitor::SnapshotListener {
 public:
  PrintListener(const LiveCliOptions& o, monitor::SnapshotFilter filter, std::ostream& out)
      : filter_(std::move(filter)), out_(out), json_(o.json_lines) {
    const bool any_table = o.processes || o.connections || o.addresses;
    raw_.processes = !any_table || o.processes;
    raw_.connections = !any_table || o.connections;
    raw_.remotes = !any_table || o.addresses;
    raw_.totals = o.total;
    raw_.resolve = !o.no_resolve;
    raw_.top = o.top;
    json_opts_.processes = raw_.processes;
    json_opts_.connections = raw_.connections;
    json_opts_.remotes = raw_.remotes;
    json_opts_.top = o.top;
    if (o.json_lines && o.events) events_ = std::make_unique<output::EventTracker>();  // --events
  }
  void set_monitor(monitor::LiveMonitor* m) { monitor_ = m; }

  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override {
    const monitor::Snapshot* s = snap.get();
    monitor::Snapshot filtered;
    if (!filter_.empty()) {
      filtered = *snap;
      monitor::apply_filter(filtered, filter_);
      s = &filtered;
    }
    if (json_) {
      // --events: the event lines and the tick line go out in one write.
      std::string text = events_ ? events_->lines(*s) : std::string();
      output::append_tick_json_line(*s, json_opts_, text);
      out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    } else {
      output::write_raw(*s, raw_, out_);
    }
    out_.flush();
    if (!out_ && write_errno_ == 0) {
      // The reader went away (EPIPE: `| head`) or the output cannot be written (a full
      // disk): either way the run ends; only the second is an error (write_error()).
      write_errno_ = errno != 0 ? errno : EIO;
      if (monitor_ != nullptr) monitor_->stop();
    }
  }
  // The errno of a failed write of stdout other than a closed pipe; 0 when none.
  int write_error() const { return write_errno_ == EPIPE ? 0 : write_errno_; }
  void on_event(std::string_view message) override { core::Log::warn(message); }

 private:
  monitor::SnapshotFilter filter_;
  std::ostream& out_;
  bool json_ = false;
  output::RawOptions raw_;
  output::JsonOptions json_opts_;
  int write_errno_ = 0;
  std::unique_ptr<output::EventTracker> events_;  // --events
  monitor::LiveMonitor* monitor_ = nullptr;
};

// Quiet listener for `snapshot`: the document is written once at the end.
class EventListener : public monitor::SnapshotListener {
 public:
  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& /*snap*/) override {}
  void on_event(std::string_view message) override { core::Log::warn(message); }
};

bool configure_log(const LiveCliOptions& o, std::ostream& err) {
  core::LogLevel level = core::LogLevel::warn;
  core::parse_log_level(o.log_level, level);
  try {
    core::Log::configure(level, o.log_file);
  } catch (const std::exception& e) {
    err << "netscope: " << e.what() << "\n";
    return false;
  }
  return true;
}

// Warns about what attribution will miss without some capabilities, then, once the
// capture handles and netlink sockets are open, drops every capability the monitor does
// not use any more (tcpdump -Z does the same). CAP_NET_RAW/NET_ADMIN stay so that an
// interface that comes back up can be reopened; the /proc and namespace ones stay for
// attribution of processes that start later.
void check_privileges(bool live, bool attribute) {
  if (!live) return;
  host::raise_open_file_limit();  // before the attribution's namespaces are sized by it
  const host::Capabilities caps = host::effective_capabilities();
  if (attribute) {
    const std::string w = host::privilege_warnings(caps);
    if (!w.empty()) core::Log::warn(w);
  }
}

// Without attribution (--no-attribution) only the capture's two stay: nothing reads
// other processes' fd tables, enters a namespace or asks for real-time priority.
// `ui`: CAP_KILL and CAP_DAC_OVERRIDE stay too, for the TUI's thread: its `x` key sends
// SIGTERM to a process of any user, and `e` writes exports into --export-dir.
void drop_privileges(bool attribute, bool ui = false) {
  std::string error;
  // CAP_SYS_NICE (optional): real-time priority for the SYN-watch and lookup threads,
  // which switch between SCHED_FIFO and SCHED_OTHER (host/thread_latency.hpp).
  // The UI's two, or CAP_NET_RAW (kept anyway) twice for the others.
  const int kill = ui ? CAP_KILL : CAP_NET_RAW;
  const int files = ui ? CAP_DAC_OVERRIDE : CAP_NET_RAW;
  const bool dropped =
      attribute ? host::drop_capabilities_except(
                      {CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
                       CAP_SYS_ADMIN, CAP_SYS_NICE, kill, files},
                      &error)
                : host::drop_capabilities_except({CAP_NET_RAW, CAP_NET_ADMIN, kill, files}, &error);
  if (!dropped) core::Log::info("could not drop capabilities: " + error);
}

int report_open_failure(const std::exception& e, std::ostream& err) {
  std::string msg = e.what();
  if (msg.rfind("netscope: ", 0) != 0) msg = "netscope: " + msg;
  err << msg << (msg.ends_with('\n') ? "" : "\n");
  return kExitUsage;
}

// --- TUI: when stdout is a terminal and no text format is asked for (README "TUI")
bool wants_tui(const LiveCliOptions& o) {
  return isatty(STDOUT_FILENO) != 0 && !o.raw && !o.json_lines && !o.headless;
}

int run_tui_mode(const LiveCliOptions& o, std::ostream& err) {
  tui::SnapshotMailbox mailbox;
  tui::TuiOptions t;
  Sinks sinks;
  std::unique_ptr<FanOut> fanout;
  std::unique_ptr<monitor::LiveMonitor> mon;
  try {
    monitor::SnapshotFilter filter = make_filter(o);
    if (!filter.empty()) {
      t.prefilter = [filter](monitor::Snapshot& s) { monitor::apply_filter(s, filter); };
    }
    sinks = make_sinks(o);
    fanout = std::make_unique<FanOut>(mailbox, sinks);
    check_privileges(o.read_file.empty(), !o.no_attribution);
    monitor::MonitorConfig c = monitor_config(o);
    if (o.read_file.empty())
      c.before_threads = [attribute = !o.no_attribution] { drop_privileges(attribute); };
    c.packet_tap = find_recorder(sinks);  // --record-*: the recorder sees every packet
    mon = std::make_unique<monitor::LiveMonitor>(c, *fanout);
    // The monitor runs on a thread the TUI starts, and its before_threads hook drops the
    // capabilities of that thread only: this one, which draws and starts the UI's
    // threads, drops its own now that the handles are open (keeping CAP_KILL for `x` and
    // CAP_DAC_OVERRIDE for `e`'s exports).
    if (o.read_file.empty()) drop_privileges(!o.no_attribution, true);
  } catch (const std::exception& e) {
    return report_open_failure(e, err);
  }
  if (o.processes || o.connections || o.addresses) {
    t.tables.clear();
    if (o.processes) t.tables.push_back(tui::Table::processes);
    if (o.connections) t.tables.push_back(tui::Table::connections);
    if (o.addresses) t.tables.push_back(tui::Table::remotes);
  }
  if (monitor::Recorder* r = find_recorder(sinks)) {
    t.toggle_recording = [r](pid_t pid) {
      const bool on = !r->recording(pid);
      r->toggle(pid);
      return on;
    };
  }
  t.totals = o.total;
  t.resolve = !o.no_resolve;
  t.top = o.top;
  t.units.units = o.units == "bits" ? tui::Units::bits : tui::Units::bytes;
  t.units.prefix = o.prefix == "binary" ? tui::Prefix::binary : tui::Prefix::si;
  t.color = !o.no_color;
  t.export_dir = o.export_dir;
  t.replay = !o.read_file.empty();
  const int code = tui::run_tui(t, *mon, mailbox);
  fanout->finish(o.read_file.empty() ? mon->latest() : nullptr);
  return code;
}
// --- end TUI

}  // namespace

int run_live(const LiveCliOptions& o, std::ostream& out, std::ostream& err) {
  if (!configure_log(o, err)) return kExitUsage;
  // --headless (a service): nothing on stdout, the sinks do the work.
  if (o.headless && (o.raw || o.json_lines)) {
    err << "netscope: --headless writes nothing to stdout: drop --raw/--json-lines\n";
    return kExitUsage;
  }
  if (wants_tui(o)) return run_tui_mode(o, err);  // TUI
  EventListener headless_listener;
  std::unique_ptr<PrintListener> listener;
  Sinks sinks;
  std::unique_ptr<FanOut> fanout;
  std::unique_ptr<monitor::LiveMonitor> mon;
  try {
    listener = std::make_unique<PrintListener>(o, make_filter(o), out);
    sinks = make_sinks(o);
    fanout = std::make_unique<FanOut>(
        o.headless ? static_cast<monitor::SnapshotListener&>(headless_listener) : *listener, sinks);
    check_privileges(o.read_file.empty(), !o.no_attribution);
    monitor::MonitorConfig c = monitor_config(o);
    if (o.read_file.empty())
      c.before_threads = [attribute = !o.no_attribution] { drop_privileges(attribute); };
    c.packet_tap = find_recorder(sinks);  // --record-*: the recorder sees every packet
    mon = std::make_unique<monitor::LiveMonitor>(c, *fanout);
  } catch (const std::exception& e) {
    return report_open_failure(e, err);
  }
  listener->set_monitor(mon.get());
  monitor::MonitorResult r;
  {
    SignalScope signals(*mon);
    ReloadOnHangup reload_on_hup;  // headless: SIGHUP reloads --blacklist
    r = mon->run();
  }
  fanout->finish(o.read_file.empty() ? mon->latest() : nullptr);
  if (const int e = listener->write_error(); e != 0) {
    err << "netscope: cannot write the output to stdout: " << std::strerror(e) << "\n";
    return kExitUsage;
  }
  return r.exit_code == 0 ? kExitOk : r.exit_code;
}

int run_snapshot(const LiveCliOptions& o, std::ostream& out, std::ostream& err) {
  if (!configure_log(o, err)) return kExitUsage;
  EventListener listener;
  Sinks sinks;
  std::unique_ptr<FanOut> fanout;
  std::unique_ptr<monitor::LiveMonitor> mon;
  monitor::SnapshotFilter filter;
  std::ofstream file;
  try {
    filter = make_filter(o);
    sinks = make_sinks(o);
    fanout = std::make_unique<FanOut>(listener, sinks);
    if (o.output != "-") {
      file.open(o.output, std::ios::out | std::ios::trunc);
      if (!file) throw std::runtime_error("cannot write " + o.output);
    }
    check_privileges(o.read_file.empty(), !o.no_attribution);
    monitor::MonitorConfig c = monitor_config(o);
    c.keep_history = true;
    c.packet_tap = find_recorder(sinks);  // --record-*: the recorder sees every packet
    if (o.read_file.empty()) {
      c.duration_s = o.duration_s;
      c.before_threads = [attribute = !o.no_attribution] { drop_privileges(attribute); };
    }
    mon = std::make_unique<monitor::LiveMonitor>(c, *fanout);
  } catch (const std::exception& e) {
    return report_open_failure(e, err);
  }
  monitor::MonitorResult r;
  {
    SignalScope signals(*mon);
    ReloadOnHangup reload_on_hup;  // headless: SIGHUP reloads --blacklist
    r = mon->run();
  }
  fanout->finish(o.read_file.empty() ? mon->latest() : nullptr);
  monitor::Snapshot doc = mon->whole_run();
  monitor::apply_filter(doc, filter);
  std::ostream& dest = o.output == "-" ? out : file;
  output::write_snapshot_document(doc, dest);
  dest.flush();
  if (!dest) {
    err << "netscope: could not write the snapshot to " << (o.output == "-" ? "stdout" : o.output)
        << "\n";
    return kExitUsage;
  }
  return r.exit_code;
}

}  // namespace netscope::cli
