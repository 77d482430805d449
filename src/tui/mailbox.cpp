#include "tui/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace netscope::tui {

SnapshotMailbox::SnapshotMailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("tui: eventfd failed");
}

SnapshotMailbox::~SnapshotMailbox() {
  if (fd_ >= 0) close(fd_);
}

void SnapshotMailbox::wake() {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already set: the UI will wake anyway.
  [[maybe_unused]] const ssize_t n = write(fd_, &one, sizeof one);
}

void SnapshotMailbox::drain() {
  std::uint64_t v = 0;
  [[maybe_unused]] const ssize_t n = read(fd_, &v, sizeof v);
}

void SnapshotMailbox::on_snapshot(const std::shared_ptr<const monitor::Snapshot>& snap) {
  {
    std::lock_guard lock(mu_);
    latest_ = snap;
    for (const monitor::DnsEventRecord& d : snap->dns) {
      if (d.pid) continue;
      if (unattributed_dns_.size() >= kMaxUnattributedDns) unattributed_dns_.pop_front();
      unattributed_dns_.push_back(d);
    }
  }
  wake();
}

void SnapshotMailbox::on_event(std::string_view message) {
  {
    std::lock_guard lock(mu_);
    if (events_.size() >= kMaxEvents) events_.pop_front();
    events_.emplace_back(message);
  }
  wake();
}

void SnapshotMailbox::finished(const monitor::MonitorResult& r) {
  {
    std::lock_guard lock(mu_);
    finished_ = true;
    result_ = r;
  }
  wake();
}

std::shared_ptr<const monitor::Snapshot> SnapshotMailbox::take() {
  std::lock_guard lock(mu_);
  return std::move(latest_);
}

std::vector<std::string> SnapshotMailbox::take_events() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out(events_.begin(), events_.end());
  events_.clear();
  return out;
}

std::vector<monitor::DnsEventRecord> SnapshotMailbox::unattributed_dns() const {
  std::lock_guard lock(mu_);
  return {unattributed_dns_.begin(), unattributed_dns_.end()};
}

bool SnapshotMailbox::is_finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

monitor::MonitorResult SnapshotMailbox::result() const {
  std::lock_guard lock(mu_);
  return result_;
}

}  // namespace netscope::tui
