#include "tui/filter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace netscope;
using netscope::monitor::ConnectionRecord;
using netscope::monitor::ProcessRecord;
using netscope::monitor::RemoteRecord;
using netscope::tui::Filter;
using netscope::tui::FilterError;

namespace {

core::IpAddress ip(const char* text) {
  auto a = core::IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(core::IpAddress{});
}

// Firefox fetching from Google over TLS (IPv4).
ConnectionRecord firefox_https() {
  ConnectionRecord c;
  c.proto = 6;
  c.proto_name = "tcp";
  c.local_addr = ip("192.168.1.20");
  c.local_port = 51544;
  c.remote_addr = ip("142.250.74.36");
  c.remote_port = 443;
  c.remote_host = "fra16s48-in-f4.1e100.net";
  c.interface = "wlan0";
  c.state = "ESTABLISHED";
  c.kernel_state = "ESTABLISHED";
  c.pid = 4242;
  c.process = "Firefox";
  c.attribution = "exact";
  c.service = "https";
  c.dpi.edit().app = "TLS";
  c.dpi.edit().sni = "www.google.com";
  c.dpi.edit().alpn = "h2,http/1.1";
  c.country = "US";
  c.asn = 15169;
  c.asn_org = "GOOGLE";
  return c;
}

// An unattributed DNS query to a blacklisted resolver over IPv6.
ConnectionRecord dns_v6() {
  ConnectionRecord c;
  c.proto = 17;
  c.proto_name = "udp";
  c.local_addr = ip("2001:db8::10");
  c.local_port = 40000;
  c.remote_addr = ip("2001:4860:4860::8888");
  c.remote_port = 53;
  c.state = "DNS_ANSWERED";
  c.process = "";
  c.attribution = "unknown:closed";
  c.service = "domain";
  c.dpi.edit().app = "DNS";
  c.country = "DE";
  c.asn = 3320;
  c.asn_org = "Deutsche Telekom AG";
  c.alert = "2001:4860::/32";
  return c;
}

// curl talking plain HTTP inside the LAN.
ConnectionRecord curl_http() {
  ConnectionRecord c;
  c.proto = 6;
  c.proto_name = "tcp";
  c.local_addr = ip("10.1.2.3");
  c.local_port = 8080;
  c.remote_addr = ip("10.200.0.1");
  c.remote_port = 33000;
  c.state = "TIME_WAIT";
  c.pid = 77;
  c.process = "curl";
  c.dpi.edit().app = "HTTP";
  c.dpi.edit().http_host = "intranet.example";
  c.dpi.edit().http_status = 404;
  c.country = "private";
  return c;
}

Filter parse_ok(std::string_view text) {
  FilterError err;
  auto f = Filter::parse(text, &err);
  EXPECT_TRUE(f.has_value()) << "'" << text << "': " << err.message << " @" << err.offset;
  return f.value_or(Filter{});
}

bool m(std::string_view text, const ConnectionRecord& c) {
  return parse_ok(text).matches(c);
}

FilterError parse_error(std::string_view text) {
  FilterError err;
  const auto f = Filter::parse(text, &err);
  EXPECT_FALSE(f.has_value()) << "'" << text << "' parsed";
  EXPECT_FALSE(err.message.empty());
  return err;
}

}  // namespace

TEST(TuiFilter, empty_filter_matches_everything) {
  const Filter def;
  EXPECT_TRUE(def.empty());
  EXPECT_TRUE(def.matches(firefox_https()));
  EXPECT_TRUE(parse_ok("").empty());
  EXPECT_TRUE(parse_ok("   \t ").empty());
  EXPECT_TRUE(parse_ok("   ").matches(dns_v6()));
  EXPECT_FALSE(parse_ok("x").empty());
  EXPECT_EQ(parse_ok("port:443  x").text(), "port:443  x");
}

