#pragma once
// DnsAnswer: one A, AAAA or CNAME record as the DNS parser and the DNS events carry it.
// Addresses stay binary on the packet path; text() formats one when an output needs the
// string (the Conventions' `answers` values), so formatting happens off the packet thread.

#include <cstdint>
#include <string>

#include "core/ip_address.hpp"

namespace netscope::dpi {

struct DnsAnswer {
  std::uint16_t type = 0;   // 1 (A), 28 (AAAA) or 5 (CNAME)
  core::IpAddress address;  // A and AAAA
  std::string target;       // CNAME: the canonical name

  // "93.184.216.34", "2001:db8::1" or the CNAME target.
  std::string text() const;
  bool operator==(const DnsAnswer&) const = default;
};

}  // namespace netscope::dpi
