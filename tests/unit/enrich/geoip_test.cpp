// GeoIp against libmaxminddb's own command-line reader (mmdblookup, Debian mmdb-bin) as
// the oracle, on databases written for the test by MaxMind's writer
// (tests/e2e/geoip_make_mmdb.pl) and, when scripts/setup installed them, on the real
// country and ASN databases.

#include "enrich/geoip.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace netscope::enrich {
namespace {

using core::IpAddress;

IpAddress ip(const char* text) {
  auto a = IpAddress::parse(text);
  if (!a) throw std::invalid_argument(text);
  return *a;
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen " + cmd);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error(cmd + " exited with " + std::to_string(rc));
  return out;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// A directory of this test process's own. ctest runs every test as its own process, in
// parallel: in the shared TempDir() one test rewrote a database that another had mapped,
// and the reader died of SIGBUS.
const std::string& own_dir() {
  // Never destroyed, so that the exit handler can still read it.
  static const std::string* const dir = [] {
    auto* d = new std::string(::testing::TempDir() + "/netscope_geoip_XXXXXX");
    if (::mkdtemp(d->data()) == nullptr) throw std::runtime_error("mkdtemp " + *d);
    return d;
  }();
  static const int cleanup = std::atexit([] { std::filesystem::remove_all(*dir); });
  (void)cleanup;
  return *dir;
}

// Writes a database from a JSON spec (see geoip_make_mmdb.pl) and returns its path.
std::string make_db(const std::string& name, const std::string& spec) {
  const std::string& dir = own_dir();
  const std::string json = dir + "/" + name + ".json";
  const std::string out = dir + "/" + name + ".mmdb";
  std::ofstream(json) << spec;
  run(std::string("perl ") + NETSCOPE_SOURCE_DIR + "/tests/e2e/geoip_make_mmdb.pl " + out + " < " +
      json);
  return out;
}

// The value mmdblookup prints for `key` in the record of `addr` ("" when it prints none):
// a string's text between its quotes, an integer's digits.
std::string oracle(const std::string& db, const IpAddress& addr, const std::string& key) {
  const std::string out = run("mmdblookup --file " + db + " --ip " + addr.to_string() + " " + key +
                              " 2>/dev/null; true");
  const auto type_at = out.find(" <");
  if (type_at == std::string::npos) return "";
  std::string v = out.substr(0, type_at);
  v.erase(0, v.find_first_not_of(" \n"));
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

std::string asn_text(const GeoRecord& r) {
  return r.asn ? std::to_string(*r.asn) : "";
}

// ip-location-db's flat country layout and MaxMind's GeoLite2-ASN layout, IPv6 trees
// holding IPv4 under ::/96 as the real files do. 10.0.0.0/8 is in the file on purpose:
// the private label must win over it.
constexpr const char* kCountrySpec = R"({"ip_version": 6, "database_type": "test-country",
  "types": {"country_code": "utf8_string"},
  "records": [["1.0.0.0", "1.0.0.255", {"country_code": "AU"}],
              ["8.8.8.0", "8.8.8.255", {"country_code": "US"}],
              ["10.0.0.0", "10.255.255.255", {"country_code": "ZZ"}],
              ["81.0.0.0", "81.255.255.255", {"country_code": "FR"}],
              ["2a00::", "2a00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", {"country_code": "DE"}]]})";
constexpr const char* kAsnSpec = R"({"ip_version": 6, "database_type": "GeoLite2-ASN",
  "types": {"autonomous_system_number": "uint32", "autonomous_system_organization": "utf8_string"},
  "records": [["8.8.8.0", "8.8.8.255", {"autonomous_system_number": 15169,
                                        "autonomous_system_organization": "Google LLC"}],
              ["81.0.0.0", "81.0.255.255", {"autonomous_system_number": 4294967295,
                                            "autonomous_system_organization": "LLC \"Q\", Ltd."}],
              ["2a00::", "2a00::ffff", {"autonomous_system_number": 65001,
                                        "autonomous_system_organization": "Six"}]]})";

