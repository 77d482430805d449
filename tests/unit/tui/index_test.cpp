// build_frame filters a whole snapshot at once: bare words through the snapshot's packed
// ConnectionText, keywords on string fields once per distinct value (FieldValues), and the
// overview's process and remote rows from the OR of their
// connections' term bits. These tests check that both give exactly what the row-by-row
// Filter::matches() gives, over a varied snapshot and many filters.

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "tui/filter.hpp"
#include "tui/model.hpp"
#include "tui_fixture.hpp"

namespace netscope::tui {
namespace {

using monitor::ConnectionRecord;
using monitor::ProcessRecord;
using monitor::RemoteRecord;

// 3,000 connections shaped like a busy host: ~12 process names (some unattributed or
// without a process record), IPv4 and IPv6, TLS with SNI, HTTP, DNS, countries and ASNs.
std::shared_ptr<monitor::Snapshot> varied_snapshot() {
  auto s = std::make_shared<monitor::Snapshot>();
  s->time = testing::kNow;
  static constexpr std::array<const char*, 6> kProcs{"firefox-esr", "Chromium", "curl",
                                                     "sshd",        "postgres", "Web Content"};
  static constexpr std::array<const char*, 4> kSni{"www.google.com", "GitHub.com", "", ""};
  static constexpr std::array<const char*, 4> kStates{"ESTABLISHED", "TIME_WAIT", "SYN_SENT",
                                                      "UDP_ACTIVE"};
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (std::size_t p = 0; p < 40; ++p) {
    auto r = testing::proc(kProcs[p % kProcs.size()], static_cast<pid_t>(1000 + p), 1, 1);
    r.user = p % 2 == 0 ? "alice" : "bob";
    if (p % 5 == 0) r.cmdline = "/usr/bin/thing --port 8443";
    s->processes.push_back(r);
  }
  s->processes.push_back(testing::proc("closed", std::nullopt, 1, 1));
  for (std::size_t i = 0; i < 3000; ++i) {
    const std::uint64_t r = next();
    const bool udp = r % 5 == 0;
    // pids 1000..1044: 1040..1044 have no process record; every 17th is unattributed.
    std::optional<pid_t> pid = static_cast<pid_t>(1000 + (r >> 8) % 45);
    if (i % 17 == 0) pid.reset();
    auto c = testing::conn("10.1.2.3", static_cast<std::uint16_t>(30000 + i),
                           udp ? 53 : (r % 3 == 0 ? 80 : 443), static_cast<double>(r % 1000),
                           static_cast<double>((r >> 10) % 100000), pid,
                           kProcs[(r >> 16) % kProcs.size()]);
    c.proto = udp ? 17 : 6;
    c.proto_name = udp ? "udp" : "tcp";
    if (r % 7 == 0) {
      std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
      for (std::size_t k = 4; k < 16; ++k) v6[k] = static_cast<std::uint8_t>(next() % 3);
      c.remote_addr = core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(v6));
    } else {
      c.remote_addr = core::IpAddress::from_v4(0x0a010000u + static_cast<std::uint32_t>(r % 300));
    }
    c.state = kStates[(r >> 20) % kStates.size()];
    c.dpi.edit().sni = kSni[(r >> 24) % kSni.size()];
    c.dpi.edit().app = udp ? "DNS" : (c.dpi->sni.empty() ? "HTTP" : "TLS");
    if (c.dpi->app == "HTTP") {
      c.dpi.edit().http_host = "Intranet.Example";
      c.dpi.edit().http_status = 200 + static_cast<int>((r >> 28) % 3) * 100;
    }
    if (r % 4 != 0) c.remote_host = "host-" + std::to_string(r % 97) + ".example.net";
    if (r % 3 == 0) {
      c.country = "DE";
      c.asn = static_cast<std::uint32_t>(1000 + (r >> 32) % 50);
      c.asn_org = "Example AS" + std::to_string(*c.asn);
    }
    if (i % 101 == 0) c.alert = "blacklist: bad.example";
    s->connections.push_back(c);
  }
  // Remotes: most addresses have a row, some connections' addresses have none.
  std::set<core::IpAddress> seen;
  for (const ConnectionRecord& c : s->connections) {
    if (seen.size() < 250 && seen.insert(c.remote_addr).second) {
      monitor::RemoteRecord rr;
      rr.addr = c.remote_addr;
      rr.host = c.remote_host;
      rr.country = c.country;
      rr.asn = c.asn;
      rr.asn_org = c.asn_org;
      s->remotes.push_back(rr);
    }
  }
  return s;
}

template <typename R>
std::set<const R*> as_set(const std::vector<const R*>& v) {
  return {v.begin(), v.end()};
}

TEST(TuiIndex, frame_at_once_filtering_agrees_with_row_by_row_matching) {
  const auto snap = varied_snapshot();
  const auto index = std::make_shared<const SnapshotIndex>(snap);
  const SortSpec sorts[kTables] = {default_sort(Table::processes), default_sort(Table::connections),
                                   default_sort(Table::remotes)};
  const char* filters[] = {
      "firefox",
      "FIRE",
      "web content",
      "\"web content\"",
      "github",
      "10.1.",
      "10.1.0.5:443",
      "2001:db8::",
      "[2001",
      "443",
      "as10",
      "300",
      "200",
      "exact",
      "alice",
      "8443",
      "!firefox",
      "!443 curl",
      "/^fire/",
      "/goog(le)?\\.com$/",
      "port:443",
      "!state:time_wait port:443",
      "sni:github !tcp",
      "process:curl",
      "pid:1001",
      "user:bob",
      "dst:10.1.0.0/24 firefox",
      "country:de",
      "asn:1010",
      "alert:",
      "host:example.net !udp",
      "zzzz",
      "e",
      "user:alice port:80",
      "app:tls",
      "proto:udp",
      "proto:17",
      "country:DE",
      "asn:example",
      "asn:/^AS10/",
      "alert:yes",
      "!alert:",
      "sni:/goog(le)?\\.com$/",
      "host:/^host-1/",
      "!state:/wait/",
      "process:\"web content\"",
      "dst:example.net",
      "state:est app:http !country:de",
  };
  for (const char* text : filters) {
    FilterError err;
    const auto filter = Filter::parse(text, &err);
    ASSERT_TRUE(filter.has_value()) << text << ": " << err.message;
    for (const bool overview : {true, false}) {
      ModelOptions opt;
      if (!overview) opt.tables[0] = opt.tables[2] = false;
      const Frame f = build_frame(index, *filter, sorts, opt);
      f.ensure_sorted(f.connections.size());
      std::set<const ConnectionRecord*> want_c;
      for (const ConnectionRecord& c : snap->connections) {
        if (filter->matches(c)) want_c.insert(&c);
      }
      EXPECT_EQ(as_set(f.connections), want_c) << "filter " << text;
      if (!overview) continue;
      std::set<const ProcessRecord*> want_p;
      for (const ProcessRecord& p : snap->processes) {
        if (!p.pid) continue;  // folded into the "<UNKNOWN>" row
        const auto conns = f.connections_of(p);
        if (filter->matches(p, conns)) want_p.insert(&p);
      }
      ASSERT_TRUE(f.unknown != nullptr);
      if (filter->matches(*f.unknown, f.connections_of(*f.unknown))) want_p.insert(f.unknown.get());
      EXPECT_EQ(as_set(f.processes), want_p) << "filter " << text;
      std::set<const RemoteRecord*> want_r;
      for (const RemoteRecord& r : snap->remotes) {
        if (filter->matches(r, f.connections_to(r.addr))) want_r.insert(&r);
      }
      EXPECT_EQ(as_set(f.remotes), want_r) << "filter " << text;
    }
  }
}

TEST(TuiIndex, bare_words_through_the_packed_text_match_like_field_by_field) {
  const auto snap = varied_snapshot();
  const ConnectionText text(snap->connections);
  ASSERT_EQ(text.rows(), snap->connections.size());
  for (const char* word : {"fire", "GITHUB.COM", "example", "10.1.0.", ":53", "::", "as101", "400",
                           "blacklist", "web", "p", "com\"", "established"}) {
    const auto filter = Filter::parse(word, nullptr);
    ASSERT_TRUE(filter.has_value()) << word;
    const Filter::BareHits hits = filter->bare_hits(text);
    ASSERT_EQ(hits.size(), 1u) << word;
    std::size_t n = 0;
    for (std::size_t j = 0; j < snap->connections.size(); ++j) {
      const bool want = filter->matches(snap->connections[j]);
      ASSERT_EQ(hits[0][j] != 0, want) << word << " row " << j;
      n += want ? 1 : 0;
    }
    if (std::string(word) != "com\"") {
      EXPECT_GT(n, 0u) << word << " should hit some rows";
    }
  }
}

TEST(TuiIndex, a_word_typed_key_by_key_narrows_the_earlier_hits_to_the_same_rows) {
  const auto snap = varied_snapshot();
  const ConnectionText kept(snap->connections);  // remembers the words before
  // Longer words, a word with a digit after one without (more sections), deletions, a
  // word that does not contain the last one, two words at once.
  for (const char* word :
       {"1",      "10",      "10.",     "10.1", "10.1.0.", "10.1",  "e",      "ex",
        "exa",    "exa1",    "example", "f",    "fi",      "fir",   "p",      "fire",
        "fire p", "fire pe", "zz",      "zzz",  "1 e",     "10 ex", "10. exa"}) {
    const auto filter = Filter::parse(word, nullptr);
    ASSERT_TRUE(filter.has_value()) << word;
    const ConnectionText fresh(snap->connections);
    const Filter::BareHits narrowed = filter->bare_hits(kept);
    EXPECT_EQ(narrowed, filter->bare_hits(fresh)) << word;
    for (std::size_t j = 0; j < snap->connections.size(); ++j) {
      ASSERT_EQ(filter->matches(snap->connections[j], j, narrowed),
                filter->matches(snap->connections[j]))
          << word << " row " << j;
    }
  }
}

TEST(TuiIndex, bare_regexes_through_the_packed_text_match_like_field_by_field) {
  const auto snap = varied_snapshot();
  const ConnectionText text(snap->connections);
  for (const char* re : {"/fire/",        "/^fire/",         "/^10\\.1\\./", "/^443$/",
                         "/^53$/",        "/::1$/",          "/^as10/",      "/^AS/",
                         "/fire|curl/",   "/[0-9]{3}/",      "/e.t/",        "/x*/",
                         "/^$/",          "/^(tcp|udp)$/",   "/com$/",       "/^[a-f0-9:]+$/",
                         "/\\d+\\.\\d+/", "/zzz|^4/",        "/^400$/",      "/github\\.com$/",
                         "/exact/",       "/^ESTABLISHED$/", "/b?l(a|o)ck/"}) {
    const auto filter = Filter::parse(re, nullptr);
    ASSERT_TRUE(filter.has_value()) << re;
    EXPECT_TRUE(filter->uses_text()) << re;
    const Filter::BareHits hits = filter->bare_hits(text);
    ASSERT_EQ(hits.size(), 1u) << re;
    ASSERT_EQ(hits[0].size(), snap->connections.size()) << re;
    for (std::size_t j = 0; j < snap->connections.size(); ++j) {
      ASSERT_EQ(hits[0][j] != 0, filter->matches(snap->connections[j])) << re << " row " << j;
    }
  }
}

TEST(TuiIndex, a_field_holding_a_nul_leaves_a_bare_regex_to_the_records) {
  auto snap = std::make_shared<monitor::Snapshot>(*varied_snapshot());
  snap->connections[0].dpi.edit().sni = std::string("a\0b", 3);
  const ConnectionText text(snap->connections);
  const auto filter = Filter::parse("/a.b/", nullptr);
  ASSERT_TRUE(filter.has_value());
  const Filter::BareHits hits = filter->bare_hits(text);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_TRUE(hits[0].empty());  // decided row by row
  EXPECT_TRUE(filter->matches(snap->connections[0], 0, hits));
}

TEST(TuiIndex, a_regex_or_a_keyword_is_not_served_by_the_text) {
  const auto snap = varied_snapshot();
  const ConnectionText text(snap->connections);
  for (const char* f : {"/\\bfire/", "process:fire", "port:443"}) {
    const auto filter = Filter::parse(f, nullptr);
    ASSERT_TRUE(filter.has_value());
    EXPECT_FALSE(filter->uses_text()) << f;
    EXPECT_TRUE(filter->bare_hits(text).empty()) << f;
  }
}

TEST(TuiIndex, field_values_give_each_row_the_id_of_its_value) {
  const auto snap = varied_snapshot();
  for (std::uint32_t f = 0; f < FieldValues::kCount; ++f) {
    const FieldValues fv(snap->connections, static_cast<FieldValues::Field>(f));
    ASSERT_EQ(fv.ids.size(), snap->connections.size());
    std::set<std::string_view> distinct(fv.values.begin(), fv.values.end());
    EXPECT_EQ(distinct.size(), fv.values.size()) << "field " << f;
  }
  const FieldValues sni(snap->connections, FieldValues::sni);
  for (std::size_t j = 0; j < snap->connections.size(); ++j) {
    ASSERT_EQ(sni.values[sni.ids[j]], snap->connections[j].dpi->sni) << j;
  }
  EXPECT_EQ(sni.values.size(), 3u);  // two names and the empty one
}

TEST(TuiIndex, owner_rows_point_at_the_process_and_the_remote_of_each_connection) {
  const auto snap = varied_snapshot();
  const SnapshotIndex index(snap);
  ASSERT_EQ(index.keys().size(), snap->connections.size());
  const auto& po = index.process_of();
  const auto& ro = index.remote_of();
  for (std::size_t j = 0; j < snap->connections.size(); ++j) {
    const ConnectionRecord& c = snap->connections[j];
    EXPECT_DOUBLE_EQ(index.keys()[j].rate_down, c.rate_down);
    if (!c.pid) {
      EXPECT_EQ(po[j], SnapshotIndex::kUnattributed);
    } else if (*c.pid >= 1040) {
      EXPECT_EQ(po[j], SnapshotIndex::kNoRow);
    } else {
      ASSERT_LT(po[j], snap->processes.size());
      EXPECT_EQ(snap->processes[po[j]].pid, c.pid);
    }
    if (ro[j] != SnapshotIndex::kNoRow) {
      ASSERT_LT(ro[j], snap->remotes.size());
      EXPECT_EQ(snap->remotes[ro[j]].addr, c.remote_addr);
    } else {
      for (const RemoteRecord& r : snap->remotes) EXPECT_NE(r.addr, c.remote_addr);
    }
  }
}

}  // namespace
}  // namespace netscope::tui
