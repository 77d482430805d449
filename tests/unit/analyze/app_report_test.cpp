// The analyze report's application and DNS statistics (app_report.hpp): counts per
// application, SNI and HTTP host; DNS rcodes, failing names, unanswered queries,
// latency percentiles and the slow list; merging shards; and the same DPI fields from
// one thread and from flow shards on real captures (the compact shard message carries
// the payload and addresses the inspector reads).

#include "analyze/app_report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analyze/pipeline.hpp"
#include "capture/file_reader.hpp"

namespace netscope::analyze {
namespace {

Conversation conversation(std::string app, std::string sni, std::string host, std::uint64_t bytes) {
  Conversation c;
  c.dpi.edit().app = std::move(app);
  c.dpi.edit().sni = std::move(sni);
  c.dpi.edit().http_host = std::move(host);
  c.dir[0].bytes = bytes;
  return c;
}

dpi::DnsEvent answer(std::string query, std::string rcode, int code, double latency_ms,
                     std::int64_t t_ns = 0) {
  dpi::DnsEvent e;
  e.time = core::Timestamp{t_ns};
  e.query = std::move(query);
  e.qtype = "A";
  e.rcode = std::move(rcode);
  e.rcode_code = code;
  e.latency_ms = latency_ms;
  return e;
}

TEST(AppStats, counts_conversations_and_bytes_per_application_sni_and_host) {
  AppStats a;
  a.add(conversation("TLS", "a.example", "", 1000));
  a.add(conversation("TLS", "a.example", "", 500));
  a.add(conversation("TLS", "b.example", "", 100));
  a.add(conversation("HTTP", "", "www.example", 50));
  a.add(conversation("", "", "", 7));  // not recognised: not counted
  const auto apps = a.apps();
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].name, "TLS");
  EXPECT_EQ(apps[0].count, 3u);
  EXPECT_EQ(apps[0].bytes, 1600u);
  EXPECT_EQ(apps[1].name, "HTTP");
  const auto sni = a.top_sni(1);
  ASSERT_EQ(sni.size(), 1u);
  EXPECT_EQ(sni[0].name, "a.example");
  EXPECT_EQ(sni[0].count, 2u);
  EXPECT_EQ(a.sni_conversations(), 3u);
  EXPECT_EQ(a.top_http_hosts(5).at(0).name, "www.example");
}

TEST(DnsStats, rcodes_failing_names_unanswered_and_latency_percentiles) {
  DnsStats d;
  for (int i = 1; i <= 100; ++i) d.add(answer("ok.example", "NOERROR", 0, i));  // 1..100 ms
  d.add(answer("missing.example", "NXDOMAIN", 3, 5));
  d.add(answer("missing.example", "NXDOMAIN", 3, 5));
  d.add(answer("broken.example", "SERVFAIL", 2, 900, 7));
  dpi::DnsEvent lost = answer("lost.example", "", 0, 0);
  lost.rcode.reset();
  lost.rcode_code.reset();
  lost.latency_ms.reset();
  d.add(lost);
  EXPECT_EQ(d.transactions(), 104u);
  EXPECT_EQ(d.unanswered(), 1u);
  EXPECT_EQ(d.by_rcode().at("NOERROR"), 100u);
  EXPECT_EQ(d.by_rcode().at("NXDOMAIN"), 2u);
  EXPECT_EQ(d.failures().at("NXDOMAIN").top(5).at(0).name, "missing.example");
  EXPECT_EQ(d.failures().at("NXDOMAIN").top(5).at(0).count, 2u);
  EXPECT_EQ(d.failures().at("SERVFAIL").top(5).at(0).name, "broken.example");
  EXPECT_EQ(d.unanswered_names().top(5).at(0).name, "lost.example");
  EXPECT_EQ(d.latency_samples(), 103u);
  // Nearest rank over 1..100, 5, 5, 900: p50 is the 52nd sample (50 ms), p95 the 98th
  // (96 ms); the log buckets are within 5% of it.
  ASSERT_TRUE(d.latency_ms(0.5));
  EXPECT_NEAR(*d.latency_ms(0.5), 50.0, 50.0 * 0.05);
  EXPECT_NEAR(*d.latency_ms(0.95), 96.0, 96.0 * 0.05);
  EXPECT_DOUBLE_EQ(*d.latency_ms(1.0), 900.0);  // the maximum is exact
  EXPECT_EQ(d.slow(), 1u);
  ASSERT_EQ(d.slowest().size(), 1u);
  EXPECT_EQ(d.slowest()[0].query, "broken.example");
  EXPECT_DOUBLE_EQ(d.slowest()[0].latency_ms, 900.0);
}

