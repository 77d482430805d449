#include "tui/prepare.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "host/privileges.hpp"

namespace netscope::tui {

IndexPreparer::IndexPreparer(std::function<void(monitor::Snapshot&)> prefilter)
    : prefilter_(std::move(prefilter)), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("tui: eventfd failed");
  // The stop signals and SIGWINCH must keep reaching the UI thread (run_tui): this thread
  // starts with them blocked.
  sigset_t block;
  sigset_t old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigaddset(&block, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

IndexPreparer::~IndexPreparer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  close(fd_);
}

void IndexPreparer::submit(std::shared_ptr<const monitor::Snapshot> snap, const Filter& filter,
                           const ModelOptions& opt, bool everything) {
  {
    std::lock_guard lock(mu_);
    job_ = std::move(snap);
    filter_ = filter;  // a Filter copy shares its parsed program
    opt_ = opt;
    everything_ = everything;
  }
  cv_.notify_one();
}

void IndexPreparer::upgrade(std::shared_ptr<const monitor::Snapshot> snap, IndexParts which) {
  {
    std::lock_guard lock(mu_);
    parts_job_ = std::move(snap);
    parts_which_ = which;
  }
  cv_.notify_one();
}

std::shared_ptr<const SnapshotIndex> IndexPreparer::take() {
  std::lock_guard lock(mu_);
  return std::move(ready_);
}

std::unique_ptr<BuiltParts> IndexPreparer::take_parts() {
  std::lock_guard lock(mu_);
  return std::move(parts_ready_);
}

void IndexPreparer::drain() {
  std::uint64_t v = 0;
  [[maybe_unused]] const ssize_t n = read(fd_, &v, sizeof v);
}

void IndexPreparer::run() {
  // It sorts and filters snapshots: no capability (the UI thread keeps CAP_KILL).
  host::drop_thread_capabilities("TUI preparer");
  const std::uint64_t one = 1;
  for (;;) {
    std::shared_ptr<const monitor::Snapshot> snap;
    std::shared_ptr<const monitor::Snapshot> parts_snap;
    IndexParts which;
    Filter filter;
    ModelOptions opt;
    bool everything = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || job_ != nullptr || parts_job_ != nullptr; });
      if (stop_) return;
      // Parts first: a user waits for them (a filter edit); then the next snapshot.
      if (parts_job_) {
        parts_snap = std::move(parts_job_);
        which = parts_which_;
      } else {
        snap = std::move(job_);
        filter = filter_;
        opt = opt_;
        everything = everything_;
      }
    }
    if (parts_snap) {
      auto parts = std::make_unique<BuiltParts>(build_parts(std::move(parts_snap), which));
      {
        std::lock_guard lock(mu_);
        parts_ready_ = std::move(parts);
      }
      [[maybe_unused]] const ssize_t n = write(fd_, &one, sizeof one);
      continue;
    }
    if (prefilter_) {
      auto copy = std::make_shared<monitor::Snapshot>(*snap);
      prefilter_(*copy);
      snap = std::move(copy);
    }
    auto index = std::make_shared<const SnapshotIndex>(std::move(snap));
    // The lazily built parts are made here, before the UI thread can see the index.
    index->prepare(filter, opt, everything);
    {
      std::lock_guard lock(mu_);
      ready_ = std::move(index);
    }
    [[maybe_unused]] const ssize_t n = write(fd_, &one, sizeof one);
  }
}

}  // namespace netscope::tui
