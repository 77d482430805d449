#pragma once
// SnapshotMailbox: the hand-off from the monitor's tick thread to the TUI's thread. The
// tick thread only stores the newest shared_ptr<const Snapshot> under a mutex and pokes an
// eventfd; it never waits for the screen. The UI thread polls the eventfd with the
// keyboard and takes the newest snapshot, so a slow terminal skips frames instead of
// queueing them.

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/live_monitor.hpp"

namespace netscope::tui {

class SnapshotMailbox : public monitor::SnapshotListener {
 public:
  SnapshotMailbox();
  ~SnapshotMailbox() override;
  SnapshotMailbox(const SnapshotMailbox&) = delete;
  SnapshotMailbox& operator=(const SnapshotMailbox&) = delete;

  void on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) override;
  void on_event(std::string_view message) override;
  // The monitor's run() returned (end of a replay, an error, or stop()).
  void finished(const monitor::MonitorResult& r);

  // UI thread: the newest snapshot not taken yet (null if none), and the events since.
  std::shared_ptr<const monitor::Snapshot> take();
  std::vector<std::string> take_events();
  // The latest DNS transactions no process on this host asked for (every one of a
  // replay), oldest first: the "<UNKNOWN>" row's DNS history. Collected on the tick
  // thread so that none is lost between two frames the UI shows.
  std::vector<monitor::DnsEventRecord> unattributed_dns() const;
  bool is_finished() const;
  monitor::MonitorResult result() const;
  // Readable when something arrived; drain() after waking.
  int fd() const { return fd_; }
  void drain();

 private:
  void wake();
  static constexpr std::size_t kMaxEvents = 32;
  static constexpr std::size_t kMaxUnattributedDns = 100;
  std::deque<monitor::DnsEventRecord> unattributed_dns_;
  mutable std::mutex mu_;
  std::shared_ptr<const monitor::Snapshot> latest_;
  std::deque<std::string> events_;
  bool finished_ = false;
  monitor::MonitorResult result_;
  int fd_ = -1;
};

}  // namespace netscope::tui
