// GeoIp::lookup per address on the databases scripts/setup installs (data/country.mmdb and
// data/asn.mmdb, or $NETSCOPE_DATA_DIR): what the snapshot decorator pays per remote
// address and per connection on every tick. Also the cost of opening both files.

#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "enrich/geoip.hpp"

namespace {

using netscope::core::IpAddress;
using netscope::enrich::AddressScope;
using netscope::enrich::GeoIp;

bool installed() {
  struct stat st {};
  return ::stat(netscope::enrich::default_country_db().c_str(), &st) == 0 &&
         ::stat(netscope::enrich::default_asn_db().c_str(), &st) == 0;
}

// 4096 global addresses: IPv4 drawn uniformly, IPv6 inside the blocks the RIRs hand out.
std::vector<IpAddress> addresses(bool v6) {
  std::mt19937 rng(42);
  std::vector<IpAddress> out;
  while (out.size() < 4096) {
    IpAddress a;
    if (v6) {
      std::array<std::uint8_t, 16> b{};
      for (auto& x : b) x = static_cast<std::uint8_t>(rng());
      b[0] = 0x2a;
      b[1] = 0x00;
      b[2] &= 0x0f;
      a = IpAddress::from_v6(b);
    } else {
      a = IpAddress::from_v4(static_cast<std::uint32_t>(rng()));
    }
    if (netscope::enrich::address_scope(a) == AddressScope::global) out.push_back(a);
  }
  return out;
}

void run_lookups(benchmark::State& state, const GeoIp& geo, const std::vector<IpAddress>& addrs) {
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(geo.lookup(addrs[i++ & 4095]));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// range(0): 0 = both databases, 1 = country only, 2 = ASN only.
void BM_GeoIp_lookup_v4(benchmark::State& state) {
  if (!installed()) {
    state.SkipWithError("scripts/setup has not installed the databases");
    return;
  }
  const GeoIp geo(state.range(0) == 2 ? "" : netscope::enrich::default_country_db(),
                  state.range(0) == 1 ? "" : netscope::enrich::default_asn_db());
  run_lookups(state, geo, addresses(false));
}
BENCHMARK(BM_GeoIp_lookup_v4)->Arg(0)->Arg(1)->Arg(2);

void BM_GeoIp_lookup_v6(benchmark::State& state) {
  if (!installed()) {
    state.SkipWithError("scripts/setup has not installed the databases");
    return;
  }
  const GeoIp geo(netscope::enrich::default_country_db(), netscope::enrich::default_asn_db());
  run_lookups(state, geo, addresses(true));
}
BENCHMARK(BM_GeoIp_lookup_v6);

// Private addresses never reach the databases: the range table only.
void BM_GeoIp_lookup_private(benchmark::State& state) {
  const GeoIp geo("", "");
  std::vector<IpAddress> addrs;
  for (std::uint32_t i = 0; i < 4096; ++i) addrs.push_back(IpAddress::from_v4(0xc0a80000u + i));
  run_lookups(state, geo, addrs);
}
BENCHMARK(BM_GeoIp_lookup_private);

void BM_GeoIp_open(benchmark::State& state) {
  if (!installed()) {
    state.SkipWithError("scripts/setup has not installed the databases");
    return;
  }
  for (auto _ : state) {
    auto geo = std::make_unique<GeoIp>(netscope::enrich::default_country_db(),
                                       netscope::enrich::default_asn_db());
    benchmark::DoNotOptimize(geo.get());
  }
}
BENCHMARK(BM_GeoIp_open)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
