// libFuzzer target for the Prometheus endpoint's HTTP/1.1 request parser
// (output/prometheus_http.hpp). The input is what a client sent. Besides memory safety it
// checks that the parser behaves the same whatever the TCP segmentation: a prefix that
// already parses (or fails) gives the same result as the whole input, and nothing past
// the buffer is ever consumed. Carries its own seeds (no capture holds them).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_seeds.hpp"
#include "output/prometheus_http.hpp"

namespace {

using netscope::output::HttpLimits;
using netscope::output::HttpParse;
using netscope::output::HttpParseResult;
using netscope::output::parse_http_request;

const char* const kSeeds[] = {
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9108\r\nUser-Agent: Prometheus/2.42.0\r\n"
    "Accept: text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
    "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "HEAD http://h:9108/metrics?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET / HTTP/1.1\nHost: x\n folded\n\n",
    "\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
};

void check(bool ok) {
  if (!ok) std::abort();
}

void same(const HttpParseResult& a, const HttpParseResult& b) {
  check(a.status == b.status);
  check(a.error_status == b.error_status);
  check(a.consumed == b.consumed);
  check(a.request.method == b.request.method);
  check(a.request.path == b.request.path);
  check(a.request.keep_alive == b.request.keep_alive);
  check(a.request.has_body == b.request.has_body);
}

void run(std::string_view input, const HttpLimits& limits) {
  const HttpParseResult whole = parse_http_request(input, limits);
  if (whole.status == HttpParse::complete) {
    check(whole.consumed > 0 && whole.consumed <= input.size());
    check(!whole.request.method.empty() && !whole.request.path.empty());
  }
  if (whole.status == HttpParse::error) {
    check(whole.error_status >= 400 && whole.error_status < 600);
  }
  // Segmentation: a few prefixes.
  for (std::size_t cut : {input.size() / 3, input.size() / 2, input.size() - input.size() / 5}) {
    if (cut >= input.size()) continue;
    const HttpParseResult part = parse_http_request(input.substr(0, cut), limits);
    if (part.status == HttpParse::complete) {
      same(part, whole);
    } else if (part.status == HttpParse::error) {
      check(whole.status == HttpParse::error);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv, std::vector<std::string>(std::begin(kSeeds), std::end(kSeeds)));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exactly-sized copy, so that ASan sees any read past its end.
  auto copy = std::make_unique<char[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(copy.get(), data, size);
  const std::string_view input(copy.get(), size);
  run(input, HttpLimits{});
  HttpLimits small;
  small.max_request_bytes = 64;
  small.max_header_fields = 3;
  run(input, small);
  return 0;
}