TEST(TuiFilter, bare_word_is_case_insensitive_substring_of_any_field) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("firefox", ff));
  EXPECT_TRUE(m("FIRE", ff));
  EXPECT_TRUE(m("GoOgLe.CoM", ff));          // sni
  EXPECT_TRUE(m("1e100", ff));               // remote host
  EXPECT_TRUE(m("establ", ff));              // state
  EXPECT_TRUE(m("https", ff));               // service
  EXPECT_TRUE(m("h2", ff));                  // alpn
  EXPECT_TRUE(m("wlan", ff));                // interface
  EXPECT_TRUE(m("142.250", ff));             // remote address
  EXPECT_TRUE(m("192.168.1.20:51544", ff));  // local endpoint
  EXPECT_TRUE(m("4242", ff));                // pid
  EXPECT_TRUE(m("as15169", ff));             // ASN
  EXPECT_TRUE(m("us", ff));                  // country
  EXPECT_FALSE(m("chrome", ff));
  EXPECT_FALSE(m("10.1.2", ff));
  const auto dns = dns_v6();
  EXPECT_TRUE(m("4860::8888", dns));
  EXPECT_TRUE(m("[2001:db8::10]:40000", dns));
  EXPECT_TRUE(m("telekom", dns));
  EXPECT_TRUE(m("\"unknown:closed\"", dns));  // quoted, since `unknown:` is no keyword
  EXPECT_TRUE(m("404", curl_http()));         // http status
}

TEST(TuiFilter, terms_are_anded) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("firefox port:443 tls", ff));
  EXPECT_FALSE(m("firefox port:80", ff));
  EXPECT_FALSE(m("curl firefox", ff));
}

TEST(TuiFilter, leading_bang_negates_a_term) {
  const auto ff = firefox_https();
  EXPECT_FALSE(m("!firefox", ff));
  EXPECT_TRUE(m("!curl", ff));
  EXPECT_FALSE(m("!port:443", ff));
  EXPECT_TRUE(m("!port:80 !state:time_wait", ff));
  EXPECT_FALSE(m("!state:time_wait", curl_http()));
  EXPECT_TRUE(m("!alert:", ff));
  EXPECT_FALSE(m("!alert:", dns_v6()));
  EXPECT_TRUE(m("!/^fire/", curl_http()));
}

TEST(TuiFilter, port_sport_dport_and_ranges) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("port:443", ff));
  EXPECT_TRUE(m("port:51544", ff));  // either side
  EXPECT_FALSE(m("port:44", ff));    // numbers are exact, not substrings
  EXPECT_TRUE(m("dport:443", ff));   // the remote port
  EXPECT_FALSE(m("sport:443", ff));
  EXPECT_TRUE(m("sport:51544", ff));  // the local port
  EXPECT_FALSE(m("dport:51544", ff));
  EXPECT_TRUE(m("port:400-500", ff));
  EXPECT_TRUE(m("dport:443-443", ff));
  EXPECT_FALSE(m("dport:444-65535", ff));
  EXPECT_TRUE(m("sport:8080", curl_http()));  // a local server: its own port is sport
  EXPECT_TRUE(m("port:0-65535", dns_v6()));
  EXPECT_TRUE(m("port:/^5[0-9]$/", dns_v6()));
}

TEST(TuiFilter, src_and_dst_take_addresses_networks_and_host_substrings) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("dst:142.250.74.36", ff));
  EXPECT_FALSE(m("dst:142.250.74.3", ff));  // an address is exact
  EXPECT_TRUE(m("dst:142.250.0.0/16", ff));
  EXPECT_TRUE(m("dst:142.250.74.36/32", ff));
  EXPECT_FALSE(m("dst:142.251.0.0/16", ff));
  EXPECT_TRUE(m("dst:128.0.0.0/1", ff));
  EXPECT_TRUE(m("dst:0.0.0.0/0", ff));
  EXPECT_FALSE(m("dst:0.0.0.0/0", dns_v6()));  // an IPv4 network holds no IPv6 address
  EXPECT_TRUE(m("src:192.168.0.0/16", ff));
  EXPECT_FALSE(m("src:142.250.0.0/16", ff));
  EXPECT_TRUE(m("dst:1e100.net", ff));  // host substring
  EXPECT_TRUE(m("dst:142.250", ff));    // address substring
  EXPECT_TRUE(m("src:168.1", ff));
  EXPECT_FALSE(m("src:1e100", ff));  // the local side has no host name
  const auto dns = dns_v6();
  EXPECT_TRUE(m("dst:2001:4860::/32", dns));
  EXPECT_TRUE(m("dst:2001:4860:4860::8888", dns));
  EXPECT_TRUE(m("dst:2001:4860:4860::8800/120", dns));
  EXPECT_FALSE(m("dst:2001:4860:4860::8800/125", dns));
  EXPECT_TRUE(m("src:2001:db8::/33", dns));
  EXPECT_TRUE(m("dst:::/0", dns));
  EXPECT_TRUE(m("dst:::ffff:0:0/96", ff));  // IPv4 as its mapped IPv6 form
  EXPECT_TRUE(m("dst:/^142\\./", ff));
}

