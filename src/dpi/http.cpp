// HTTP/1.x heads (RFC 9112 §3, §4, §5). Lines end in CRLF; a bare LF is accepted as
// RFC 9112 §2.2 allows recipients to. Header names are case-insensitive (RFC 9110
// §5.1) and values lose their optional surrounding whitespace (§5.5).

#include "dpi/http.hpp"

#include <array>

namespace netscope::dpi::http {
namespace {

// RFC 9110 §9 methods plus the WebDAV ones (RFC 4918) seen in practice.
constexpr std::array<std::string_view, 16> kMethods{
    "GET",   "POST",     "HEAD",      "PUT",   "DELETE", "OPTIONS", "CONNECT", "TRACE",
    "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY",   "MOVE",    "LOCK",    "UNLOCK"};

// Returns the line at the start of `data` (without its line end) and sets `next` to the
// offset after the line end; false when no line end is present yet.
bool next_line(std::string_view data, std::string_view& line, std::size_t& next) {
  const std::size_t lf = data.find('\n');
  if (lf == std::string_view::npos) return false;
  line = data.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  next = lf + 1;
  return true;
}

// The first line of a head: need_more until its line end arrives, malformed once it is
// longer than kMaxLine.
Status start_line(std::string_view data, std::string_view& line, std::size_t& next) {
  if (next_line(data, line, next)) return line.size() > kMaxLine ? Status::malformed : Status::ok;
  return data.size() > kMaxLine ? Status::malformed : Status::need_more;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_version(std::string_view v) {
  return v.size() == 8 && v.substr(0, 7) == "HTTP/1." && v[7] >= '0' && v[7] <= '9';
}

}  // namespace

bool starts_with_method(std::string_view data, bool& partial) {
  partial = false;
  for (const std::string_view m : kMethods) {
    if (data.size() > m.size()) {
      if (data.substr(0, m.size()) == m && data[m.size()] == ' ') return true;
    } else if (m.substr(0, data.size()) == data) {
      partial = true;
    }
  }
  return false;
}

bool starts_with_status_line(std::string_view data, bool& partial) {
  constexpr std::string_view kPrefix = "HTTP/1.";
  partial = data.size() < kPrefix.size() && kPrefix.substr(0, data.size()) == data;
  return data.size() >= kPrefix.size() && data.substr(0, kPrefix.size()) == kPrefix;
}

Status parse_request(std::string_view data, Request& out) {
  out = Request{};
  std::string_view line;
  std::size_t pos = 0;
  if (const Status st = start_line(data, line, pos); st != Status::ok) return st;
  // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  bool partial = false;
  if (sp1 == std::string_view::npos || !starts_with_method(line, partial)) {
    return Status::malformed;
  }
  out.method = line.substr(0, sp1);
  if (sp2 == sp1) {
    // RFC 1945 §4.1: an HTTP/0.9 Simple-Request is "GET" SP Request-URI, without a
    // version or header fields.
    out.target = line.substr(sp1 + 1);
    if (out.method != "GET" || out.target.empty() || !printable(out.target))
      return Status::malformed;
    out.headers_complete = true;
    return Status::ok;
  }
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.version = line.substr(sp2 + 1);
  if (out.target.empty() || !valid_version(out.version) || !printable(out.target)) {
    return Status::malformed;
  }
  while (true) {
    std::string_view rest = data.substr(pos);
    std::size_t used = 0;
    if (!next_line(rest, line, used)) {
      if (rest.size() > kMaxLine) return Status::malformed;
      // The head goes on in a later segment; what we have may already be enough.
      return (!out.host.empty() && !out.user_agent.empty()) ? Status::ok : Status::need_more;
    }
    pos += used;
    if (line.empty()) {
      out.headers_complete = true;
      return Status::ok;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;  // not a field line: skip it
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (out.host.empty() && iequals(name, "Host")) out.host = value;
    if (out.user_agent.empty() && iequals(name, "User-Agent")) out.user_agent = value;
  }
}

Status parse_response(std::string_view data, Response& out) {
  out = Response{};
  std::string_view line;
  std::size_t pos = 0;
  if (const Status st = start_line(data, line, pos); st != Status::ok) return st;
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  if (line.size() < 12 || !valid_version(line.substr(0, 8)) || line[8] != ' ') {
    return Status::malformed;
  }
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return Status::malformed;
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return Status::malformed;
  if (code < 100) return Status::malformed;
  out.version = line.substr(0, 8);
  out.status = code;
  return Status::ok;
}

}  // namespace netscope::dpi::http
