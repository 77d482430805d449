// The SQLite event log: rows derived from consecutive snapshots, alerts de-duplicated,
// retention, and the refusal of files it must not touch. The database is read back with
// SQLite's own C API, not through the writer.

#include "output/event_db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "output/event_db_schema.hpp"
#include "snapshot_builder.hpp"

namespace netscope::output {
namespace {

using testing::ip;
using testing::tcp_connection;

constexpr std::int64_t kSec = 1'000'000'000;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/netscope_event_db_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Rows of a query as "a|b|c" strings (NULL as "NULL"), like the sqlite3 CLI prints them.
std::vector<std::string> query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in " << sql;
  std::vector<std::string> rows;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i > 0) row += "|";
      const unsigned char* t = sqlite3_column_text(st, i);
      row += t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    rows.push_back(row);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

std::string one(const std::string& path, const std::string& sql) {
  const auto rows = query(path, sql);
  return rows.size() == 1 ? rows[0] : "<" + std::to_string(rows.size()) + " rows>";
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_close(db);
}

// A version-2 file taken back to version 1 (netscope before the container runtime, pod
// UID and unit columns): what a migration starts from.
void downgrade_to_version1(const std::string& path) {
  exec(path,
       "DROP INDEX connections_unit; DROP INDEX connections_container;"
       "ALTER TABLE connections DROP COLUMN container_runtime;"
       "ALTER TABLE connections DROP COLUMN pod_uid; ALTER TABLE connections DROP COLUMN unit;"
       "UPDATE meta SET value='1' WHERE key='schema_version'; PRAGMA user_version = 1;");
}

std::shared_ptr<monitor::Snapshot> snapshot(std::uint64_t tick, std::int64_t time_ns) {
  auto s = std::make_shared<monitor::Snapshot>();
  s->tick = tick;
  s->time = core::Timestamp{time_ns};
  return s;
}

monitor::ProcessRecord curl_process() {
  monitor::ProcessRecord p;
  p.pid = 4242;
  p.name = "curl";
  p.cmdline = "curl -s http://example.test/";
  p.user = "alice";
  p.container = "web-1";
  p.container_runtime = "docker";
  p.pod_uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  p.unit = "docker-web-1.scope";
  return p;
}

monitor::DnsEventRecord dns_event(const char* query, std::int64_t time_ns, const char* rcode) {
  monitor::DnsEventRecord d;
  d.time = core::Timestamp{time_ns};
  d.pid = 4242;
  d.process = "curl";
  d.server = ip("10.0.0.53");
  d.query = query;
  d.qtype = "A";
  if (rcode != nullptr) {
    d.rcode = rcode;
    d.rcode_code = std::string(rcode) == "NXDOMAIN" ? 3 : 0;
    d.latency_ms = 1.5;
  }
  return d;
}

EventDbOptions options(const std::string& path) {
  EventDbOptions o;
  o.path = path;
  o.netscope_version = "test";
  return o;
}

TEST(EventDb, CreatesTheSchemaInWalMode) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventDb db(options(path));
    db.finish();
  }
  EXPECT_EQ(one(path, "SELECT value FROM meta WHERE key='schema_version'"), "2");
  EXPECT_EQ(one(path, "SELECT value FROM meta WHERE key='created_by'"), "netscope test");
  EXPECT_EQ(one(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one(path, "PRAGMA user_version"), "2");
  EXPECT_EQ(one(path, "PRAGMA application_id"), std::to_string(kEventDbApplicationId));
  EXPECT_EQ(query(path, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"),
            (std::vector<std::string>{"alerts", "connections", "dns_queries", "meta"}));
  // The indexes for the obvious questions.
  const auto idx = query(path,
                         "SELECT name FROM sqlite_master WHERE type='index' AND name NOT "
                         "LIKE 'sqlite_%' ORDER BY name");
  for (const char* want : {"connections_first_seen", "connections_process", "connections_remote",
                           "connections_unit", "connections_container", "dns_queries_time",
                           "dns_queries_query", "dns_queries_process", "alerts_time"}) {
    EXPECT_NE(std::find(idx.begin(), idx.end(), want), idx.end()) << want;
  }
}

TEST(EventDb, ConnectionIsInsertedOnceThenUpdatedWhenKnownAndWhenClosed) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDb db(options(path));
  const std::int64_t t0 = testing::kTime.ns;

  // Tick 1: seen, not attributed yet.
  monitor::ConnectionRecord c = tcp_connection("93.184.216.34", 40000, 443, 0, 0);
  c.pid.reset();
  c.process.clear();
  c.attribution = "unknown:pending";
  auto s1 = snapshot(1, t0);
  s1->connections.push_back(c);
  db.enqueue(s1);
  db.flush();
  EXPECT_EQ(one(path, "SELECT count(*), pid IS NULL, close_reason IS NULL FROM connections"),
            "1|1|1");

  // Tick 2: the owner is known; the row learns it, and the process's details.
  c.pid = 4242;
  c.process = "curl";
  c.attribution = "exact";
  c.dpi.edit().sni = "example.test";
  c.dpi.edit().app = "TLS";
  auto s2 = snapshot(2, t0 + kSec);
  s2->connections.push_back(c);
  s2->processes.push_back(curl_process());
  db.enqueue(s2);
  // Tick 3: nothing new: no write.
  auto s3 = snapshot(3, t0 + 2 * kSec);
  s3->connections.push_back(c);
  db.enqueue(s3);
  // Tick 4: closed, with its final counters.
  c.closed = true;
  c.close_reason = "closed";
  c.bytes_up = 7000;
  c.bytes_down = 90000;
  c.packets_up = 12;
  c.packets_down = 70;
  c.health_down.retransmissions = 3;
  c.last_seen = core::Timestamp{t0 + 3 * kSec};
  auto s4 = snapshot(4, t0 + 3 * kSec);
  s4->connections.push_back(c);
  db.enqueue(s4);
  // Tick 5: it stays in the window for a while; tick 6: aged out. The row stays.
  auto s5 = snapshot(5, t0 + 4 * kSec);
  s5->connections.push_back(c);
  db.enqueue(s5);
  db.enqueue(snapshot(6, t0 + 9 * kSec));
  db.finish();

  EXPECT_EQ(query(path,
                  "SELECT proto, local_addr, local_port, remote_addr, remote_port, pid, process, "
                  "cmdline, user, container, container_runtime, pod_uid, unit, attribution, app, "
                  "sni, bytes_up, bytes_down, packets_up, packets_down, retransmissions_down, "
                  "close_reason, first_seen, first_seen_us, last_seen FROM connections"),
            (std::vector<std::string>{
                "tcp|10.0.0.1|40000|93.184.216.34|443|4242|curl|curl -s http://example.test/|"
                "alice|web-1|docker|0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0|docker-web-1.scope|"
                "exact|TLS|example.test|7000|90000|12|70|3|closed|"
                "2023-11-14T22:13:10.000001Z|1699999990000001|2023-11-14T22:13:23.250000Z"}));
  const EventDbStats st = db.stats();
  EXPECT_EQ(st.connections_inserted, 1u);
  EXPECT_EQ(st.connections_updated, 2u);  // attributed, closed
  EXPECT_EQ(st.snapshots_dropped, 0u);
  EXPECT_EQ(st.write_errors, 0u);
  EXPECT_GE(st.commits, 1u);
}

