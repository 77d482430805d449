#pragma once
// Log: one place for human-readable diagnostics (--log-level, --log-file). Messages go to
// stderr unless a log file is set, so that stdout holds only the output format the user
// asked for (raw lines, JSON). Thread-safe: each message is written whole, with one
// write, under a mutex.

#include <string>
#include <string_view>

namespace netscope::core {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

// "error", "warn", "info", "debug" (also "warning"); false when unknown.
bool parse_log_level(std::string_view text, LogLevel& out);

class Log {
 public:
  // Sets the threshold and the destination ("" = stderr). Throws std::runtime_error
  // naming the file when it cannot be opened for appending.
  static void configure(LogLevel level, const std::string& path);
  static bool enabled(LogLevel level);
  // Writes "netscope: <message>\n" to stderr, or an RFC 3339 timestamped line to the
  // log file.
  static void write(LogLevel level, std::string_view message);

  static void error(std::string_view m) { write(LogLevel::error, m); }
  static void warn(std::string_view m) { write(LogLevel::warn, m); }
  static void info(std::string_view m) { write(LogLevel::info, m); }
  static void debug(std::string_view m) { write(LogLevel::debug, m); }
};

}  // namespace netscope::core
