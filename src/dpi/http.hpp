#pragma once
// HTTP/1.x message heads (RFC 9112): the request line and the Host and User-Agent header
// fields of a request, and the status line of a response. The parsers read from the
// start of a stream direction; views point into the given bytes.

#include <cstdint>
#include <string_view>

#include "dpi/reader.hpp"

namespace netscope::dpi::http {

enum class Status : std::uint8_t { ok, need_more, malformed };

struct Request {
  std::string_view method;
  std::string_view target;   // request-target as sent (tshark's http.request.uri)
  std::string_view version;  // "HTTP/1.1"
  std::string_view host;
  std::string_view user_agent;
  bool headers_complete = false;  // the empty line ending the head was seen
};

struct Response {
  std::string_view version;
  int status = 0;
};

// Longest request line or header field line we accept; a longer one is not HTTP as far
// as we are concerned (servers answer 414/431 well below this).
inline constexpr std::size_t kMaxLine = 8192;

// True when `data` starts with a known method token and a space ("GET ", "POST ").
// `partial` is set when `data` is too short to tell but is a prefix of such a token.
bool starts_with_method(std::string_view data, bool& partial);
// True when `data` starts with "HTTP/1." (a status line), or could (`partial`).
bool starts_with_status_line(std::string_view data, bool& partial);

// Parses a request head. need_more: the request line, or the header lines up to Host
// and User-Agent, are not complete yet. ok: the request line is valid; headers that were
// complete are filled (both found, or the head ended).
Status parse_request(std::string_view data, Request& out);
// Parses a status line ("HTTP/1.1 200 OK").
Status parse_response(std::string_view data, Response& out);

}  // namespace netscope::dpi::http
