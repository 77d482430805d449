#pragma once
// EventDb: the SQLite event log (--db PATH). It turns the stream of snapshots into rows:
//   connections  one row per connection, inserted when first seen and updated when it
//                closes or ages out (close_reason), when its owner or DPI fields become
//                known, and every EventDbOptions::update_interval while it stays open;
//   dns_queries  one row per DNS transaction (Snapshot::dns);
//   alerts       one row per blacklisted connection or DNS query (the records' `alert`);
//   meta         the schema version (output/event_db_schema.hpp).
//
// enqueue() runs on the monitor's tick thread and only appends a shared_ptr to a bounded
// queue; a writer thread compares consecutive snapshots and writes batches, one
// transaction per batch, committing at least every EventDbOptions::max_batch_time. A full
// queue drops the snapshot and counts it (stats().snapshots_dropped). A write error (a
// full disk) rolls the batch back, is reported through core::Log, and the writer goes
// on with the next one; the database stays consistent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "monitor/snapshot.hpp"

namespace netscope::output {

struct EventDbOptions {
  std::string path;
  std::string netscope_version = "unknown";  // recorded in meta.created_by
  std::optional<double> retention_days;      // --db-retention: prune rows older than this
  // Bounds of the queue to the writer: snapshots, and the records (connections and DNS
  // events) they hold, which is what costs memory (about 1 KB a record).
  std::size_t queue_capacity = 64;
  std::size_t queue_records = 1'000'000;
  std::chrono::milliseconds max_batch_time{1000};
  // Snapshots that arrive sooner than this after a commit wait for the next one, so that
  // a fast replay (many snapshots a second) commits a few times a second instead of once
  // per snapshot: each commit rewrites the B-tree pages it touched into the WAL. At the
  // live pace (a snapshot a second) every snapshot is committed as it comes. flush() and
  // finish() do not wait.
  std::chrono::milliseconds min_commit_interval{200};
  std::chrono::seconds update_interval{60};  // refresh open connections' counters
  std::chrono::seconds prune_interval{300};
};

struct EventDbStats {
  std::uint64_t connections_inserted = 0;
  std::uint64_t connections_updated = 0;
  std::uint64_t dns_inserted = 0;
  std::uint64_t alerts_inserted = 0;
  std::uint64_t rows_pruned = 0;
  std::uint64_t commits = 0;
  std::uint64_t snapshots_dropped = 0;  // queue full (either bound)
  std::uint64_t write_errors = 0;       // batches rolled back
};

class EventDb {
 public:
  // Opens or creates the database and starts the writer thread. Throws
  // std::runtime_error("--db PATH: ...") when the file cannot be used; a refused file is
  // left untouched.
  explicit EventDb(EventDbOptions options);
  ~EventDb();  // finish()
  EventDb(const EventDb&) = delete;
  EventDb& operator=(const EventDb&) = delete;

  // Non-blocking; false when the queue is full (the snapshot is dropped and counted).
  bool enqueue(std::shared_ptr<const monitor::Snapshot> snap);
  // Writes everything queued, brings the rows of connections still open up to date,
  // commits and closes the database. Idempotent.
  void finish();
  // Blocks until everything queued so far is committed (tests, benchmarks).
  void flush();
  EventDbStats stats() const;
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::output
