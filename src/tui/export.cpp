#include "tui/export.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "output/json_records.hpp"

namespace netscope::tui {

namespace {

std::string_view screen_name(Screen s) {
  switch (s) {
    case Screen::overview:
      return "overview";
    case Screen::processes:
      return "processes";
    case Screen::connections:
      return "connections";
    case Screen::remotes:
      return "remotes";
  }
  return "overview";
}

// The tables a screen shows.
std::vector<Table> tables_of(const UiState& s) {
  if (s.screen == Screen::overview) return s.tables;
  return {active_table(s)};
}

}  // namespace

std::string export_document(const UiState& s, const Frame& f) {
  output::Json doc = output::Json::object();
  doc["schema"] = kExportSchema;
  doc["view"] = screen_name(s.screen);
  doc["time"] = f.snapshot ? output::Json(core::to_rfc3339(f.snapshot->time)) : output::Json();
  doc["replay"] = f.snapshot && f.snapshot->replay;
  doc["end_of_input"] = f.snapshot && f.snapshot->end_of_input;
  doc["filter"] = s.filter_text.empty() ? output::Json() : output::Json(s.filter_text);
  doc["filter_error"] = s.filter_error ? output::Json(s.filter_error->message) : output::Json();
  doc["totals"] = s.model.totals;
  if (f.snapshot) doc["summary"] = output::totals_json(f.snapshot->totals);
  for (Table t : tables_of(s)) {
    const std::size_t ti = static_cast<std::size_t>(t);
    const auto& cols = columns(t);
    const SortSpec& sort = s.sort[ti];
    output::Json table = output::Json::object();
    table["sort"] = {{"column", std::string(cols[std::min(sort.column, cols.size() - 1)].title)},
                     {"descending", sort.descending}};
    table["rows_total"] = f.total_rows[ti];
    output::Json rows = output::Json::array();
    switch (t) {
      case Table::processes:
        for (const auto* p : f.processes) rows.push_back(output::process_json(*p));
        break;
      case Table::connections:
        f.ensure_sorted(f.connections.size());
        for (const auto* c : f.connections) {
          rows.push_back(
              output::connection_json(*c, f.snapshot ? f.snapshot->time : core::Timestamp{}));
        }
        break;
      case Table::remotes:
        for (const auto* r : f.remotes) rows.push_back(output::remote_json(*r));
        break;
    }
    table["rows"] = std::move(rows);
    doc[std::string(table_name(t))] = std::move(table);
  }
  return output::dump_json(doc, 2) + "\n";
}

std::string export_to_dir(const UiState& s, const Frame& f, const std::string& dir) {
  const std::string text = export_document(s, f);
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = (dir.empty() ? std::string(".") : dir) + "/netscope-" +
                           std::string(screen_name(s.screen)) + "-" + stamp;
  for (int n = 0; n < 1000; ++n) {
    const std::string path = base + (n == 0 ? "" : "-" + std::to_string(n)) + ".json";
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    std::size_t off = 0;
    while (off < text.size()) {
      const ssize_t w = write(fd, text.data() + off, text.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        close(fd);
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(e));
      }
      off += static_cast<std::size_t>(w);
    }
    if (close(fd) != 0) {
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    return path;
  }
  throw std::runtime_error("cannot write " + base + ".json: too many exports this second");
}

std::string osc52(std::string_view text) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  std::size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(text[i]) << 16) |
                       (static_cast<unsigned char>(text[i + 1]) << 8) |
                       static_cast<unsigned char>(text[i + 2]);
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += kB64[(v >> 6) & 63];
    b64 += kB64[v & 63];
  }
  if (i + 1 == text.size()) {
    const unsigned v = static_cast<unsigned char>(text[i]) << 16;
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += "==";
  } else if (i + 2 == text.size()) {
    const unsigned v = (static_cast<unsigned char>(text[i]) << 16) |
                       (static_cast<unsigned char>(text[i + 1]) << 8);
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += kB64[(v >> 6) & 63];
    b64 += '=';
  }
  // OSC 52 ; c (the clipboard) ; base64 BEL
  return "\x1b]52;c;" + b64 + "\x07";
}

}  // namespace netscope::tui
