#pragma once
// LocalNets: the static local address set for replays (`--read FILE --local-net CIDR`),
// where the capturing machine's interfaces are unknown. Addresses inside any of the
// prefixes count as local, which decides upload versus download. Cidr is also the
// prefix test LocalAddresses uses for loopback ranges.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.hpp"

namespace netscope::host {

// A prefix over IpAddress's 16-byte storage, where IPv4 lives at ::ffff:0:0/96, so an
// IPv4 /n is a /(96+n) here.
struct Cidr {
  core::IpAddress network;      // host bits cleared
  std::uint8_t prefix_len = 0;  // 0..128 on the 16-byte storage
  bool v6 = false;              // written as IPv6: never matches an IPv4 address

  // `prefix_len` counted in the address's own family (0..32 for IPv4); host bits are
  // cleared and a longer prefix is clamped to the family's width.
  static Cidr of(const core::IpAddress& addr, unsigned prefix_len);

  bool contains(const core::IpAddress& addr) const;
  std::string to_string() const;  // "10.0.0.0/8", "2001:db8::/32"
};

// "10.0.0.0/8", "2001:db8::/32", or a plain address (= /32 or /128). Host bits below
// the prefix are cleared ("192.168.1.7/24" is 192.168.1.0/24). nullopt with `error`
// saying what is wrong otherwise.
std::optional<Cidr> parse_cidr(std::string_view text, std::string* error);

class LocalNets {
 public:
  // Adds one prefix; false with `error` set (the set is unchanged) when it is malformed.
  bool add_cidr(std::string_view cidr, std::string* error);
  bool contains(const core::IpAddress& addr) const;
  bool empty() const { return cidrs_.empty(); }
  const std::vector<Cidr>& cidrs() const { return cidrs_; }

 private:
  std::vector<Cidr> cidrs_;
};

}  // namespace netscope::host
