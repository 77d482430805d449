// address_scope(): private and reserved ranges, from the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890 and later updates). Only ranges that are
// not globally reachable are listed: AS112, AMT and the like are left to the databases.

#include <array>
#include <cstdint>

#include "enrich/geoip.hpp"

namespace netscope::enrich {

namespace {

struct V4Range {
  std::uint32_t net;
  int prefix;
  AddressScope scope;
};

constexpr std::uint32_t v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
         std::uint32_t{d};
}

constexpr auto kPrivate = AddressScope::private_;
constexpr auto kReserved = AddressScope::reserved;

constexpr std::array<V4Range, 16> kV4{{
    {v4(0, 0, 0, 0), 8, kReserved},        // RFC 791: "this network"
    {v4(10, 0, 0, 0), 8, kPrivate},        // RFC 1918
    {v4(100, 64, 0, 0), 10, kPrivate},     // RFC 6598: shared address space (CGN)
    {v4(127, 0, 0, 0), 8, kPrivate},       // RFC 1122: loopback
    {v4(169, 254, 0, 0), 16, kPrivate},    // RFC 3927: link-local
    {v4(172, 16, 0, 0), 12, kPrivate},     // RFC 1918
    {v4(192, 0, 0, 0), 24, kReserved},     // RFC 6890: IETF protocol assignments
    {v4(192, 0, 2, 0), 24, kReserved},     // RFC 5737: TEST-NET-1
    {v4(192, 88, 99, 0), 24, kReserved},   // RFC 7526: deprecated 6to4 relay anycast
    {v4(192, 168, 0, 0), 16, kPrivate},    // RFC 1918
    {v4(198, 18, 0, 0), 15, kReserved},    // RFC 2544: benchmarking
    {v4(198, 51, 100, 0), 24, kReserved},  // RFC 5737: TEST-NET-2
    {v4(203, 0, 113, 0), 24, kReserved},   // RFC 5737: TEST-NET-3
    {v4(224, 0, 0, 0), 4, kReserved},      // RFC 5771: multicast
    {v4(240, 0, 0, 0), 4, kReserved},      // RFC 1112: future use (and 255.255.255.255)
    {v4(255, 255, 255, 255), 32, kReserved},
}};

AddressScope v4_scope(std::uint32_t a) {
  for (const V4Range& r : kV4) {
    const std::uint32_t mask = r.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix);
    if ((a & mask) == r.net) return r.scope;
  }
  return AddressScope::global;
}

struct V6Range {
  std::array<std::uint8_t, 16> net;
  int prefix;
  AddressScope scope;
};

bool in_v6(const std::array<std::uint8_t, 16>& a, const V6Range& r) {
  int bits = r.prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (r.net[i] & mask)) return false;
  }
  return true;
}

// Checked in order: the first match wins, so the more specific ranges come first.
const std::array<V6Range, 10> kV6{{
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, kPrivate},  // RFC 4291: loopback
    {{0x00, 0x64, 0xff, 0x9b, 0, 1}, 48, kPrivate},                     // RFC 8215: local-use NAT64
    {{0x01, 0x00}, 64, kReserved},                                      // RFC 6666: discard-only
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, kReserved},              // RFC 5180: benchmarking
    {{0x20, 0x01, 0x0d, 0xb8}, 32, kReserved},                          // RFC 3849: documentation
    {{0x3f, 0xff}, 20, kReserved},                                      // RFC 9637: documentation
    {{0xfc}, 7, kPrivate},                                              // RFC 4193: unique local
    {{0xfe, 0x80}, 10, kPrivate},                                       // RFC 4291: link-local
    {{0xfe, 0xc0}, 10, kPrivate},  // RFC 3879: (deprecated) site-local
    {{0xff}, 8, kReserved},        // RFC 4291: multicast
}};

// RFC 6052 §2.1: the well-known NAT64 prefix 64:ff9b::/96 carries an IPv4 address in its
// last 32 bits; it is as global as that address.
bool is_nat64_well_known(const std::array<std::uint8_t, 16>& a) {
  static constexpr std::array<std::uint8_t, 12> kPrefix{0x00, 0x64, 0xff, 0x9b};
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    if (a[i] != kPrefix[i]) return false;
  }
  return true;
}

}  // namespace

core::IpAddress geo_query_address(const core::IpAddress& addr) {
  const auto& b = addr.bytes();
  if (!addr.is_v4() && is_nat64_well_known(b)) {
    return core::IpAddress::from_v4(std::span<const std::uint8_t, 4>(b.data() + 12, 4));
  }
  return addr;
}

AddressScope address_scope(const core::IpAddress& addr) {
  if (addr.is_v4()) return v4_scope(addr.v4_host_order());
  const auto& b = addr.bytes();
  if (is_nat64_well_known(b)) return v4_scope(geo_query_address(addr).v4_host_order());
  for (const V6Range& r : kV6) {
    if (in_v6(b, r)) return r.scope;
  }
  // RFC 4291 §2.4 and the IANA IPv6 Address Space registry: global unicast is 2000::/3
  // (the ranges above excepted); everything else outside the ranges above is reserved by
  // the IETF (the unspecified address :: among them).
  if ((b[0] & 0xe0) == 0x20) return AddressScope::global;
  return AddressScope::reserved;
}

std::string_view scope_country(AddressScope scope) {
  switch (scope) {
    case AddressScope::private_:
      return "private";
    case AddressScope::reserved:
      return "reserved";
    case AddressScope::global:
      break;
  }
  return "";
}

}  // namespace netscope::enrich
