// libFuzzer target for the TUI's filter language (tui/filter) and its text helpers
// (tui/text). Input: a width byte, then the filter text, then after the first '\n' a
// field text. The filter is parsed and, when valid, matched against fixed connection,
// process and remote rows plus rows whose text fields hold the field text; the text
// helpers run on the whole input as arbitrary bytes. Invariants trap:
//   - a syntax error's offset lies within the text, and an error has a message;
//   - display_width(fit(s, w)) == w and display_width(truncate_middle(s, w)) <= w;
//   - sanitize() is idempotent and keeps the width;
//   - a filter that is one bare /regex/ the fast engine takes (tui/fast_regex) finds the
//     same matches in the field text and the filter text as std::regex.
//
// No capture holds filter text, so the seeds are built in (see builtin_seeds.hpp).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_seeds.hpp"
#include "tui/fast_regex.hpp"
#include "tui/filter.hpp"
#include "tui/text.hpp"

namespace {

using namespace std::string_view_literals;
using netscope::monitor::ConnectionRecord;
using netscope::monitor::ProcessRecord;
using netscope::monitor::RemoteRecord;

constexpr std::string_view kSeeds[] = {
    "\x10"
    "firefox port:443 !state:time_wait\nFirefox"sv,
    "\x20"
    "dst:10.0.0.0/8 src:2001:db8::/32 dst:1e100\nhost"sv,
    "\x05"
    "sni:/^www\\.goog(le)?\\.com$/ app:tls proto:6\nwww.google.com"sv,
    "\x30"
    "process:\"Web Content\" pid:42 user:root container:web\nWeb Content"sv,
    "\x08"
    "alert: country:us asn:AS15169 asn:goog\n\xE6\x97\xA5\xE6\x9C\xAC"sv,
    "\x03"
    "sport:1000-2000 dport:53 /x{2,3}/ \"unterminated\nabc"sv,
    "\x40"
    "fe80::1 [::1]:53 !/(a|b)*c/ unknown:x\n\xFF\xFE\xC0\xAF"sv,
};

netscope::core::IpAddress v4(std::uint32_t a) {
  return netscope::core::IpAddress::from_v4(a);
}

ConnectionRecord base_connection() {
  ConnectionRecord c;
  c.proto = 6;
  c.proto_name = "tcp";
  c.local_addr = v4(0xC0A80114);
  c.local_port = 51544;
  c.remote_addr = v4(0x8EFA4A24);
  c.remote_port = 443;
  c.remote_host = "fra16s48-in-f4.1e100.net";
  c.state = "ESTABLISHED";
  c.pid = 4242;
  c.process = "firefox";
  c.dpi.edit().app = "TLS";
  c.dpi.edit().sni = "www.google.com";
  c.country = "US";
  c.asn = 15169;
  c.asn_org = "GOOGLE";
  c.dpi.edit().http_status = 200;
  c.alert = "google.com";
  return c;
}

void check_text(std::string_view s, std::size_t width) {
  namespace tui = netscope::tui;
  const std::size_t w = tui::display_width(s);
  if (tui::display_width(tui::fit(s, width)) != width) __builtin_trap();
  if (tui::display_width(tui::truncate_middle(s, width)) > width) __builtin_trap();
  const std::string clean = tui::sanitize(s);
  if (tui::display_width(clean) != w) __builtin_trap();
  if (tui::sanitize(clean) != clean) __builtin_trap();
  (void)tui::format_rate(static_cast<double>(s.size()) * 1e3, {});
}

// `text` is one bare /regex/ that Filter::parse accepted (so within its size and NFA
// budget): FastRegex, when it takes the pattern, answers as std::regex does.
void check_fast_regex(std::string_view text, std::string_view field) {
  if (text.size() < 3 || text.front() != '/' || text.back() != '/') return;
  const std::string_view pattern = text.substr(1, text.size() - 2);
  for (std::size_t i = 0; i < pattern.size(); i += pattern[i] == '\\' ? 2 : 1) {
    if (pattern[i] == '/') return;  // more than one term
  }
  const auto fast = netscope::tui::FastRegex::compile(pattern);
  if (!fast) return;
  auto flags = std::regex::ECMAScript | std::regex::icase;
#ifdef __GLIBCXX__
  flags |= std::regex_constants::__polynomial;
#endif
  try {
    const std::regex re{std::string(pattern), flags};
    for (const std::string_view t : {field, text, std::string_view{}}) {
      if (fast->search(t) != std::regex_search(t.begin(), t.end(), re)) __builtin_trap();
    }
  } catch (const std::exception&) {  // error_complexity / error_stack: nothing to compare
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv, std::vector<std::string>(std::begin(kSeeds), std::end(kSeeds)));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 4096) return 0;
  const std::size_t width = data[0] % 96;
  const std::size_t len = size - 1;
  // An exactly-sized heap copy, so ASan sees any read past the end.
  auto bytes = std::make_unique<char[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(bytes.get(), data + 1, len);
  const std::string_view input(bytes.get(), len);
  const std::size_t nl = input.find('\n');
  const std::string_view filter_text = input.substr(0, nl);
  const std::string_view field =
      nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  check_text(input, width);

  namespace tui = netscope::tui;
  tui::FilterError error;
  const auto filter = tui::Filter::parse(filter_text, &error);
  if (!filter) {
    if (error.offset > filter_text.size() || error.message.empty()) __builtin_trap();
    return 0;
  }

  ConnectionRecord plain = base_connection();
  ConnectionRecord hostile = base_connection();
  const std::string f(field);
  hostile.process = hostile.remote_host = hostile.state = f;
  hostile.country = hostile.asn_org = hostile.alert = f;
  netscope::dpi::DpiInfo& dpi = hostile.dpi.edit();
  dpi.sni = dpi.http_host = dpi.app = f;
  hostile.local_addr = netscope::core::IpAddress{};
  hostile.pid.reset();
  hostile.asn.reset();
  (void)filter->matches(plain);
  (void)filter->matches(hostile);

  const std::vector<const ConnectionRecord*> conns{&plain, &hostile};
  ProcessRecord p;
  p.pid = 4242;
  p.name = p.cmdline = p.user = p.container = f;
  netscope::monitor::DnsEventRecord q;
  q.query = q.alert = f;
  p.dns_history.push_back(q);
  (void)filter->matches(p, conns);
  (void)filter->matches(p, {});

  RemoteRecord r;
  r.addr = hostile.remote_addr;
  r.host = r.country = r.asn_org = f;
  (void)filter->matches(r, conns);
  (void)filter->matches(r, {});
  (void)filter->needs_connections();
  check_fast_regex(filter_text, field);
  return 0;
}
