#include "output/prometheus_http.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace netscope::output;

namespace {

HttpParseResult parse(const std::string& s, HttpLimits limits = {}) {
  return parse_http_request(s, limits);
}

}  // namespace

TEST(HttpRequest, prometheus_scrape_request_is_complete) {
  const std::string req =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9108\r\nUser-Agent: Prometheus/2.42.0\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
      "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";
  const HttpParseResult r = parse(req);
  ASSERT_EQ(r.status, HttpParse::complete);
  EXPECT_EQ(r.consumed, req.size());
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.path, "/metrics");
  EXPECT_EQ(r.request.version_minor, 1);
  EXPECT_TRUE(r.request.keep_alive);
  EXPECT_FALSE(r.request.has_body);
}

TEST(HttpRequest, partial_request_asks_for_more) {
  EXPECT_EQ(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n").status, HttpParse::incomplete);
  EXPECT_EQ(parse("GET /met").status, HttpParse::incomplete);
  EXPECT_EQ(parse("").status, HttpParse::incomplete);
}

TEST(HttpRequest, bare_lf_lines_and_a_leading_empty_line_are_accepted) {
  const HttpParseResult r = parse("\r\nGET /healthz HTTP/1.1\nHost: x\n\n");
  ASSERT_EQ(r.status, HttpParse::complete);
  EXPECT_EQ(r.request.path, "/healthz");
}

TEST(HttpRequest, query_is_removed_and_absolute_form_gives_the_path) {
  EXPECT_EQ(parse("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").request.path, "/metrics");
  EXPECT_EQ(parse("GET http://h:9108/metrics HTTP/1.1\r\nHost: h\r\n\r\n").request.path,
            "/metrics");
  EXPECT_EQ(parse("GET http://h:9108 HTTP/1.1\r\nHost: h\r\n\r\n").request.path, "/");
}

TEST(HttpRequest, http_1_1_needs_exactly_one_host) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n").error_status, 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").error_status, 400);
  const HttpParseResult r = parse("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, HttpParse::complete);
  EXPECT_FALSE(r.request.keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
}

TEST(HttpRequest, connection_close_ends_keep_alive) {
  EXPECT_FALSE(
      parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n").request.keep_alive);
}

TEST(HttpRequest, malformed_request_lines_get_400) {
  for (const char* bad :
       {"GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1 x\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
        "GET /a\x01 HTTP/1.1\r\n\r\n", "GET / HTTX/1.1\r\n\r\n", "GET / HTTP/1.10\r\n\r\n",
        "\x16\x03\x01\x02\x05\x01\x03\x01\xfc\x03\x03\n\n"}) {
    const HttpParseResult r = parse(bad);
    EXPECT_EQ(r.status, HttpParse::error) << bad;
    EXPECT_EQ(r.error_status, 400) << bad;
  }
}

TEST(HttpRequest, other_major_versions_get_505) {
  EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n").error_status, 505);
  EXPECT_EQ(parse("GET / HTTP/0.9\r\n\r\n").error_status, 505);
}

TEST(HttpRequest, malformed_header_fields_get_400) {
  for (const char* bad :
       {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nA: b\x01\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n"}) {
    const HttpParseResult r = parse(bad);
    EXPECT_EQ(r.error_status, 400) << bad;
  }
}

TEST(HttpRequest, a_body_is_announced) {
  EXPECT_TRUE(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n").request.has_body);
  EXPECT_TRUE(
      parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").request.has_body);
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").request.has_body);
}

TEST(HttpRequest, oversized_header_block_gets_431_and_long_request_line_414) {
  HttpLimits limits;
  limits.max_request_bytes = 256;
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(300, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse(big, limits).error_status, 431);
  // Still arriving, but already past the limit: no need to wait for the rest.
  EXPECT_EQ(parse(big.substr(0, 280), limits).error_status, 431);
  EXPECT_EQ(parse("GET /" + std::string(300, 'a'), limits).error_status, 414);
  // Just below the limit is fine.
  std::string fits = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse(fits, limits).status, HttpParse::complete);
}

TEST(HttpRequest, too_many_header_fields_get_431) {
  HttpLimits limits;
  limits.max_header_fields = 4;
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 4; ++i) req += "A" + std::to_string(i) + ": b\r\n";
  EXPECT_EQ(parse(req + "\r\n", limits).error_status, 431);
}

TEST(HttpRequest, pipelined_requests_are_taken_one_at_a_time) {
  const std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string two = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  const HttpParseResult r = parse(one + two);
  ASSERT_EQ(r.status, HttpParse::complete);
  EXPECT_EQ(r.consumed, one.size());
  EXPECT_EQ(r.request.path, "/healthz");
  EXPECT_EQ(parse((one + two).substr(r.consumed)).request.path, "/metrics");
}
