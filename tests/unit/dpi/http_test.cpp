// HTTP/1.x request and status line parsing.

#include "dpi/http.hpp"

#include <gtest/gtest.h>

#include <string>

namespace netscope::dpi::http {
namespace {

TEST(HttpRequest, method_target_host_and_user_agent_of_a_request_head) {
  Request r;
  ASSERT_EQ(parse_request("GET /index.html?q=1 HTTP/1.1\r\nhost:  www.example.com \r\n"
                          "Accept: */*\r\nuser-agent: curl/8.0\r\n\r\nbody",
                          r),
            Status::ok);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/index.html?q=1");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_EQ(r.host, "www.example.com");
  EXPECT_EQ(r.user_agent, "curl/8.0");
  EXPECT_TRUE(r.headers_complete);
}

TEST(HttpRequest, an_unfinished_head_needs_more_until_host_and_agent_are_known) {
  Request r;
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: a\r\nAcc", r), Status::need_more);
  EXPECT_EQ(parse_request("GET / HT", r), Status::need_more);
  EXPECT_EQ(parse_request("POST /x HTTP/1.0\r\nHost: a\r\nUser-Agent: b\r\nX-Long", r), Status::ok);
  EXPECT_EQ(r.host, "a");
  EXPECT_FALSE(r.headers_complete);
}

TEST(HttpRequest, bare_lf_line_ends_are_accepted) {
  Request r;
  ASSERT_EQ(parse_request("HEAD / HTTP/1.0\nHost: h\n\n", r), Status::ok);
  EXPECT_EQ(r.host, "h");
}

TEST(HttpRequest, http09_simple_request_has_a_target_and_no_version) {
  Request r;
  ASSERT_EQ(parse_request("GET /bad.html\r\n", r), Status::ok);
  EXPECT_EQ(r.target, "/bad.html");
  EXPECT_TRUE(r.version.empty());
  EXPECT_EQ(parse_request("POST /x\r\n", r), Status::malformed);  // 0.9 knew only GET
}

TEST(HttpRequest, malformed_request_lines_are_rejected) {
  Request r;
  EXPECT_EQ(parse_request("GET / HTTP/2.0\r\n\r\n", r), Status::malformed);
  EXPECT_EQ(parse_request("FETCH / HTTP/1.1\r\n\r\n", r), Status::malformed);
  EXPECT_EQ(parse_request("GET  HTTP/1.1\r\n\r\n", r), Status::malformed);
  EXPECT_EQ(parse_request("GET /\x01 HTTP/1.1\r\n\r\n", r), Status::malformed);
  EXPECT_EQ(parse_request(std::string(http::kMaxLine + 10, 'G'), r), Status::malformed);
}

TEST(HttpRequest, method_token_recognition_and_partial_prefixes) {
  bool partial = false;
  EXPECT_TRUE(starts_with_method("OPTIONS * HTTP/1.1", partial));
  EXPECT_FALSE(starts_with_method("GETX / HTTP/1.1", partial));
  EXPECT_FALSE(partial);
  EXPECT_FALSE(starts_with_method("PO", partial));
  EXPECT_TRUE(partial);
  EXPECT_FALSE(starts_with_method("\x16\x03\x01", partial));
  EXPECT_FALSE(partial);
}

TEST(HttpResponse, status_code_of_a_status_line) {
  Response r;
  ASSERT_EQ(parse_response("HTTP/1.1 404 Not Found\r\nServer: x\r\n", r), Status::ok);
  EXPECT_EQ(r.status, 404);
  ASSERT_EQ(parse_response("HTTP/1.0 200\r\n", r), Status::ok);  // empty reason
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(parse_response("HTTP/1.1 20", r), Status::need_more);
  EXPECT_EQ(parse_response("HTTP/1.1 2x0 OK\r\n", r), Status::malformed);
  EXPECT_EQ(parse_response("HTTP/1.1 099 Low\r\n", r), Status::malformed);
  EXPECT_EQ(parse_response("HTTP/1.1 2000 OK\r\n", r), Status::malformed);
}

}  // namespace
}  // namespace netscope::dpi::http
