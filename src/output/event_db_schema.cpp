#include "output/event_db_schema.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::output {

namespace {

// Times are stored twice: RFC 3339 UTC text to read, integer microseconds since the
// epoch (`*_us`) to index and compare. NULL is an unknown value, as in the JSON outputs.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE connections (
  id                 INTEGER PRIMARY KEY,
  proto              TEXT NOT NULL,
  local_addr         TEXT NOT NULL,
  local_port         INTEGER NOT NULL,
  remote_addr        TEXT NOT NULL,
  remote_port        INTEGER NOT NULL,
  remote_host        TEXT,
  interface          TEXT,
  pid                INTEGER,
  process            TEXT,
  cmdline            TEXT,
  user               TEXT,
  container          TEXT,
  attribution        TEXT,
  app                TEXT,
  sni                TEXT,
  http_host          TEXT,
  country            TEXT,
  asn                INTEGER,
  asn_org            TEXT,
  state              TEXT,
  bytes_up           INTEGER NOT NULL,
  bytes_down         INTEGER NOT NULL,
  packets_up         INTEGER NOT NULL,
  packets_down       INTEGER NOT NULL,
  payload_bytes_up   INTEGER NOT NULL,
  payload_bytes_down INTEGER NOT NULL,
  rtt_ms             REAL,
  first_seen         TEXT NOT NULL,
  first_seen_us      INTEGER NOT NULL,
  last_seen          TEXT NOT NULL,
  last_seen_us       INTEGER NOT NULL,
  close_reason       TEXT,
  retransmissions_up           INTEGER NOT NULL,
  fast_retransmissions_up      INTEGER NOT NULL,
  spurious_retransmissions_up  INTEGER NOT NULL,
  out_of_order_up              INTEGER NOT NULL,
  dup_acks_up                  INTEGER NOT NULL,
  dup_ack_events_up            INTEGER NOT NULL,
  zero_windows_up              INTEGER NOT NULL,
  rsts_up                      INTEGER NOT NULL,
  retransmissions_down         INTEGER NOT NULL,
  fast_retransmissions_down    INTEGER NOT NULL,
  spurious_retransmissions_down INTEGER NOT NULL,
  out_of_order_down            INTEGER NOT NULL,
  dup_acks_down                INTEGER NOT NULL,
  dup_ack_events_down          INTEGER NOT NULL,
  zero_windows_down            INTEGER NOT NULL,
  rsts_down                    INTEGER NOT NULL,
  alert              TEXT
);
CREATE INDEX connections_first_seen ON connections (first_seen_us);
CREATE INDEX connections_last_seen ON connections (last_seen_us);
CREATE INDEX connections_process ON connections (process, first_seen_us);
CREATE INDEX connections_pid ON connections (pid, first_seen_us);
CREATE INDEX connections_remote ON connections (remote_addr, first_seen_us);
CREATE INDEX connections_sni ON connections (sni) WHERE sni IS NOT NULL;
CREATE TABLE dns_queries (
  id          INTEGER PRIMARY KEY,
  time        TEXT NOT NULL,
  time_us     INTEGER NOT NULL,
  pid         INTEGER,
  process     TEXT,
  server      TEXT,
  query       TEXT NOT NULL,
  type        TEXT,
  rcode       TEXT,
  rcode_code  INTEGER,
  answers     TEXT,
  latency_ms  REAL,
  alert       TEXT
);
CREATE INDEX dns_queries_time ON dns_queries (time_us);
CREATE INDEX dns_queries_query ON dns_queries (query, time_us);
CREATE INDEX dns_queries_process ON dns_queries (process, time_us);
CREATE INDEX dns_queries_rcode ON dns_queries (rcode, time_us);
CREATE TABLE alerts (
  id             INTEGER PRIMARY KEY,
  time           TEXT NOT NULL,
  time_us        INTEGER NOT NULL,
  kind           TEXT NOT NULL,
  severity       TEXT NOT NULL,
  subject        TEXT NOT NULL,
  details        TEXT NOT NULL,
  entry          TEXT NOT NULL,
  pid            INTEGER,
  process        TEXT,
  connection_id  INTEGER,
  dns_query_id   INTEGER
);
CREATE INDEX alerts_time ON alerts (time_us);
CREATE INDEX alerts_entry ON alerts (entry, time_us);
)sql";

// Upgrade steps: each takes a version-`from` schema to from + 1. A new database is made
// at version 1 and goes through every step, so a migrated file and a new one have the
// same tables. A database that claims a version older than 1 is refused rather than
// guessed at.
struct Migration {
  int from;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    // 2: the owner's container runtime, Kubernetes pod UID and systemd unit (what
    // /proc/<pid>/cgroup tells beside the container ID). Rows written before stay NULL there.
    {1, R"sql(
ALTER TABLE connections ADD COLUMN container_runtime TEXT;
ALTER TABLE connections ADD COLUMN pod_uid TEXT;
ALTER TABLE connections ADD COLUMN unit TEXT;
CREATE INDEX connections_unit ON connections (unit, first_seen_us) WHERE unit IS NOT NULL;
CREATE INDEX connections_container ON connections (container, first_seen_us)
  WHERE container IS NOT NULL;
)sql"},
};

