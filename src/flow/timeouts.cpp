#include "flow/timeouts.hpp"

#include <charconv>
#include <system_error>

namespace netscope::flow {

const std::vector<TimeoutName>& timeout_names() {
  static const std::vector<TimeoutName> kNames{
      {"tcp_handshake", &FlowTimeouts::tcp_handshake, "SYN_SENT / SYN_RECV"},
      {"tcp_active", &FlowTimeouts::tcp_active, "ESTABLISHED, packet within idle_after"},
      {"tcp_idle", &FlowTimeouts::tcp_idle, "ESTABLISHED, idle"},
      {"http", &FlowTimeouts::http, "HTTP and TLS connections"},
      {"ssh", &FlowTimeouts::ssh, "SSH connections"},
      {"tcp_time_wait", &FlowTimeouts::tcp_time_wait, "TIME_WAIT (FIN exchange done)"},
      {"tcp_closed", &FlowTimeouts::tcp_closed, "CLOSED (reset)"},
      {"dns", &FlowTimeouts::dns, "DNS over UDP"},
      {"udp", &FlowTimeouts::udp, "other UDP"},
      {"quic_active", &FlowTimeouts::quic_active, "QUIC connected, packet within idle_after"},
      {"quic_idle", &FlowTimeouts::quic_idle, "QUIC connected, idle"},
      {"quic_draining", &FlowTimeouts::quic_draining, "QUIC draining or closed"},
      {"other", &FlowTimeouts::other, "ICMP and other protocols"},
      {"arp", &FlowTimeouts::arp, "ARP request/reply (ARP_REQUEST, ARP_REPLY)"},
      {"idle_after", &FlowTimeouts::idle_after, "no packet for this long = idle"},
  };
  return kNames;
}

bool apply_timeout(FlowTimeouts& t, std::string_view setting, std::string* error) {
  const auto fail = [&](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
  };
  const std::size_t eq = setting.find('=');
  if (eq == std::string_view::npos) {
    return fail("\"" + std::string(setting) + "\": expected NAME=SECONDS");
  }
  const std::string_view name = setting.substr(0, eq);
  const std::string_view value = setting.substr(eq + 1);
  for (const TimeoutName& n : timeout_names()) {
    if (n.name != name) continue;
    double seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || !(seconds >= 0.1) ||
        seconds > 31'536'000) {
      return fail("\"" + std::string(setting) +
                  "\": the value must be a number of seconds from 0.1 to 31536000");
    }
    t.*n.field = seconds;
    return true;
  }
  std::string names;
  for (const TimeoutName& n : timeout_names())
    names += (names.empty() ? "" : ", ") + std::string(n.name);
  return fail("\"" + std::string(setting) + "\": unknown timeout name; known: " + names);
}

}  // namespace netscope::flow
