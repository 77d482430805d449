#pragma once
// A thin RAII layer over the SQLite C API for the event log: a connection and prepared
// statements with typed binds. Errors throw SqliteError carrying SQLite's result code and
// message; the event log decides what is fatal (opening) and what is reported and
// survived (a full disk while writing).

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace netscope::output::sqlite {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Statement;

class Database {
 public:
  Database() = default;
  // Opens (creating when `create`) the file; throws SqliteError.
  Database(const std::string& path, bool create);
  ~Database();
  Database(Database&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Database& operator=(Database&& o) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results; throws SqliteError.
  void exec(const char* sql);
  Statement prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() const { return db_; }
  bool open() const { return db_ != nullptr; }
  void close();

 private:
  [[noreturn]] void fail(int rc, std::string_view what) const;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  ~Statement() { sqlite3_finalize(st_); }
  Statement(Statement&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds by 1-based index. Empty text and empty optionals bind NULL (an unknown value).
  void bind_null(int i);
  void bind(int i, std::int64_t v);
  void bind(int i, double v);
  void bind_text(int i, std::string_view v);  // NULL when empty
  void bind(int i, const std::optional<std::int64_t>& v);
  void bind(int i, const std::optional<double>& v);

  // Steps once: true when a row is available, false when done; throws SqliteError.
  bool step();
  void reset();  // also clears the bindings
  std::int64_t column_int(int i) const { return sqlite3_column_int64(st_, i); }
  std::string column_text(int i) const;
  bool column_null(int i) const { return sqlite3_column_type(st_, i) == SQLITE_NULL; }

 private:
  void check(int rc) const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace netscope::output::sqlite
