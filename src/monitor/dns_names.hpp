#pragma once
// What the tick builder makes of DNS transactions seen on the wire: the Conventions'
// "dns event" record of one, and a bounded map from the addresses in answers to the name
// that was asked for. The map names remote hosts ahead of reverse DNS: it holds what the
// user's software actually looked up ("www.example.com", not the CDN's PTR name).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/ip_address.hpp"
#include "dpi/inspector.hpp"
#include "monitor/snapshot.hpp"

namespace netscope::monitor {

struct IpAddressHash {
  std::size_t operator()(const core::IpAddress& a) const {
    std::uint64_t lo;
    std::uint64_t hi;
    std::memcpy(&lo, a.bytes().data(), 8);
    std::memcpy(&hi, a.bytes().data() + 8, 8);
    return (lo * 0x9E3779B97F4A7C15ull) ^ (hi * 0xC2B2AE3D27D4EB4Full);
  }
};

// The record of one transaction; pid and process are left for the caller.
DnsEventRecord dns_record(const dpi::DnsEvent& e);

// Address -> name from A and AAAA answers. The newest answer for an address wins; past
// `capacity` addresses the least recently answered one is forgotten.
class DnsNameMap {
 public:
  static constexpr std::size_t kDefaultCapacity = 65'536;
  explicit DnsNameMap(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // Learns the addresses of a successful answer (NOERROR) under the query name, which
  // also covers the addresses a CNAME chain led to.
  void learn(const dpi::DnsEvent& e);
  // The name for `addr`, or nullptr. Valid until the next learn().
  const std::string* find(const core::IpAddress& addr) const;
  std::size_t size() const { return index_.size(); }

 private:
  using Entry = std::pair<core::IpAddress, std::string>;
  void put(const core::IpAddress& addr, const std::string& name);

  std::size_t capacity_;
  std::list<Entry> order_;  // most recently answered first
  std::unordered_map<core::IpAddress, std::list<Entry>::iterator, IpAddressHash> index_;
};

}  // namespace netscope::monitor
