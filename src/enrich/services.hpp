#pragma once
// Service names for ports ("https" for 443/tcp), as getservbyport(3) would give them,
// without its locking and NSS: the TUI's port column and the JSON outputs look names up
// per row. The names come from /etc/services (services(5): "name port/protocol
// [aliases] [# comment]"); the first entry for a port and protocol wins, as it does for
// getservbyport. When the file is missing or unreadable a built-in table of common
// services (with the same names Debian's netbase uses) takes its place.
//
// Parsing is bounded: lines longer than kMaxLine, names longer than kMaxName, ports
// outside 1..65535, protocols other than tcp and udp, and lines beyond kMaxEntries are
// skipped and counted, never fatal.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netscope::enrich {

class ServiceNames {
 public:
  static constexpr std::size_t kMaxLine = 1024;
  static constexpr std::size_t kMaxName = 64;
  static constexpr std::size_t kMaxEntries = 2 * 65536;

  // Parses text in services(5) format.
  static ServiceNames parse(std::string_view text);
  // Reads `path`; the built-in table when it cannot be read.
  static ServiceNames load(const std::string& path = "/etc/services");
  static ServiceNames builtin();

  // The name of `port` for IP protocol `proto` (6 TCP, 17 UDP); empty when unknown.
  // The view stays valid as long as this object.
  std::string_view name(std::uint16_t port, std::uint8_t proto) const;

  std::size_t size() const { return entries_.size(); }
  std::size_t skipped_lines() const { return skipped_; }
  bool from_file() const { return from_file_; }

 private:
  struct Entry {
    std::uint16_t port;
    std::uint8_t proto;
    std::uint32_t offset;  // of the name in names_
    std::uint8_t length;
  };
  void add(std::uint16_t port, std::uint8_t proto, std::string_view name);
  void finish();  // sorts by (proto, port), keeping the first entry of each

  std::string names_;
  std::vector<Entry> entries_;
  std::size_t skipped_ = 0;
  bool from_file_ = false;
};

// The process-wide table, loaded from /etc/services on first use (thread-safe).
std::string_view service_name(std::uint16_t port, std::uint8_t proto);

}  // namespace netscope::enrich
