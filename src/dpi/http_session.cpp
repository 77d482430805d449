// HTTP/1.x: the first request head and the first response status line of a connection.
// Which direction carries which is decided by content (method token or "HTTP/1."),
// so a wrongly guessed client side still gives the right fields.

#include "dpi/http.hpp"
#include "dpi/session.hpp"

namespace netscope::dpi {
namespace {

class HttpSession final : public TcpSession {
 public:
  explicit HttpSession(Shared& shared) : TcpSession(Protocol::http, shared) {
    segment_budget_ = 32;
  }

 private:
  std::size_t on_data(SessionContext& c, int dir, Bytes data) override {
    const std::string_view text = as_text(data);
    bool partial = false;
    if (!have_request_ && http::starts_with_method(text, partial)) {
      http::Request req;
      const http::Status st = http::parse_request(text, req);
      if (st == http::Status::need_more) {
        if (at_cap(data, c.shared)) end_direction(dir);
        return 0;
      }
      if (st == http::Status::ok) {
        have_request_ = true;
        DpiInfo& found = info();
        found.http_method = display_text(req.method, 16);
        found.http_path = display_text(req.target, 1024);
        found.http_host = display_text(req.host, 255);
        found.http_user_agent = display_text(req.user_agent, 255);
        c.out.changed = true;
      } else {
        ++c.shared.counters.malformed_http;
      }
    } else if (!have_response_ && http::starts_with_status_line(text, partial)) {
      http::Response resp;
      const http::Status st = http::parse_response(text, resp);
      if (st == http::Status::need_more) {
        if (at_cap(data, c.shared)) end_direction(dir);
        return 0;
      }
      if (st == http::Status::ok) {
        have_response_ = true;
        info().http_status = resp.status;
        c.out.changed = true;
      } else {
        ++c.shared.counters.malformed_http;
      }
    } else if (partial) {
      return 0;  // too short to tell yet
    }
    end_direction(dir);
    return 0;
  }

  bool have_request_ = false;
  bool have_response_ = false;
};

}  // namespace

std::unique_ptr<TcpSession> make_http_session(Shared& shared) {
  return std::make_unique<HttpSession>(shared);
}

}  // namespace netscope::dpi