TEST(TuiFilter, process_pid_user_container) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("process:fire", ff));
  EXPECT_FALSE(m("process:curl", ff));
  EXPECT_TRUE(m("pid:4242", ff));
  EXPECT_FALSE(m("pid:424", ff));
  EXPECT_FALSE(m("pid:1", dns_v6()));  // unattributed
  EXPECT_TRUE(m("!pid:1", dns_v6()));
  // Connections carry no user or container: such terms are false on connection rows.
  EXPECT_FALSE(m("user:root", ff));
  EXPECT_FALSE(m("container:web", ff));
}

TEST(TuiFilter, sni_host_app_proto_state) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("sni:google", ff));
  EXPECT_TRUE(m("host:GOOGLE", ff));
  EXPECT_TRUE(m("host:1e100", ff));              // the DNS name counts as a host
  EXPECT_TRUE(m("host:intranet", curl_http()));  // HTTP Host
  EXPECT_TRUE(m("sni:intranet", curl_http()));   // sni: and host: are one keyword
  EXPECT_FALSE(m("sni:google", curl_http()));
  EXPECT_TRUE(m("app:tls", ff));
  EXPECT_FALSE(m("app:http", ff));
  EXPECT_TRUE(m("app:http", curl_http()));
  EXPECT_TRUE(m("proto:tcp", ff));
  EXPECT_TRUE(m("proto:6", ff));
  EXPECT_FALSE(m("proto:udp", ff));
  EXPECT_TRUE(m("proto:17", dns_v6()));
  EXPECT_TRUE(m("state:established", ff));
  EXPECT_TRUE(m("state:time", curl_http()));
  EXPECT_TRUE(m("state:dns_", dns_v6()));
}

TEST(TuiFilter, country_is_a_whole_code_and_asn_a_number_or_org) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("country:us", ff));
  EXPECT_TRUE(m("country:US", ff));
  EXPECT_FALSE(m("country:u", ff));
  EXPECT_TRUE(m("country:private", curl_http()));
  EXPECT_FALSE(m("country:pr", curl_http()));  // Puerto Rico is not "private"
  EXPECT_TRUE(m("country:/^(us|de)$/", dns_v6()));
  EXPECT_TRUE(m("asn:15169", ff));
  EXPECT_TRUE(m("asn:AS15169", ff));
  EXPECT_FALSE(m("asn:1516", ff));
  EXPECT_TRUE(m("asn:goog", ff));
  EXPECT_TRUE(m("asn:\"deutsche telekom\"", dns_v6()));
  EXPECT_FALSE(m("asn:15169", curl_http()));  // no ASN known
  EXPECT_TRUE(m("asn:/^151/", ff));           // a regex sees the number
  EXPECT_TRUE(m("asn:/^goo/", ff));           // and the organisation
  EXPECT_FALSE(m("asn:/^169/", ff));
}