TEST(EventDb, ShortConnectionClosedWhenFirstSeenIsOneRow) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDb db(options(path));
  monitor::ConnectionRecord c = tcp_connection("192.0.2.9", 40001, 80, 0, 0);
  c.closed = true;
  c.close_reason = "closed";
  auto s = snapshot(1, testing::kTime.ns);
  s->connections.push_back(c);
  db.enqueue(s);
  db.finish();
  EXPECT_EQ(one(path, "SELECT count(*), close_reason FROM connections"), "1|closed");
}

TEST(EventDb, OpenConnectionThatVanishesIsMarkedAndFinishUpdatesOpenOnes) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDb db(options(path));
  const std::int64_t t0 = testing::kTime.ns;
  monitor::ConnectionRecord gone = tcp_connection("192.0.2.1", 40002, 80, 0, 0);
  monitor::ConnectionRecord open = tcp_connection("192.0.2.2", 40003, 80, 0, 0);
  auto s1 = snapshot(1, t0);
  s1->connections = {gone, open};
  db.enqueue(s1);
  open.bytes_down = 123456;
  auto s2 = snapshot(2, t0 + kSec);
  s2->connections = {open};
  db.enqueue(s2);
  db.finish();
  EXPECT_EQ(
      query(path, "SELECT remote_addr, close_reason, bytes_down FROM connections ORDER BY id"),
      (std::vector<std::string>{"192.0.2.1|vanished|5000", "192.0.2.2|NULL|123456"}));
}

