#pragma once
// IpAddress and Endpoint: fixed-size value types for IPv4 and IPv6 addresses. IPv4 is
// stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d) so that both families share one
// 16-byte layout with no padding, which keeps FlowKey hashable as plain bytes.

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace netscope::core {

class IpAddress {
 public:
  IpAddress() = default;

  static IpAddress from_v4(std::span<const std::uint8_t, 4> bytes) {
    IpAddress a;
    a.bytes_[10] = 0xff;
    a.bytes_[11] = 0xff;
    std::memcpy(a.bytes_.data() + 12, bytes.data(), 4);
    return a;
  }
  // Host-order integer, e.g. 0x0a000001 for 10.0.0.1.
  static IpAddress from_v4(std::uint32_t host_order) {
    const std::array<std::uint8_t, 4> b{
        static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
        static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)};
    return from_v4(std::span<const std::uint8_t, 4>(b));
  }
  static IpAddress from_v6(std::span<const std::uint8_t, 16> bytes) {
    IpAddress a;
    std::memcpy(a.bytes_.data(), bytes.data(), 16);
    return a;
  }
  // Parses dotted IPv4 or textual IPv6; nullopt when malformed.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const {
    static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes_.data(), kMapped.data(), 12) == 0;
  }
  bool is_unspecified() const { return *this == IpAddress{}; }
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::uint32_t v4_host_order() const {
    return (std::uint32_t{bytes_[12]} << 24) | (std::uint32_t{bytes_[13]} << 16) |
           (std::uint32_t{bytes_[14]} << 8) | std::uint32_t{bytes_[15]};
  }
  std::string to_string() const;

  auto operator<=>(const IpAddress&) const = default;
  bool operator==(const IpAddress&) const = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

struct Endpoint {
  IpAddress addr;
  std::uint16_t port = 0;

  // "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
  auto operator<=>(const Endpoint&) const = default;
  bool operator==(const Endpoint&) const = default;
};

}  // namespace netscope::core
