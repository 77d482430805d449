#include "output/event_db_sqlite.hpp"

#include <fmt/format.h>

namespace netscope::output::sqlite {

// NOMUTEX: a connection is used by one thread at a time (opened by the caller, then
// handed to the writer thread), so SQLite's own per-call locking would be pure overhead.
Database::Database(const std::string& path, bool create) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
                    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
  close();
}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    close();
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

void Database::close() {
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

void Database::fail(int rc, std::string_view what) const {
  throw SqliteError(rc, fmt::format("{}: {}", what, sqlite3_errmsg(db_)));
}

void Database::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, msg);
  }
}

Statement Database::prepare(std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) fail(rc, "prepare");
  return Statement(db_, st);
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(st_);
    db_ = o.db_;
    st_ = o.st_;
    o.st_ = nullptr;
  }
  return *this;
}

void Statement::check(int rc) const {
  if (rc != SQLITE_OK) throw SqliteError(rc, sqlite3_errmsg(db_));
}

void Statement::bind_null(int i) {
  check(sqlite3_bind_null(st_, i));
}

void Statement::bind(int i, std::int64_t v) {
  check(sqlite3_bind_int64(st_, i, v));
}

void Statement::bind(int i, double v) {
  check(sqlite3_bind_double(st_, i, v));
}

void Statement::bind_text(int i, std::string_view v) {
  if (v.empty()) {
    bind_null(i);
    return;
  }
  check(sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::bind(int i, const std::optional<std::int64_t>& v) {
  if (v) {
    bind(i, *v);
  } else {
    bind_null(i);
  }
}

void Statement::bind(int i, const std::optional<double>& v) {
  if (v) {
    bind(i, *v);
  } else {
    bind_null(i);
  }
}

bool Statement::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string msg = sqlite3_errmsg(db_);
  sqlite3_reset(st_);
  throw SqliteError(rc, msg);
}

void Statement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string Statement::column_text(int i) const {
  const unsigned char* t = sqlite3_column_text(st_, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}

}  // namespace netscope::output::sqlite
