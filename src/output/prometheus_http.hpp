#pragma once
// The HTTP/1.1 request parser of the Prometheus endpoint (RFC 9112). The endpoint only
// ever answers GET and HEAD, so the parser reads a request line and a header block and
// nothing else: a request that announces a body is answered and the connection closed,
// never read further. It is stateless: the server hands it everything buffered so far
// and it either asks for more, returns the request and how many bytes it took, or names
// the status to answer with. Every read is bounds-checked; the whole header block is
// limited, and so is the number of header fields.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace netscope::output {

struct HttpLimits {
  std::size_t max_request_bytes = 8192;  // request line + header block; else 431 (or 414)
  std::size_t max_header_fields = 64;    // else 431
};

struct HttpRequest {
  std::string method;  // as sent (methods are case-sensitive, RFC 9110 §9.1)
  std::string path;    // the origin-form path, query removed
  int version_minor = 1;
  bool keep_alive = true;  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive
  bool has_body = false;   // Content-Length > 0 or Transfer-Encoding: answer, then close
};

enum class HttpParse { incomplete, complete, error };

struct HttpParseResult {
  HttpParse status = HttpParse::incomplete;
  int error_status = 0;      // with HttpParse::error: 400, 414, 431, 501 or 505
  std::string error_reason;  // a short text for the response body
  std::size_t consumed = 0;  // with HttpParse::complete: bytes up to the end of the header block
  HttpRequest request;
};

// Parses the request at the start of `buffered`.
HttpParseResult parse_http_request(std::string_view buffered, const HttpLimits& limits = {});

// "OK", "Not Found", ... for the statuses the endpoint sends.
std::string_view http_reason_phrase(int status);

}  // namespace netscope::output