TEST(DnsStats, merged_shards_equal_one_and_the_slow_list_keeps_the_slowest) {
  DnsStats one;
  DnsStats a;
  DnsStats b;
  for (int i = 0; i < 300; ++i) {
    const dpi::DnsEvent e =
        answer("n" + std::to_string(i % 17) + ".example", "NOERROR", 0, 500.0 + (i * 37) % 300, i);
    one.add(e);
    (i % 3 == 0 ? a : b).add(e);
  }
  b.merge(a);
  EXPECT_EQ(b.transactions(), one.transactions());
  EXPECT_EQ(b.slow(), 300u);
  EXPECT_EQ(b.latency_ms(0.5), one.latency_ms(0.5));
  EXPECT_EQ(b.latency_ms(0.95), one.latency_ms(0.95));
  const auto slow = b.slowest();
  ASSERT_EQ(slow.size(), DnsStats::kMaxSlow);
  const auto want = one.slowest();
  for (std::size_t i = 0; i < slow.size(); ++i) {
    EXPECT_EQ(slow[i].latency_ms, want[i].latency_ms);
    EXPECT_EQ(slow[i].time.ns, want[i].time.ns);
  }
  EXPECT_TRUE(std::is_sorted(slow.begin(), slow.end(), [](const auto& x, const auto& y) {
    return x.latency_ms > y.latency_ms;
  }));
}

TEST(BoundedCounter, names_past_the_bound_are_counted_in_the_total_only) {
  BoundedCounter c;
  for (int i = 0; i < 10'005; ++i) c.add("n" + std::to_string(i), 1, 0);
  c.add("n0", 1, 0);  // a name already counted still counts
  EXPECT_EQ(c.distinct(), 10'000u);
  EXPECT_EQ(c.uncounted(), 5u);
  EXPECT_EQ(c.total(), 10'006u);
  EXPECT_EQ(c.top(1).at(0).name, "n0");
  EXPECT_EQ(c.top(1).at(0).count, 2u);
}

// The DPI keys of every conversation, sorted: one thread against three shards.
std::vector<std::string> dpi_rows(const std::string& path, std::size_t threads, nlohmann::json* dns,
                                  std::size_t* recognised) {
  capture::FileReader reader;
  reader.open(path);
  std::ostringstream out;
  JsonReportWriter json(out);
  PipelineResult r = run_pipeline(reader, monitor::EngineConfig{}, 10, &json, threads);
  json.finish(Summary{}, *r.report, r.anomalies, r.stats, r.flows);
  const auto doc = nlohmann::json::parse(out.str());
  std::vector<std::string> rows;
  *recognised = 0;
  for (const auto& c : doc["conversations"]) {
    *recognised += !c["app"].is_null();
    std::string row = c["flow"].get<std::string>() + " " + c["first_seen"].get<std::string>();
    for (const char* key : {"app", "app_state", "sni", "alpn", "tls_version", "ja3", "ja4",
                            "http_host", "http_method", "http_path", "http_status", "ssh_client",
                            "ssh_server", "quic_version", "service"}) {
      row += " " + c[key].dump();
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end());
  *dns = doc["dns"];
  return rows;
}

TEST(AnalyzePipeline, shards_give_the_same_dpi_fields_and_dns_as_one_thread) {
  for (const char* file :
       {"zeek/wikipedia.pcap", "zeek/tls_chrome-34-google.pcap", "chrissanders/dns_lab.pcapng",
        "zeek/quic_quicv2-http3-443.pcap", "zeek/ssh_single-conn.pcap"}) {
    const std::string path = std::string(NETSCOPE_PCAPS) + "/" + file;
    nlohmann::json dns1;
    nlohmann::json dns3;
    std::size_t recognised1 = 0;
    std::size_t recognised3 = 0;
    const auto one = dpi_rows(path, 1, &dns1, &recognised1);
    const auto three = dpi_rows(path, 3, &dns3, &recognised3);
    EXPECT_EQ(one, three) << file;
    EXPECT_EQ(dns1, dns3) << file;
    EXPECT_GT(recognised1, 0u) << file << ": no conversation was recognised";
  }
}

}  // namespace
}  // namespace netscope::analyze
