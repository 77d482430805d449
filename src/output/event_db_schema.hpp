#pragma once
// The event log's schema (version kSchemaVersion) and the one way a database file is
// opened: validate first, write second. A file that is not an SQLite database, an SQLite
// database that netscope did not create, or one whose schema version this build does
// not know is refused with a message naming the file, before a single byte of it is
// changed (even switching to WAL rewrites the header, so that comes after the checks).
// An older netscope schema is brought up to date by the steps in kMigrations, inside one
// transaction, or refused when no step covers it.

#include <string>

#include "output/event_db_sqlite.hpp"

namespace netscope::output {

inline constexpr int kEventDbSchemaVersion = 2;
// PRAGMA application_id of a netscope event log: "NSCP".
inline constexpr int kEventDbApplicationId = 0x4E534350;

// Opens `path` for the event log: creates the schema in a new or empty file, checks an
// existing one, sets WAL. Throws std::runtime_error with "--db PATH: why".
sqlite::Database open_event_db(const std::string& path, const std::string& netscope_version);

}  // namespace netscope::output