TEST(TuiFilter, alert_alone_yes_or_entry_substring) {
  const auto dns = dns_v6();
  const auto ff = firefox_https();
  EXPECT_TRUE(m("alert:", dns));
  EXPECT_TRUE(m("alert:yes", dns));
  EXPECT_TRUE(m("alert:YES", dns));
  EXPECT_FALSE(m("alert:", ff));
  EXPECT_FALSE(m("alert:yes", ff));
  EXPECT_TRUE(m("alert:4860", dns));
  EXPECT_FALSE(m("alert:evil", dns));
  EXPECT_TRUE(m("alert: udp", dns));  // `alert:` then a bare word
}

TEST(TuiFilter, regex_values_are_ecmascript_and_case_insensitive) {
  const auto ff = firefox_https();
  EXPECT_TRUE(m("/FIRE.OX/", ff));
  EXPECT_TRUE(m("/^firefox$/", ff));
  EXPECT_FALSE(m("/^irefox/", ff));
  EXPECT_TRUE(m("sni:/^www\\.goog(le)?\\.com$/", ff));
  EXPECT_FALSE(m("sni:/^google/", ff));
  EXPECT_TRUE(m("process:/^(firefox|chrome)$/", ff));
  EXPECT_TRUE(m("/^142\\.250\\./", ff));  // anchored on the bare address
  EXPECT_TRUE(m("/^443$/", ff));          // a bare port
  EXPECT_TRUE(m("pid:/^42/", ff));
  EXPECT_TRUE(m("/a\\/b/", [] {
    auto c = curl_http();
    c.dpi.edit().http_path = "/a/b";
    return c;
  }()));
  EXPECT_TRUE(m("/b{2,3}/", [] {
    auto c = curl_http();
    c.process = "abbbc";
    return c;
  }()));
}

TEST(TuiFilter, quoted_values_hold_spaces_and_escapes) {
  auto c = firefox_https();
  c.process = "Web Content";
  EXPECT_TRUE(m("process:\"web content\"", c));
  EXPECT_TRUE(m("\"b con\"", c));
  EXPECT_FALSE(m("process:\"web  content\"", c));
  c.dpi.edit().http_path = "/say \"hi\"";
  EXPECT_TRUE(m("\"\\\"hi\\\"\"", c));
}

TEST(TuiFilter, ipv6_words_are_not_keywords) {
  const auto dns = dns_v6();
  EXPECT_TRUE(m("2001:db8::10", dns));
  EXPECT_TRUE(m("!fe80::1", dns));
  auto c = dns;
  c.remote_addr = ip("beef:1:2:3:4:5:6:7");
  EXPECT_TRUE(m("beef:1:2:3:4:5:6:7", c));
}

TEST(TuiFilter, syntax_errors_name_the_offset) {
  struct Case {
    const char* text;
    std::size_t offset;
  };
  for (const Case& k : {
           Case{"foo:bar", 0},
           Case{"firefox  colour:red", 9},
           Case{"port:", 0},
           Case{"tls port:", 4},
           Case{"port:https", 5},
           Case{"port:70000", 5},
           Case{"port:10-5", 5},
           Case{"port:-5", 5},
           Case{"sport:x", 6},
           Case{"pid:abc", 4},
           Case{"pid:-1", 4},
           Case{"proto:300", 6},
           Case{"asn:AS99999999999", 4},
           Case{"dst:10.0.0.0/33", 13},
           Case{"dst:10.0.0/8", 4},
           Case{"src:::1/129", 8},
           Case{"dst:1.2.3.4/x", 12},
           Case{"a /unterminated", 2},
           Case{"sni:/abc", 4},
           Case{"/(/", 0},
           Case{"x sni:/[a-/", 6},
           Case{"/abc/def", 5},
           Case{"//", 0},
           Case{"process:\"web", 8},
           Case{"\"a\"b", 3},
           Case{"process:\"\"", 8},
           Case{"!", 0},
           Case{"a ! b", 2},
           Case{"/(a{0,999}){0,999}/", 0},
           Case{"/(a)\\1/", 0},  // back-references: linear-time matching has none
           // libstdc++ reads these counts into a signed long, which overflows (fuzzer).
           Case{"x sni:/co\\22222222222222222222222m$/", 6},
           Case{"/[\\22222222222222222222222]/", 0},
           Case{"/a{99999999999999999999999/", 0},
           Case{"/a{1,99999999999999999999999}/", 0},
       }) {
    const FilterError err = parse_error(k.text);
    EXPECT_EQ(err.offset, k.offset) << k.text << ": " << err.message;
  }
  EXPECT_NE(parse_error("foo:bar").message.find("foo:"), std::string::npos);
  EXPECT_NE(parse_error("/(/").message.find("regex"), std::string::npos);
  EXPECT_FALSE(Filter::parse("port:", nullptr).has_value());  // no error sink needed
}