TEST(EventDb, DnsQueriesAreRowsWithAnswersAsJson) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDb db(options(path));
  auto s = snapshot(1, testing::kTime.ns);
  monitor::DnsEventRecord ok = dns_event("example.test", testing::kTime.ns, "NOERROR");
  ok.answers = {"192.0.2.10", "2001:db8::10"};
  s->dns.push_back(ok);
  s->dns.push_back(dns_event("missing.test", testing::kTime.ns + 1000, "NXDOMAIN"));
  s->dns.push_back(dns_event("silent.test", testing::kTime.ns + 2000, nullptr));
  db.enqueue(s);
  db.finish();
  EXPECT_EQ(query(path,
                  "SELECT time, time_us, pid, process, server, query, type, rcode, rcode_code, "
                  "answers, latency_ms, alert FROM dns_queries ORDER BY id"),
            (std::vector<std::string>{
                "2023-11-14T22:13:20.250000Z|1700000000250000|4242|curl|10.0.0.53|example.test|A|"
                "NOERROR|0|[\"192.0.2.10\",\"2001:db8::10\"]|1.5|NULL",
                "2023-11-14T22:13:20.250001Z|1700000000250001|4242|curl|10.0.0.53|missing.test|A|"
                "NXDOMAIN|3|[]|1.5|NULL",
                "2023-11-14T22:13:20.250002Z|1700000000250002|4242|curl|10.0.0.53|silent.test|A|"
                "NULL|NULL|NULL|NULL|NULL"}));
}

TEST(EventDb, OneAlertPerConnectionAndPerQuery) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDb db(options(path));
  const std::int64_t t0 = testing::kTime.ns;
  monitor::ConnectionRecord bad = tcp_connection("198.51.100.7", 40004, 443, 0, 0);
  bad.dpi.edit().sni = "www.evil.example";
  bad.alert = "evil.example";
  monitor::ConnectionRecord range = tcp_connection("203.0.113.5", 40005, 80, 0, 0);
  range.alert = "203.0.113.0/24";
  monitor::ConnectionRecord clean = tcp_connection("192.0.2.3", 40006, 80, 0, 0);
  for (int i = 0; i < 5; ++i) {
    auto s = snapshot(static_cast<std::uint64_t>(i + 1), t0 + i * kSec);
    s->connections = {bad, range, clean};
    if (i == 1) {
      monitor::DnsEventRecord q = dns_event("cdn.evil.example", t0 + i * kSec, "NOERROR");
      q.alert = "evil.example";
      s->dns = {q, q};  // two transactions with the same name: two alerts
      monitor::DnsEventRecord a = dns_event("innocent.test", t0 + i * kSec, "NOERROR");
      a.answers = {"198.51.100.7"};
      a.alert = "198.51.100.7";
      s->dns.push_back(a);
    }
    db.enqueue(s);
  }
  db.finish();
  EXPECT_EQ(query(path,
                  "SELECT kind, severity, subject, entry, pid, process, connection_id IS "
                  "NOT NULL, dns_query_id IS NOT NULL FROM alerts ORDER BY id"),
            (std::vector<std::string>{
                "domain|HIGH|www.evil.example|evil.example|4242|curl|1|0",
                "cidr|HIGH|203.0.113.5|203.0.113.0/24|4242|curl|1|0",
                "domain|HIGH|cdn.evil.example|evil.example|4242|curl|0|1",
                "domain|HIGH|cdn.evil.example|evil.example|4242|curl|0|1",
                "address|HIGH|198.51.100.7|198.51.100.7|4242|curl|0|1",
            }));
  EXPECT_EQ(one(path, "SELECT details FROM alerts WHERE id=1"),
            "sni www.evil.example matched domain evil.example; tcp 10.0.0.1:40004 -> "
            "198.51.100.7:443 by curl[4242]");
  EXPECT_EQ(one(path, "SELECT count(*) FROM connections WHERE alert IS NOT NULL"), "2");
  EXPECT_EQ(one(path, "SELECT count(*) FROM dns_queries WHERE alert IS NOT NULL"), "3");
}