// Runs the steps from version `from` up to kEventDbSchemaVersion, inside the caller's
// transaction. Returns false when no step starts at a version on the way.
bool run_migrations(sqlite::Database& db, int from) {
  for (int v = from; v < kEventDbSchemaVersion; ++v) {
    const Migration* step = nullptr;
    for (const Migration& m : kMigrations) {
      if (m.from == v) step = &m;
    }
    if (step == nullptr) return false;
    db.exec(step->sql);
  }
  return true;
}

std::int64_t query_int(sqlite::Database& db, const char* sql) {
  sqlite::Statement st = db.prepare(sql);
  return st.step() ? st.column_int(0) : 0;
}

bool has_table(sqlite::Database& db, const char* name) {
  sqlite::Statement st = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
  st.bind_text(1, name);
  return st.step();
}

// meta.schema_version, or nullopt when the table or the key is missing or not a number.
std::optional<int> meta_version(sqlite::Database& db) {
  if (!has_table(db, "meta")) return std::nullopt;
  sqlite::Statement st = db.prepare("SELECT value FROM meta WHERE key='schema_version'");
  if (!st.step()) return std::nullopt;
  const std::string v = st.column_text(0);
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoi(v);
}

void create_schema(sqlite::Database& db, const std::string& version) {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(kSchemaV1);
    if (!run_migrations(db, 1)) throw std::logic_error("event DB: a migration step is missing");
    sqlite::Statement st = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    const auto put = [&st](const char* k, const std::string& v) {
      st.bind_text(1, k);
      st.bind_text(2, v);
      st.step();
      st.reset();
    };
    put("schema_version", std::to_string(kEventDbSchemaVersion));
    put("created_by", "netscope " + version);
    db.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {};",
                        kEventDbApplicationId, kEventDbSchemaVersion)
                .c_str());
    db.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void migrate(sqlite::Database& db, int from, const std::string& path) {
  db.exec("BEGIN IMMEDIATE");
  try {
    // Read again under the write lock: another netscope opening the same file may have
    // migrated it while this one waited for the lock.
    if (const std::optional<int> now = meta_version(db); now && *now >= kEventDbSchemaVersion) {
      db.exec("COMMIT");
      return;
    } else if (now) {
      from = *now;
    }
    if (!run_migrations(db, from)) {
      throw std::runtime_error(fmt::format(
          "--db {}: schema version {} is older than any this netscope can migrate (it "
          "writes version {}); the file is left as it is. Move it aside or pass another "
          "--db path",
          path, from, kEventDbSchemaVersion));
    }
    db.exec(fmt::format("UPDATE meta SET value='{}' WHERE key='schema_version'; "
                        "PRAGMA user_version = {};",
                        kEventDbSchemaVersion, kEventDbSchemaVersion)
                .c_str());
    db.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void check_and_prepare(sqlite::Database& db, const std::string& path, const std::string& version) {
  // The first read of the header: a file that is not SQLite fails here, unchanged.
  const std::int64_t tables = query_int(db, "SELECT count(*) FROM sqlite_master");
  const std::int64_t app_id = query_int(db, "PRAGMA application_id");
  if (tables == 0 && (app_id == 0 || app_id == kEventDbApplicationId)) {
    create_schema(db, version);
    return;
  }
  const std::optional<int> v = meta_version(db);
  if (app_id != kEventDbApplicationId && !v) {
    throw std::runtime_error(fmt::format(
        "--db {}: not a netscope event database (an SQLite file with other tables); the file "
        "is left as it is",
        path));
  }
  if (!v) {
    throw std::runtime_error(fmt::format(
        "--db {}: netscope event database without a schema version in its meta table; the "
        "file is left as it is",
        path));
  }
  if (*v > kEventDbSchemaVersion) {
    throw std::runtime_error(fmt::format(
        "--db {}: schema version {} is newer than this netscope writes ({}); the file is "
        "left as it is. Use a newer netscope or another --db path",
        path, *v, kEventDbSchemaVersion));
  }
  if (*v < kEventDbSchemaVersion) migrate(db, *v, path);
}

}  // namespace

sqlite::Database open_event_db(const std::string& path, const std::string& netscope_version) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw std::runtime_error(fmt::format("--db {}: not a regular file", path));
  }
  try {
    sqlite::Database db(path, true);
    // A second writer (another netscope on the same file) waits this long for a lock.
    sqlite3_busy_timeout(db.handle(), 5000);
    check_and_prepare(db, path, netscope_version);
    // WAL: readers (the sqlite3 CLI) never block the writer, and a crash loses at most
    // the transaction in progress. synchronous=NORMAL is durable against a crash of
    // netscope (kill -9); only a power loss may drop the last commits (sqlite.org/wal.html).
    sqlite::Statement mode = db.prepare("PRAGMA journal_mode=WAL");
    const std::string got = mode.step() ? mode.column_text(0) : "";
    if (got != "wal") {
      throw std::runtime_error(
          fmt::format("--db {}: cannot switch to WAL (journal mode stays {})", path, got));
    }
    // 64 MiB of page cache: the indexes of a busy log are updated in no particular order.
    db.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;");
    return db;
  } catch (const sqlite::SqliteError& e) {
    if ((e.code() & 0xff) == SQLITE_NOTADB) {
      throw std::runtime_error(fmt::format(
          "--db {}: not an SQLite database ({}); the file is left as it is", path, e.what()));
    }
    throw std::runtime_error(fmt::format("--db {}: {}", path, e.what()));
  }
}

}  // namespace netscope::output
