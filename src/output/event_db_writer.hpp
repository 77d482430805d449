#pragma once
// EventWriter: the event log's writer-thread half. It keeps, per connection it has
// written, the row id and what the row says, and turns each snapshot into the inserts
// and updates that bring the tables up to date (see event_db.hpp for when a row is
// written). All calls happen on the writer thread, between begin() and commit().

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ip_address.hpp"
#include "monitor/snapshot.hpp"
#include "output/event_db.hpp"
#include "output/event_db_conn_table.hpp"
#include "output/event_db_sqlite.hpp"

namespace netscope::output {

class EventWriter {
 public:
  EventWriter(sqlite::Database& db, const EventDbOptions& options);

  void begin();
  // Commits and returns the rows the transaction wrote.
  EventDbStats commit();
  // Undoes the transaction in the database and in the writer's memory.
  void rollback();
  bool in_transaction() const { return in_tx_; }

  void write(const std::shared_ptr<const monitor::Snapshot>& snap);
  // Updates every connection of the last snapshot that is still open (the final
  // counters; close_reason stays NULL: it was open when netscope stopped).
  void write_final();
  // Deletes rows older than the retention, measured from the last snapshot's time.
  void prune_if_due();

 private:
  struct ConnKey {
    std::uint8_t proto = 0;
    core::IpAddress local;
    std::uint16_t local_port = 0;
    core::IpAddress remote;
    std::uint16_t remote_port = 0;
    std::int64_t first_seen_ns = 0;
    bool operator==(const ConnKey&) const = default;
  };
  // What the writer remembers of one connection's row, to know when it must be updated.
  // It is small and flat: the fields an update depends on are kept as a fingerprint
  // (identity_of), so the per-snapshot comparison copies and allocates nothing.
  struct ConnState {
    std::int64_t rowid = 0;
    std::int64_t updated_ns = 0;  // snapshot time of the last insert/update
    std::uint64_t seen = 0;       // the last snapshot (sequence number) it was in
    std::uint64_t identity = 0;   // identity_of() when the row was last written
    std::uint64_t journaled = 0;  // the transaction that last saved it for rollback
    bool closed = false;
    bool alerted = false;
  };
  using Conns = ConnTable<ConnKey, ConnState>;

  static ConnKey key_of(const monitor::ConnectionRecord& c);
  static std::uint64_t hash_of(const ConnKey& k);
  // A 64-bit fingerprint of the fields whose change rewrites the whole row (owner, DPI
  // fields, enrichment, alert); any other change touches only the counter columns.
  static std::uint64_t identity_of(const monitor::ConnectionRecord& c);
  const monitor::ProcessRecord* process_of(const monitor::Snapshot& s,
                                           const monitor::ConnectionRecord& c);
  void bind_connection(sqlite::Statement& st, const monitor::ConnectionRecord& c,
                       const monitor::ProcessRecord* p, bool with_key, const char* close_reason);
  // The columns every update writes: state through the TCP health counters.
  template <typename B>
  static void bind_counters(B& b, const monitor::ConnectionRecord& c, const char* close_reason);
  std::int64_t insert_connection(const monitor::Snapshot& s, const monitor::ConnectionRecord& c);
  void update_connection(const monitor::Snapshot& s, const monitor::ConnectionRecord& c,
                         std::int64_t rowid, const char* close_reason);
  void update_counters(const monitor::ConnectionRecord& c, std::int64_t rowid,
                       const char* close_reason);
  void mark_vanished(std::int64_t rowid, core::Timestamp when);
  std::int64_t insert_dns(const monitor::DnsEventRecord& d);
  void insert_connection_alert(const monitor::Snapshot& s, const monitor::ConnectionRecord& c,
                               std::int64_t rowid);
  void insert_dns_alert(const monitor::DnsEventRecord& d, std::int64_t rowid);
  void insert_alert(core::Timestamp t, const std::string& entry, const std::string& subject,
                    const std::string& details, const std::optional<pid_t>& pid,
                    const std::string& process, std::optional<std::int64_t> connection_id,
                    std::optional<std::int64_t> dns_id);
  // Saves an entry's state before its first change in this transaction, or records that
  // `key` was absent before it was inserted.
  void journal(Conns::Entry& e);
  void journal_absent(const ConnKey& key, std::uint64_t hash);

  sqlite::Database& db_;
  const EventDbOptions& options_;
  sqlite::Statement insert_conn_;
  sqlite::Statement update_conn_;
  sqlite::Statement update_counters_;
  sqlite::Statement vanish_conn_;
  sqlite::Statement insert_dns_;
  sqlite::Statement insert_alert_;

  Conns conns_;
  // The transaction's journal, undone in reverse order by rollback().
  struct Undo {
    ConnKey key;
    std::uint64_t hash;
    std::optional<ConnState> before;
  };
  std::vector<Undo> undo_;
  std::uint64_t tx_number_ = 0;
  std::uint64_t sequence_ = 0;
  std::shared_ptr<const monitor::Snapshot> last_;
  std::unordered_map<pid_t, const monitor::ProcessRecord*> procs_;
  // The snapshot procs_ points into: its address, tick and process list (the monitor
  // recycles snapshot objects, so an address alone may come back with other contents).
  const monitor::Snapshot* procs_of_ = nullptr;
  std::uint64_t procs_tick_ = 0;
  const monitor::ProcessRecord* procs_data_ = nullptr;
  bool in_tx_ = false;
  EventDbStats tx_;
  std::int64_t last_prune_ns_ = 0;
};

}  // namespace netscope::output
