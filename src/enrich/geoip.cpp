#include "enrich/geoip.hpp"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "core/log.hpp"

#ifndef NETSCOPE_DATA_DIR
#define NETSCOPE_DATA_DIR "data"
#endif

namespace netscope::enrich {

namespace {

// Longer strings are not country codes or organisation names but a damaged or hostile
// file; they are cut rather than copied whole.
constexpr std::size_t kMaxText = 256;

std::string utf8_value(const MMDB_entry_data_s& d) {
  if (!d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.utf8_string == nullptr) return {};
  return std::string(d.utf8_string, std::min<std::size_t>(d.data_size, kMaxText));
}

std::optional<std::uint32_t> uint32_value(const MMDB_entry_data_s& d) {
  if (!d.has_data) return std::nullopt;
  switch (d.type) {
    case MMDB_DATA_TYPE_UINT16:
      return d.uint16;
    case MMDB_DATA_TYPE_UINT32:
      return d.uint32;
    case MMDB_DATA_TYPE_UINT64:
      if (d.uint64 <= UINT32_MAX) return static_cast<std::uint32_t>(d.uint64);
      return std::nullopt;
    case MMDB_DATA_TYPE_INT32:
      if (d.int32 >= 0) return static_cast<std::uint32_t>(d.int32);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

struct GeoIp::Db {
  MMDB_s mmdb{};
  std::string path;

  explicit Db(const std::string& file) : path(file) {
    const int status = MMDB_open(file.c_str(), MMDB_MODE_MMAP, &mmdb);
    const int open_errno = errno;
    if (status != MMDB_SUCCESS) {
      std::string why = MMDB_strerror(status);
      if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR) {
        why += std::string(": ") + std::strerror(open_errno);
      }
      throw std::runtime_error(file + ": " + why);
    }
  }
  ~Db() { MMDB_close(&mmdb); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The record of `addr`, or nullopt when the file holds none (or cannot hold one: an
  // IPv6 address in an IPv4-only database).
  std::optional<MMDB_entry_s> find(const core::IpAddress& addr) const {
    int error = MMDB_SUCCESS;
    MMDB_lookup_result_s r{};
    if (addr.is_v4()) {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      std::memcpy(&sa.sin_addr, addr.bytes().data() + 12, 4);
      r = MMDB_lookup_sockaddr(&mmdb, reinterpret_cast<const sockaddr*>(&sa), &error);
    } else {
      if (mmdb.metadata.ip_version != 6) return std::nullopt;
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      std::memcpy(&sa.sin6_addr, addr.bytes().data(), 16);
      r = MMDB_lookup_sockaddr(&mmdb, reinterpret_cast<const sockaddr*>(&sa), &error);
    }
    if (error != MMDB_SUCCESS || !r.found_entry) return std::nullopt;
    return r.entry;
  }

  GeoDbInfo info() const {
    GeoDbInfo i;
    i.path = path;
    if (mmdb.metadata.database_type != nullptr) i.database_type = mmdb.metadata.database_type;
    i.build_epoch = mmdb.metadata.build_epoch;
    i.ip_version = mmdb.metadata.ip_version;
    return i;
  }
};

GeoIp::GeoIp(const std::string& country_db, const std::string& asn_db) {
  if (!country_db.empty()) country_ = std::make_unique<Db>(country_db);
  if (!asn_db.empty()) asn_ = std::make_unique<Db>(asn_db);
}

GeoIp::~GeoIp() = default;

GeoRecord GeoIp::lookup(const core::IpAddress& addr) const {
  GeoRecord out;
  const AddressScope scope = address_scope(addr);
  if (scope != AddressScope::global) {
    out.country = scope_country(scope);
    return out;
  }
  const core::IpAddress query = geo_query_address(addr);
  if (country_) {
    if (std::optional<MMDB_entry_s> e = country_->find(query)) {
      MMDB_entry_data_s d{};
      // ip-location-db's flat layout first, then MaxMind's GeoLite2/GeoIP2 layout.
      if (MMDB_get_value(&*e, &d, "country_code", nullptr) == MMDB_SUCCESS) {
        out.country = utf8_value(d);
      }
      if (out.country.empty() &&
          MMDB_get_value(&*e, &d, "country", "iso_code", nullptr) == MMDB_SUCCESS) {
        out.country = utf8_value(d);
      }
    }
  }
  if (asn_) {
    if (std::optional<MMDB_entry_s> e = asn_->find(query)) {
      MMDB_entry_data_s d{};
      if (MMDB_get_value(&*e, &d, "autonomous_system_number", nullptr) == MMDB_SUCCESS) {
        out.asn = uint32_value(d);
      }
      if (MMDB_get_value(&*e, &d, "autonomous_system_organization", nullptr) == MMDB_SUCCESS) {
        out.asn_org = utf8_value(d);
      }
    }
  }
  return out;
}

std::optional<GeoDbInfo> GeoIp::country_db() const {
  if (!country_) return std::nullopt;
  return country_->info();
}

std::optional<GeoDbInfo> GeoIp::asn_db() const {
  if (!asn_) return std::nullopt;
  return asn_->info();
}

std::string default_data_dir() {
  if (const char* env = std::getenv("NETSCOPE_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return NETSCOPE_DATA_DIR;
}

std::string default_country_db() {
  return default_data_dir() + "/country.mmdb";
}
std::string default_asn_db() {
  return default_data_dir() + "/asn.mmdb";
}

namespace {

// The path to open: the flag's when given; else the default when a file is there.
std::string choose(const std::string& flag, const std::string& fallback, const char* what) {
  if (!flag.empty()) return flag;
  struct stat st {};
  if (::stat(fallback.c_str(), &st) == 0) return fallback;
  core::Log::info(std::string("no ") + what + " database at " + fallback +
                  " (scripts/setup installs one): that column stays empty");
  return {};
}

}  // namespace

std::shared_ptr<const GeoIp> open_geoip(const std::string& country_flag,
                                        const std::string& asn_flag) {
  const std::string country = choose(country_flag, default_country_db(), "GeoIP country");
  const std::string asn = choose(asn_flag, default_asn_db(), "ASN");
  auto open_one = [](const std::string& path, const std::string& flag,
                     const char* option) -> std::string {
    if (path.empty()) return {};
    try {
      GeoIp probe(path, "");
      return path;
    } catch (const std::runtime_error& e) {
      if (!flag.empty()) throw std::runtime_error(std::string(option) + " " + e.what());
      core::Log::warn(std::string("ignoring the default ") + option + " database: " + e.what());
      return {};
    }
  };
  return std::make_shared<const GeoIp>(open_one(country, country_flag, "--geoip"),
                                       open_one(asn, asn_flag, "--asn-db"));
}

}  // namespace netscope::enrich
