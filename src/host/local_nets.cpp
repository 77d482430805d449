#include "host/local_nets.hpp"

#include <algorithm>
#include <charconv>

namespace netscope::host {

namespace {

constexpr std::uint8_t kV4Offset = 96;  // bits of ::ffff:0:0/96 in front of an IPv4 address

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

core::IpAddress masked(const core::IpAddress& addr, unsigned prefix_len) {
  auto bytes = addr.bytes();
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bit = i * 8;
    if (bit >= prefix_len) {
      bytes[i] = 0;
    } else if (prefix_len - bit < 8) {
      bytes[i] = static_cast<std::uint8_t>(bytes[i] & (0xff << (8 - (prefix_len - bit))));
    }
  }
  return core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(bytes));
}

}  // namespace

Cidr Cidr::of(const core::IpAddress& addr, unsigned prefix_len) {
  Cidr cidr;
  cidr.v6 = !addr.is_v4();
  cidr.prefix_len = static_cast<std::uint8_t>(cidr.v6 ? std::min(prefix_len, 128u)
                                                      : kV4Offset + std::min(prefix_len, 32u));
  cidr.network = masked(addr, cidr.prefix_len);
  return cidr;
}

bool Cidr::contains(const core::IpAddress& addr) const {
  // "::/0" is every IPv6 address, not the IPv4 ones that share the storage.
  if (v6 && addr.is_v4()) return false;
  return masked(addr, prefix_len) == network;
}

std::string Cidr::to_string() const {
  const unsigned bits = v6 ? prefix_len : prefix_len - kV4Offset;
  return network.to_string() + "/" + std::to_string(bits);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string* error) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  const auto addr = core::IpAddress::parse(addr_text);
  if (!addr) {
    fail(error, "bad network " + quoted + ": '" + std::string(addr_text) +
                    "' is not an IPv4 or IPv6 address");
    return std::nullopt;
  }
  // The text decides the family: "::ffff:10.0.0.1" is written as IPv6.
  const bool v6 = addr_text.find(':') != std::string_view::npos;
  const unsigned max_bits = v6 ? 128 : 32;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(len_text.data(), len_text.data() + len_text.size(), bits);
    if (len_text.empty() || ec != std::errc{} || end != len_text.data() + len_text.size() ||
        bits > max_bits) {
      fail(error, "bad network " + quoted + ": the prefix length must be a number from 0 to " +
                      std::to_string(max_bits));
      return std::nullopt;
    }
  }
  Cidr cidr;
  cidr.prefix_len = static_cast<std::uint8_t>(v6 ? bits : kV4Offset + bits);
  // An IPv6 prefix inside ::ffff:0:0/96 ("::ffff:10.0.0.0/104") is an IPv4 one.
  cidr.v6 = v6 && !(cidr.prefix_len >= kV4Offset && addr->is_v4());
  cidr.network = masked(*addr, cidr.prefix_len);
  return cidr;
}

bool LocalNets::add_cidr(std::string_view cidr, std::string* error) {
  auto parsed = parse_cidr(cidr, error);
  if (!parsed) return false;
  cidrs_.push_back(*parsed);
  return true;
}

bool LocalNets::contains(const core::IpAddress& addr) const {
  for (const Cidr& cidr : cidrs_) {
    if (cidr.contains(addr)) return true;
  }
  return false;
}

}  // namespace netscope::host
