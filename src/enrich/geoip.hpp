#pragma once
// GeoIp: the country and the autonomous system (number and organisation) of an address,
// read from MaxMind DB files with libmaxminddb. Two databases, each optional:
//
// - country: a file whose records hold either `country_code` (the ip-location-db layout
//   that scripts/setup installs) or `country.iso_code` (MaxMind's GeoLite2/GeoIP2
//   Country and City layout);
// - ASN: a file whose records hold `autonomous_system_number` and
//   `autonomous_system_organization` (MaxMind's GeoLite2-ASN layout, which scripts/setup
//   produces from the ip-location-db ASN CSV).
//
// Addresses that no database can place are classified first (address_scope()):
// private-use and other special-purpose ranges come back as the country "private" or
// "reserved" without a lookup, whether or not a database is open.
//
// The files are memory-mapped read-only (MMDB_MODE_MMAP), so opening costs no parsing
// and lookups are thread-safe without a lock. A lookup never blocks on I/O beyond page
// faults on the mapped file.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip_address.hpp"

namespace netscope::enrich {

// Where an address is meant to be reachable from (IANA IPv4 and IPv6 Special-Purpose
// Address Registries, RFC 6890 and its updates).
enum class AddressScope {
  global,    // anything else: ask the databases
  private_,  // one site or host: RFC 1918, RFC 6598 shared space, loopback, link-local, ULA
  reserved,  // not routable on the Internet: "this network", documentation, benchmarking,
             // multicast, broadcast, future use, discard-only, IETF protocol assignments
};

AddressScope address_scope(const core::IpAddress& addr);

// "private", "reserved", or "" for a global address: the `country` value of such ranges.
std::string_view scope_country(AddressScope scope);

// The address the databases are asked about: the IPv4 address inside the well-known NAT64
// prefix 64:ff9b::/96 (RFC 6052 §2.1), else `addr` itself.
core::IpAddress geo_query_address(const core::IpAddress& addr);

struct GeoRecord {
  std::string country;  // ISO 3166-1 alpha-2, "private", "reserved"; "" when unknown
  std::optional<std::uint32_t> asn;
  std::string asn_org;  // "" when unknown
};

// One open database (for the summary line and the tests).
struct GeoDbInfo {
  std::string path;
  std::string database_type;  // the file's metadata, e.g. "GeoLite2-ASN"
  std::uint64_t build_epoch = 0;
  std::uint16_t ip_version = 0;  // 4 or 6
};

class GeoIp {
 public:
  // Opens each database whose path is not empty. Throws std::runtime_error naming the
  // file when one cannot be opened or is not a MaxMind DB.
  GeoIp(const std::string& country_db, const std::string& asn_db);
  ~GeoIp();
  GeoIp(const GeoIp&) = delete;
  GeoIp& operator=(const GeoIp&) = delete;

  // The scope's label for private and reserved addresses; otherwise what the databases
  // hold (empty fields where they hold nothing). Thread-safe.
  GeoRecord lookup(const core::IpAddress& addr) const;

  std::optional<GeoDbInfo> country_db() const;
  std::optional<GeoDbInfo> asn_db() const;

 private:
  struct Db;
  std::unique_ptr<Db> country_;
  std::unique_ptr<Db> asn_;
};

// The databases the command line asks for. An explicit path (--geoip, --asn-db) must
// open: otherwise this throws std::runtime_error naming the option and the file. An empty
// path means the default in the data directory, used when it is there (a missing default
// is logged once at info level, a damaged one is a warning); without it, lookups still
// label private and reserved addresses.
std::shared_ptr<const GeoIp> open_geoip(const std::string& country_flag,
                                        const std::string& asn_flag);

// The data directory scripts/setup fills: $NETSCOPE_DATA_DIR when set, else the source
// tree's data/ (compiled in).
std::string default_data_dir();
// <data dir>/country.mmdb and <data dir>/asn.mmdb.
std::string default_country_db();
std::string default_asn_db();

}  // namespace netscope::enrich