TEST(AddressScope, PrivateAndReservedRangesFollowTheIanaRegistries) {
  for (const char* a :
       {"10.1.2.3", "100.64.0.1", "100.127.255.255", "127.0.0.1", "169.254.9.9", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "::1", "fe80::1", "fd12:3456::1", "fc00::1", "fec0::1",
        "64:ff9b:1::1", "64:ff9b::a00:1", "::ffff:192.168.0.1"}) {
    EXPECT_EQ(address_scope(ip(a)), AddressScope::private_) << a;
  }
  for (const char* a :
       {"0.0.0.0",        "0.1.2.3",         "192.0.0.8",   "192.0.2.1",   "198.18.0.1",
        "198.19.255.255", "198.51.100.7",    "203.0.113.9", "224.0.0.251", "239.255.255.250",
        "240.0.0.1",      "255.255.255.255", "::",          "100::1",      "2001:db8::1",
        "2001:2::1",      "3fff::1",         "ff02::1",     "4000::1",     "::2"}) {
    EXPECT_EQ(address_scope(ip(a)), AddressScope::reserved) << a;
  }
  for (const char* a :
       {"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "172.15.255.255", "172.32.0.0", "192.169.0.0", "198.17.255.255", "198.20.0.0",
        "223.255.255.255", "2001:4860::8888", "2a00:1450::1", "3ffe::1", "64:ff9b::808:808"}) {
    EXPECT_EQ(address_scope(ip(a)), AddressScope::global) << a;
  }
}

TEST(GeoIp, PrivateAndReservedAddressesAreLabelledWithoutAnyDatabase) {
  const GeoIp geo("", "");
  EXPECT_EQ(geo.lookup(ip("192.168.0.10")).country, "private");
  EXPECT_EQ(geo.lookup(ip("ff02::fb")).country, "reserved");
  const GeoRecord global = geo.lookup(ip("8.8.8.8"));
  EXPECT_EQ(global.country, "");
  EXPECT_FALSE(global.asn);
  EXPECT_EQ(global.asn_org, "");
}

TEST(GeoIp, TestDatabasesAgreeWithMmdblookup) {
  const std::string country = make_db("country", kCountrySpec);
  const std::string asn = make_db("asn", kAsnSpec);
  const GeoIp geo(country, asn);
  for (const char* a : {"1.0.0.1", "1.0.1.0", "8.8.8.8", "8.8.9.1", "81.0.0.1", "81.1.0.1",
                        "2a00::1", "2a00::1:0", "2a01::1", "9.9.9.9", "2001:4860::1"}) {
    const GeoRecord r = geo.lookup(ip(a));
    EXPECT_EQ(r.country, oracle(country, ip(a), "country_code")) << a;
    EXPECT_EQ(asn_text(r), oracle(asn, ip(a), "autonomous_system_number")) << a;
    EXPECT_EQ(r.asn_org, oracle(asn, ip(a), "autonomous_system_organization")) << a;
  }
  // Spot values, so that a broken oracle parse cannot make both sides empty.
  EXPECT_EQ(geo.lookup(ip("8.8.8.8")).country, "US");
  EXPECT_EQ(geo.lookup(ip("81.0.0.1")).asn, 4294967295U);
  EXPECT_EQ(geo.lookup(ip("81.0.0.1")).asn_org, "LLC \"Q\", Ltd.");
  EXPECT_EQ(geo.lookup(ip("2a00::1")).asn_org, "Six");
}

TEST(GeoIp, PrivateLabelWinsOverTheDatabase) {
  const GeoIp geo(make_db("country", kCountrySpec), "");
  const GeoRecord r = geo.lookup(ip("10.1.1.1"));
  EXPECT_EQ(r.country, "private");
  EXPECT_FALSE(r.asn);
}

TEST(GeoIp, Nat64AddressesAreLookedUpByTheirIpv4Address) {
  const GeoIp geo(make_db("country", kCountrySpec), make_db("asn", kAsnSpec));
  const GeoRecord r = geo.lookup(ip("64:ff9b::808:808"));
  EXPECT_EQ(r.country, "US");
  EXPECT_EQ(r.asn, 15169U);
}