TEST(EventDb, AlertRaisedLaterIsStillOneAlert) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDb db(options(path));
  const std::int64_t t0 = testing::kTime.ns;
  monitor::ConnectionRecord c = tcp_connection("198.51.100.8", 40007, 443, 0, 0);
  for (int i = 0; i < 4; ++i) {
    if (i == 2) c.alert = "198.51.100.8";  // e.g. the list was reloaded with it
    auto s = snapshot(static_cast<std::uint64_t>(i + 1), t0 + i * kSec);
    s->connections = {c};
    db.enqueue(s);
  }
  db.finish();
  EXPECT_EQ(one(path, "SELECT count(*) FROM alerts"), "1");
  EXPECT_EQ(one(path, "SELECT alert FROM connections"), "198.51.100.8");
}

TEST(EventDb, RetentionPrunesOldRows) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDbOptions o = options(path);
  o.retention_days = 1;
  o.prune_interval = std::chrono::seconds(0);
  EventDb db(o);
  const std::int64_t day = 86400 * kSec;
  const std::int64_t t0 = testing::kTime.ns;
  auto s1 = snapshot(1, t0);
  s1->dns.push_back(dns_event("old.test", t0, "NOERROR"));
  monitor::ConnectionRecord c = tcp_connection("192.0.2.4", 40008, 80, 0, 0);
  c.closed = true;
  s1->connections = {c};
  db.enqueue(s1);
  db.flush();
  EXPECT_EQ(one(path, "SELECT count(*) FROM dns_queries"), "1");
  auto s2 = snapshot(2, t0 + 2 * day);
  s2->dns.push_back(dns_event("new.test", t0 + 2 * day, "NOERROR"));
  db.enqueue(s2);
  db.finish();
  EXPECT_EQ(query(path, "SELECT query FROM dns_queries"), (std::vector<std::string>{"new.test"}));
  EXPECT_EQ(one(path, "SELECT count(*) FROM connections"), "0");
  EXPECT_GE(db.stats().rows_pruned, 2u);
}

TEST(EventDb, ReopeningAppends) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  for (int run = 0; run < 2; ++run) {
    EventDb db(options(path));
    auto s = snapshot(1, testing::kTime.ns + run * kSec);
    s->dns.push_back(dns_event("again.test", testing::kTime.ns + run * kSec, "NOERROR"));
    db.enqueue(s);
    db.finish();
  }
  EXPECT_EQ(one(path, "SELECT count(*) FROM dns_queries"), "2");
}