TEST(TuiFilter, keywords_are_case_insensitive) {
  EXPECT_TRUE(m("PORT:443 Process:FIREFOX", firefox_https()));
}

// --- process and remote rows ---------------------------------------------------------------

TEST(TuiFilter, process_rows_use_their_own_fields_and_else_their_connections) {
  ProcessRecord p;
  p.pid = 4242;
  p.name = "firefox";
  p.cmdline = "/usr/lib/firefox/firefox -P work";
  p.user = "alice";
  p.container = "abc123def456";
  p.container_runtime = "docker";
  p.pod_uid = "8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f";
  p.unit = "app-firefox.scope";
  const auto c1 = firefox_https();
  auto c2 = firefox_https();
  c2.remote_port = 80;
  c2.dpi.edit().sni.clear();
  c2.dpi.edit().http_host = "example.org";
  c2.dpi.edit().app = "HTTP";
  const std::vector<const ConnectionRecord*> conns{&c1, &c2};
  const std::span<const ConnectionRecord* const> span(conns);
  auto pm = [&](std::string_view text) { return parse_ok(text).matches(p, span); };
  EXPECT_TRUE(pm("firefox"));
  EXPECT_TRUE(pm("work"));  // cmdline
  EXPECT_TRUE(pm("user:ali"));
  EXPECT_TRUE(pm("container:docker"));         // the runtime
  EXPECT_TRUE(pm("container:abc123"));         // the id
  EXPECT_TRUE(pm("container:8a1d3f0e-5b2c"));  // the pod
  EXPECT_FALSE(pm("container:app-firefox"));   // the unit is not a container
  EXPECT_TRUE(pm("app-firefox.scope"));        // ... but a bare word finds it
  EXPECT_TRUE(pm("5b2c-4d6e"));
  EXPECT_TRUE(pm("pid:4242"));
  EXPECT_TRUE(pm("process:fire"));
  EXPECT_TRUE(pm("port:80"));  // through a connection
  EXPECT_TRUE(pm("port:443"));
  EXPECT_TRUE(pm("port:80 sni:google"));  // each term may hold on another connection
  EXPECT_FALSE(pm("port:22"));
  EXPECT_FALSE(pm("!port:443"));  // no connection on 443, not "some connection not on 443"
  EXPECT_TRUE(pm("!port:22"));
  EXPECT_TRUE(pm("example.org"));  // bare words reach the connections too
  EXPECT_FALSE(pm("user:bob"));
  EXPECT_FALSE(pm("alert:"));
  // Without connections, connection terms are false.
  EXPECT_FALSE(parse_ok("port:443").matches(p, {}));
  EXPECT_TRUE(parse_ok("!port:443").matches(p, {}));
  // A DNS query of the process that hit the blacklist is an alert of the process.
  monitor::DnsEventRecord q;
  q.query = "evil.example";
  q.alert = "evil.example";
  p.dns_history.push_back(q);
  EXPECT_TRUE(parse_ok("alert:").matches(p, {}));
  EXPECT_TRUE(parse_ok("alert:evil").matches(p, {}));
  EXPECT_TRUE(parse_ok("evil.example").matches(p, {}));
}