TEST(GeoIp, GeoLite2CountryLayoutAndIpv4OnlyDatabases) {
  const std::string db =
      make_db("geolite", R"({"ip_version": 4, "database_type": "GeoLite2-Country",
    "types": {"country": "map", "iso_code": "utf8_string", "geoname_id": "uint32"},
    "records": [["5.0.0.0", "5.255.255.255", {"country": {"iso_code": "SE", "geoname_id": 1}}]]})");
  const GeoIp geo(db, "");
  EXPECT_EQ(geo.lookup(ip("5.1.2.3")).country, "SE");
  EXPECT_EQ(geo.lookup(ip("5.1.2.3")).country, oracle(db, ip("5.1.2.3"), "country iso_code"));
  EXPECT_EQ(geo.lookup(ip("2a00::1")).country, "");  // IPv6 in an IPv4-only file: unknown
  ASSERT_TRUE(geo.country_db());
  EXPECT_EQ(geo.country_db()->ip_version, 4);
  EXPECT_EQ(geo.country_db()->database_type, "GeoLite2-Country");
}

TEST(GeoIp, ValuesOfTheWrongTypeAreUnknownNotMisread) {
  const std::string db = make_db("badtypes", R"({"ip_version": 6, "database_type": "bad",
    "types": {"country_code": "uint32", "autonomous_system_number": "utf8_string",
              "autonomous_system_organization": "map", "x": "utf8_string",
              "country": "utf8_string"},
    "records": [["7.0.0.0", "7.255.255.255", {"country_code": 7, "country": "XX",
                 "autonomous_system_number": "15169", "autonomous_system_organization": {"x": "y"}}]]})");
  const GeoIp geo(db, db);
  const GeoRecord r = geo.lookup(ip("7.7.7.7"));
  EXPECT_EQ(r.country, "");
  EXPECT_FALSE(r.asn);
  EXPECT_EQ(r.asn_org, "");
}

TEST(GeoIp, UnreadableFilesNameTheFile) {
  try {
    GeoIp geo("/nonexistent/country.mmdb", "");
    FAIL() << "opened a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/country.mmdb"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  const std::string junk = own_dir() + "/junk.mmdb";
  std::ofstream(junk) << "not a MaxMind database\n";
  EXPECT_THROW(GeoIp("", junk), std::runtime_error);
  try {
    (void)open_geoip("", junk);
    FAIL() << "opened junk";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--asn-db " + junk, 0), 0U) << e.what();
  }
}

// A sample of global addresses, IPv4 anywhere and IPv6 in the blocks the RIRs hand out.
std::vector<IpAddress> sample_addresses(std::size_t v4, std::size_t v6) {
  std::mt19937 rng(20261206);
  std::vector<IpAddress> out;
  while (out.size() < v4) {
    const IpAddress a = IpAddress::from_v4(static_cast<std::uint32_t>(rng()));
    if (address_scope(a) == AddressScope::global) out.push_back(a);
  }
  constexpr std::array<std::uint16_t, 7> kBlocks{0x2001, 0x2400, 0x2600, 0x2800,
                                                 0x2a00, 0x2a02, 0x2c0f};
  for (std::size_t i = 0; i < v6; ++i) {
    std::array<std::uint8_t, 16> b{};
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    const std::uint16_t top = kBlocks[i % kBlocks.size()];
    b[0] = static_cast<std::uint8_t>(top >> 8);
    b[1] = static_cast<std::uint8_t>(top & 0xff);
    if (top != 0x2001) b[2] &= 0x0f;  // the first /20s of a block are the ones in use
    out.push_back(IpAddress::from_v6(b));
  }
  return out;
}

TEST(GeoIp, InstalledDatabasesAgreeWithMmdblookupOnASample) {
  const std::string country = default_country_db();
  const std::string asn = default_asn_db();
  if (!exists(country) || !exists(asn)) {
    GTEST_SKIP() << "scripts/setup has not installed " << country << " and " << asn;
  }
  const GeoIp geo(country, asn);
  std::size_t with_country = 0;
  std::size_t with_asn = 0;
  for (const IpAddress& a : sample_addresses(150, 50)) {
    const GeoRecord r = geo.lookup(a);
    EXPECT_EQ(r.country, oracle(country, a, "country_code")) << a.to_string();
    EXPECT_EQ(asn_text(r), oracle(asn, a, "autonomous_system_number")) << a.to_string();
    EXPECT_EQ(r.asn_org, oracle(asn, a, "autonomous_system_organization")) << a.to_string();
    with_country += r.country.empty() ? 0 : 1;
    with_asn += r.asn ? 1 : 0;
  }
  // Most of the IPv4 space is allocated: a sample with few hits means a broken lookup.
  EXPECT_GT(with_country, 100U);
  EXPECT_GT(with_asn, 80U);
}

}  // namespace
}  // namespace netscope::enrich
