#include "output/prometheus_http.hpp"

#include <algorithm>
#include <array>

namespace netscope::output {

namespace {

// RFC 9110 §5.6.2: tchar.
constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = make_tchar_table();

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kTchar[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpParseResult error(int status, std::string reason) {
  HttpParseResult r;
  r.status = HttpParse::error;
  r.error_status = status;
  r.error_reason = std::move(reason);
  return r;
}

// One line of `buf` starting at `pos`: its text without CRLF/LF, and where the next
// starts. False when no LF follows within the buffer.
bool next_line(std::string_view buf, std::size_t pos, std::string_view& line, std::size_t& next) {
  const std::size_t lf = buf.find('\n', pos);
  if (lf == std::string_view::npos) return false;
  std::size_t end = lf;
  // RFC 9112 §2.2: a recipient may accept a bare LF as the line terminator.
  if (end > pos && buf[end - 1] == '\r') --end;
  line = buf.substr(pos, end - pos);
  next = lf + 1;
  return true;
}

// RFC 9112 §3.2: origin-form ("/path?query"), absolute-form ("http://host/path") or
// asterisk-form (OPTIONS only; the server answers it 405/501 anyway).
bool parse_target(std::string_view target, std::string& path) {
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;  // RFC 3986 characters only
  }
  if (target == "*") {
    path = "*";
    return true;
  }
  if (target.empty()) return false;
  if (target.front() != '/') {
    std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || !(iequals(target.substr(0, scheme), "http") ||
                                              iequals(target.substr(0, scheme), "https"))) {
      return false;
    }
    target.remove_prefix(scheme + 3);
    const std::size_t slash = target.find_first_of("/?");
    if (slash == 0) return false;  // no authority
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    if (target.front() == '?') target = "/";
  }
  const std::size_t q = target.find_first_of("?#");
  path.assign(target.substr(0, q));
  return true;
}

// Content-Length: 1*DIGIT, at most 18 digits (no overflow).
bool parse_length(std::string_view v, std::uint64_t& out) {
  if (v.empty() || v.size() > 18) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = n;
  return true;
}

bool valid_field_value(std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    // RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB; no other control characters.
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

HttpParseResult parse_http_request(std::string_view buf, const HttpLimits& limits) {
  std::size_t pos = 0;
  // RFC 9112 §2.2: ignore at least one empty line before the request line.
  for (int i = 0; i < 2 && pos < buf.size(); ++i) {
    if (buf.substr(pos).starts_with("\r\n")) {
      pos += 2;
    } else if (buf[pos] == '\n') {
      pos += 1;
    }
  }

  // The end of the header block must come within the limit.
  const std::string_view window = buf.substr(0, std::min(buf.size(), limits.max_request_bytes));
  std::string_view line;
  std::size_t next = 0;
  if (!next_line(window, pos, line, next)) {
    if (buf.size() >= limits.max_request_bytes) return error(414, "request line too long");
    return {};
  }

  // request-line = method SP request-target SP HTTP-version
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return error(400, "malformed request line");
  }
  HttpParseResult r;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return error(400, "malformed method");
  if (!parse_target(target, r.request.path)) return error(400, "malformed request target");
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return error(400, "malformed HTTP version");
  }
  if (version[5] != '1') return error(505, "only HTTP/1.x is supported");
  r.request.method.assign(method);
  r.request.version_minor = version[7] - '0';
  r.request.keep_alive = r.request.version_minor >= 1;

  std::size_t fields = 0;
  int hosts = 0;
  bool have_length = false;
  std::uint64_t length = 0;
  for (;;) {
    pos = next;
    if (!next_line(window, pos, line, next)) {
      if (buf.size() >= limits.max_request_bytes) return error(431, "request header too large");
      return {};
    }
    if (line.empty()) break;  // end of the header block
    if (++fields > limits.max_header_fields) return error(431, "too many header fields");
    // RFC 9112 §5.2: obsolete line folding is rejected with 400.
    if (line.front() == ' ' || line.front() == '\t') return error(400, "folded header line");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return error(400, "header line without a colon");
    const std::string_view name = line.substr(0, colon);
    // RFC 9112 §5.1: no whitespace between the field name and the colon.
    if (!is_token(name)) return error(400, "malformed header field name");
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!valid_field_value(value)) return error(400, "control character in a header field");
    if (iequals(name, "host")) {
      ++hosts;
    } else if (iequals(name, "content-length")) {
      std::uint64_t n = 0;
      if (!parse_length(value, n) || (have_length && n != length)) {
        return error(400, "malformed Content-Length");
      }
      have_length = true;
      length = n;
    } else if (iequals(name, "transfer-encoding")) {
      r.request.has_body = true;
    } else if (iequals(name, "connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view opt = trim_ows(rest.substr(0, comma));
        if (iequals(opt, "close")) r.request.keep_alive = false;
        if (iequals(opt, "keep-alive") && r.request.version_minor == 0) {
          r.request.keep_alive = true;
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
  }
  // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host field gets 400.
  if (r.request.version_minor >= 1 && hosts != 1) return error(400, "missing or repeated Host");
  if (have_length && length > 0) r.request.has_body = true;
  r.status = HttpParse::complete;
  r.consumed = next;
  return r;
}

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

}  // namespace netscope::output
