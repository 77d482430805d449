#include "output/event_db.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "host/privileges.hpp"
#include "output/event_db_schema.hpp"
#include "output/event_db_writer.hpp"

namespace netscope::output {

struct EventDb::Impl {
  EventDbOptions options;
  sqlite::Database db;
  std::unique_ptr<EventWriter> writer;

  mutable std::mutex mu;
  std::condition_variable wake;       // writer: work or stop
  std::condition_variable committed;  // flush(): the queue drained
  std::deque<std::shared_ptr<const monitor::Snapshot>> queue;
  std::uint64_t enqueued = 0;  // sequence numbers, for flush()
  std::size_t queued_records = 0;
  std::uint64_t done = 0;
  bool stopping = false;
  bool finished = false;
  int flushing = 0;  // callers waiting in flush(): commit without the minimum interval
  std::chrono::steady_clock::time_point last_commit{};
  EventDbStats stats;
  std::thread thread;
  std::chrono::steady_clock::time_point last_error_log{};

  void add(const EventDbStats& s) {
    const std::lock_guard<std::mutex> lock(mu);
    stats.connections_inserted += s.connections_inserted;
    stats.connections_updated += s.connections_updated;
    stats.dns_inserted += s.dns_inserted;
    stats.alerts_inserted += s.alerts_inserted;
    stats.rows_pruned += s.rows_pruned;
    stats.commits += s.commits;
  }

  void report(const std::exception& e) {
    {
      const std::lock_guard<std::mutex> lock(mu);
      ++stats.write_errors;
    }
    // A full disk fails every batch: say so at most once a minute.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_error_log >= std::chrono::minutes(1)) {
      last_error_log = now;
      core::Log::error("--db " + options.path + ": write failed, batch rolled back: " + e.what());
    }
  }

  // One batch: everything queued, in transactions of at most max_batch_time each.
  void write_batch(std::deque<std::shared_ptr<const monitor::Snapshot>>& batch) {
    try {
      writer->begin();
      auto started = std::chrono::steady_clock::now();
      for (const auto& snap : batch) {
        writer->write(snap);
        if (std::chrono::steady_clock::now() - started >= options.max_batch_time) {
          add(writer->commit());
          writer->begin();
          started = std::chrono::steady_clock::now();
        }
      }
      writer->prune_if_due();
      add(writer->commit());
    } catch (const std::exception& e) {
      if (writer->in_transaction()) writer->rollback();
      report(e);
    }
  }

  void run() {
    host::drop_thread_capabilities("event log writer");  // its files are open
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty() && stopping) break;
      // Gather the snapshots of a fast replay into fewer transactions (min_commit_interval).
      wake.wait_until(lock, last_commit + options.min_commit_interval, [this] {
        return stopping || flushing > 0 || queue.size() * 2 >= options.queue_capacity ||
               queued_records * 2 >= options.queue_records;
      });
      std::deque<std::shared_ptr<const monitor::Snapshot>> batch;
      batch.swap(queue);
      queued_records = 0;
      const std::uint64_t upto = enqueued;
      lock.unlock();
      write_batch(batch);
      batch.clear();
      lock.lock();
      last_commit = std::chrono::steady_clock::now();
      done = upto;
      committed.notify_all();
    }
    lock.unlock();
    try {
      writer->begin();
      writer->write_final();
      add(writer->commit());
    } catch (const std::exception& e) {
      if (writer->in_transaction()) writer->rollback();
      report(e);
    }
  }
};

EventDb::EventDb(EventDbOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->db = open_event_db(impl_->options.path, impl_->options.netscope_version);
  try {
    impl_->writer = std::make_unique<EventWriter>(impl_->db, impl_->options);
  } catch (const std::exception& e) {
    throw std::runtime_error("--db " + impl_->options.path + ": " + e.what());
  }
  impl_->thread = std::thread([this] { impl_->run(); });
}

EventDb::~EventDb() {
  finish();
}

bool EventDb::enqueue(std::shared_ptr<const monitor::Snapshot> snap) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return false;
    const std::size_t records = snap->connections.size() + snap->dns.size();
    // An empty queue takes any snapshot, however large, so that a huge one is late, not lost.
    if (!impl_->queue.empty() && (impl_->queue.size() >= impl_->options.queue_capacity ||
                                  impl_->queued_records + records > impl_->options.queue_records)) {
      ++impl_->stats.snapshots_dropped;
      return false;
    }
    impl_->queued_records += records;
    impl_->queue.push_back(std::move(snap));
    ++impl_->enqueued;
  }
  impl_->wake.notify_one();
  return true;
}

void EventDb::flush() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  const std::uint64_t target = impl_->enqueued;
  ++impl_->flushing;
  impl_->wake.notify_one();
  impl_->committed.wait(lock, [&] { return impl_->done >= target || impl_->finished; });
  --impl_->flushing;
}

void EventDb::finish() {
  {
    const std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->finished) return;
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->writer.reset();
  impl_->db.close();
  const std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->finished = true;
  impl_->committed.notify_all();
}

EventDbStats EventDb::stats() const {
  const std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

const std::string& EventDb::path() const {
  return impl_->options.path;
}

}  // namespace netscope::output