// A file it refuses must come out byte for byte as it went in.
void expect_refused(const std::string& path, const std::string& message_part) {
  const std::string before = bytes_of(path);
  try {
    EventDb db(options(path));
    ADD_FAILURE() << path << " was not refused";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("--db " + path + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(message_part), std::string::npos) << what;
    EXPECT_NE(what.find("left as it is"), std::string::npos) << what;
  }
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(EventDb, RefusesWhatItMustNotTouch) {
  TempDir dir;
  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << "these are my notes, not a database\n" << std::string(5000, 'x');
  expect_refused(text, "not an SQLite database");

  const std::string foreign = dir.file("foreign.db");
  exec(foreign, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('bob');");
  expect_refused(foreign, "not a netscope event database");

  const std::string newer = dir.file("newer.db");
  exec(newer,
       "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "INSERT INTO meta VALUES ('schema_version', '7');");
  expect_refused(newer, "schema version 7 is newer than this netscope writes (2)");

  // An older layout (as a pre-release netscope wrote it): no migration step covers it.
  const std::string older = dir.file("older.db");
  exec(older,
       "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "INSERT INTO meta VALUES ('schema_version', '0');"
       "CREATE TABLE connections (id INTEGER PRIMARY KEY, remote TEXT);"
       "INSERT INTO connections (remote) VALUES ('192.0.2.1');");
  expect_refused(older, "schema version 0 is older than any this netscope can migrate");
  EXPECT_EQ(one(older, "SELECT remote FROM connections"), "192.0.2.1");
}

// A version-1 file (netscope before the container runtime, pod UID and unit columns):
// made here by writing a version-2 one and taking those columns away again, then
// reopened. The rows written before stay; the new columns are added, NULL in old rows,
// and new rows fill them.
TEST(EventDb, MigratesAVersion1FileInPlace) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  const std::int64_t t0 = testing::kTime.ns;
  monitor::ConnectionRecord c = tcp_connection("93.184.216.34", 40000, 443, 0, 0);
  {
    EventDb db(options(path));
    auto s = snapshot(1, t0);
    s->connections.push_back(c);
    s->processes.push_back(curl_process());
    db.enqueue(s);
    db.finish();
  }
  downgrade_to_version1(path);
  ASSERT_EQ(one(path, "SELECT count(*) FROM pragma_table_info('connections') WHERE name='unit'"),
            "0");
  {
    EventDb db(options(path));
    monitor::ConnectionRecord d = tcp_connection("93.184.216.35", 40001, 443, 0, 0);
    auto s = snapshot(1, t0 + kSec);
    s->connections.push_back(d);
    s->processes.push_back(curl_process());
    db.enqueue(s);
    db.finish();
  }
  EXPECT_EQ(one(path, "SELECT value FROM meta WHERE key='schema_version'"), "2");
  EXPECT_EQ(one(path, "PRAGMA user_version"), "2");
  EXPECT_EQ(
      query(path,
            "SELECT remote_addr, container, container_runtime, pod_uid, unit FROM "
            "connections ORDER BY remote_addr"),
      (std::vector<std::string>{"93.184.216.34|web-1|NULL|NULL|NULL",
                                "93.184.216.35|web-1|docker|0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0|"
                                "docker-web-1.scope"}));
  EXPECT_EQ(one(path, "SELECT count(*) FROM sqlite_master WHERE name='connections_unit'"), "1");
}

// Several netscope processes opening the same version-1 file at once: one migrates, the
// others find it migrated once they have the write lock (none fails on the second ALTER).
TEST(EventDb, ConcurrentOpensOfAVersion1FileMigrateItOnce) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventDb db(options(path));
    db.finish();
  }
  downgrade_to_version1(path);
  constexpr int kOpeners = 6;
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> openers;
  for (int i = 0; i < kOpeners; ++i) {
    openers.emplace_back([&] {
      ++ready;
      while (ready.load() < kOpeners) std::this_thread::yield();
      try {
        output::sqlite::Database db = open_event_db(path, "test");
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failed;
      }
    });
  }
  for (std::thread& t : openers) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(one(path, "SELECT value FROM meta WHERE key='schema_version'"), "2");
  EXPECT_EQ(one(path, "SELECT count(*) FROM pragma_table_info('connections') WHERE name='unit'"),
            "1");
}

TEST(EventDb, UnopenablePathNamesTheOption) {
  try {
    EventDb db(options("/nonexistent-dir/events.db"));
    ADD_FAILURE() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--db /nonexistent-dir/events.db: ", 0), 0u) << e.what();
  }
}

TEST(EventDb, FullQueueDropsAndCountsWithoutBlocking) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventDbOptions o = options(path);
  o.queue_capacity = 2;
  EventDb db(o);
  std::size_t accepted = 0;
  // Far more than the writer can take at once: enqueue never blocks, it drops.
  for (std::uint64_t i = 0; i < 2000; ++i) {
    auto s = snapshot(i + 1, testing::kTime.ns + static_cast<std::int64_t>(i) * kSec);
    for (int k = 0; k < 20; ++k) s->dns.push_back(dns_event("x.test", s->time.ns, "NOERROR"));
    accepted += db.enqueue(s) ? 1 : 0;
  }
  db.finish();
  const EventDbStats st = db.stats();
  EXPECT_EQ(accepted + st.snapshots_dropped, 2000u);
  EXPECT_EQ(one(path, "SELECT count(*) FROM dns_queries"), std::to_string(accepted * 20));
}

}  // namespace
}  // namespace netscope::output