TEST(TuiFilter, remote_rows_use_their_own_fields_and_else_their_connections) {
  RemoteRecord r;
  r.addr = ip("142.250.74.36");
  r.host = "fra16s48-in-f4.1e100.net";
  r.country = "US";
  r.asn = 15169;
  r.asn_org = "GOOGLE";
  const auto c1 = firefox_https();
  const std::vector<const ConnectionRecord*> conns{&c1};
  const std::span<const ConnectionRecord* const> span(conns);
  auto rm = [&](std::string_view text) { return parse_ok(text).matches(r, span); };
  EXPECT_TRUE(rm("dst:142.250.0.0/16"));
  EXPECT_TRUE(rm("dst:1e100"));
  EXPECT_TRUE(rm("country:us"));
  EXPECT_TRUE(rm("asn:15169"));
  EXPECT_TRUE(rm("asn:goog"));
  EXPECT_TRUE(rm("process:firefox"));  // through the connection
  EXPECT_TRUE(rm("sni:www.google"));
  EXPECT_TRUE(rm("host:1e100"));
  EXPECT_TRUE(rm("port:443"));
  EXPECT_FALSE(rm("process:curl"));
  EXPECT_FALSE(rm("country:de"));
  EXPECT_TRUE(rm("142.250.74"));
  EXPECT_FALSE(parse_ok("process:firefox").matches(r, {}));
  EXPECT_TRUE(parse_ok("AS15169").matches(r, {}));
}

TEST(TuiFilter, needs_connections_tells_when_rows_must_gather_them) {
  EXPECT_FALSE(Filter{}.needs_connections());
  EXPECT_FALSE(parse_ok("process:x user:y pid:1 container:z").process_needs_connections());
  EXPECT_TRUE(parse_ok("process:x port:1").process_needs_connections());
  EXPECT_TRUE(parse_ok("firefox").process_needs_connections());
  EXPECT_FALSE(parse_ok("dst:10.0.0.0/8 country:us asn:1").remote_needs_connections());
  EXPECT_TRUE(parse_ok("process:x").remote_needs_connections());
  EXPECT_TRUE(parse_ok("process:x").needs_connections());
}

TEST(TuiFilter, copies_share_the_parsed_program) {
  const Filter a = parse_ok("sni:/goog/ port:443");
  const Filter b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_TRUE(b.matches(firefox_https()));
  EXPECT_FALSE(b.matches(curl_http()));
}

// The substring search reads eight bytes at a time; check it against std::string::find on
// lowercased copies, with needles at every position, both cases and look-alike bytes
// ('@' and '`' differ from 'A' and 'a' only in the bit that folds case).
TEST(TuiFilter, substring_search_agrees_with_a_naive_search) {
  const std::string alphabet = "aAbB@`.-1zZ";
  std::uint32_t x = 2463534242u;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  auto lower = [](std::string s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
  };
  ConnectionRecord c = curl_http();
  int hits = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string hay;
    const std::size_t len = next() % 40;
    for (std::size_t i = 0; i < len; ++i) hay.push_back(alphabet[next() % alphabet.size()]);
    std::string needle;
    const std::size_t nlen = 1 + next() % 4;
    for (std::size_t i = 0; i < nlen; ++i) needle.push_back(alphabet[next() % alphabet.size()]);
    if (needle.find_first_of("\"/!") != std::string::npos) continue;
    c.process = hay;
    const bool expected = lower(hay).find(lower(needle)) != std::string::npos;
    hits += expected ? 1 : 0;
    ASSERT_EQ(parse_ok("process:\"" + needle + "\"").matches(c), expected)
        << "'" << needle << "' in '" << hay << "'";
  }
  EXPECT_GT(hits, 500);  // both outcomes are exercised
}

TEST(TuiFilter, regex_answers_stay_right_across_rows_and_repeats) {
  const Filter f = parse_ok("process:/^cu(rl)?$/");
  auto c = curl_http();
  for (int i = 0; i < 3; ++i) {
    c.process = "curl";
    EXPECT_TRUE(f.matches(c));
    c.process = "curly";
    EXPECT_FALSE(f.matches(c));
    c.process = "CU";
    EXPECT_TRUE(f.matches(c));
  }
  // An empty field is tested like any other: /^$/ finds the unattributed rows.
  EXPECT_TRUE(m("process:/^$/", dns_v6()));
  EXPECT_FALSE(m("process:/^$/", curl_http()));
}
