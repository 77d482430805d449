#include "core/ip_address.hpp"

#include <arpa/inet.h>

namespace netscope::core {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  std::array<std::uint8_t, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) {
    return from_v4(std::span<const std::uint8_t, 4>(buf.data(), 4));
  }
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) {
    return from_v6(std::span<const std::uint8_t, 16>(buf));
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char out[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, out, sizeof out);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), out, sizeof out);
  }
  return out;
}

std::string Endpoint::to_string() const {
  if (addr.is_v4()) return addr.to_string() + ":" + std::to_string(port);
  return "[" + addr.to_string() + "]:" + std::to_string(port);
}

}  // namespace netscope::core
