#pragma once
// IndexPreparer: makes each new snapshot ready to show on a thread of its own, so that the
// UI thread only builds frames. A snapshot that arrives is copied through the --filter /
// --pid prefilter when there is one, and its SnapshotIndex is built with what the current
// filter will use (the bare words' packed text, the connections' owner rows): with
// 100,000 connections that is tens of milliseconds, once per snapshot, which the UI would
// otherwise spend before the snapshot's first frame while keys wait. The UI keeps showing
// the previous snapshot meanwhile; a snapshot that arrives while one is being prepared
// replaces the one waiting (newest wins, as in SnapshotMailbox).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "monitor/snapshot.hpp"
#include "tui/filter.hpp"
#include "tui/model.hpp"

namespace netscope::tui {

class IndexPreparer {
 public:
  explicit IndexPreparer(std::function<void(monitor::Snapshot&)> prefilter = {});
  ~IndexPreparer();  // stops and joins the thread
  IndexPreparer(const IndexPreparer&) = delete;
  IndexPreparer& operator=(const IndexPreparer&) = delete;

  // Queues `snap` (replacing one not started yet). `filter` and `opt` say what to build;
  // `everything`: every part a filter could use (the user is typing one).
  void submit(std::shared_ptr<const monitor::Snapshot> snap, const Filter& filter,
              const ModelOptions& opt, bool everything = false);
  // Queues the parts an index of `snap` lacks (FrameKeeper asks when a filter edit needs
  // them), replacing a request not started yet.
  void upgrade(std::shared_ptr<const monitor::Snapshot> snap, IndexParts which);
  // The newest index made ready since the last call, or null.
  std::shared_ptr<const SnapshotIndex> take();
  // The parts made since the last call, or null.
  std::unique_ptr<BuiltParts> take_parts();
  // An eventfd, readable when an index is ready; drain() after waking.
  int fd() const { return fd_; }
  void drain();

 private:
  void run();
  std::function<void(monitor::Snapshot&)> prefilter_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const monitor::Snapshot> job_;
  Filter filter_;
  ModelOptions opt_;
  bool everything_ = false;
  std::shared_ptr<const monitor::Snapshot> parts_job_;
  IndexParts parts_which_;
  std::shared_ptr<const SnapshotIndex> ready_;
  std::unique_ptr<BuiltParts> parts_ready_;
  bool stop_ = false;
  int fd_ = -1;
  std::thread thread_;
};

}  // namespace netscope::tui
