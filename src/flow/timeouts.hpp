#pragma once
// Idle timeouts by protocol, application and activity (README "Flow lifetime"). A flow
// ends when no packet has been seen for its timeout; the values are seconds of packet
// time and each one can be changed with `--timeout NAME=SECONDS` or the config file.

#include <string>
#include <string_view>
#include <vector>

namespace netscope::flow {

struct FlowTimeouts {
  // SYN_SENT / SYN_RECV never completed. Linux re-sends an unanswered SYN after 1, 2,
  // 4, 8, 16 and 32 s (tcp_syn_retries = 6, RFC 6298 backoff): the timeout must outlast
  // the longest gap, or the last retransmissions start a conversation of their own.
  double tcp_handshake = 65;
  double tcp_active = 600;  // ESTABLISHED with a packet in the last `idle_after` seconds
  double tcp_idle = 300;    // ESTABLISHED and idle: this is when it ages out
  double http = 600;        // HTTP and TLS (HTTPS) connections
  double ssh = 1800;
  double tcp_time_wait = 30;
  double tcp_closed = 5;  // linger after RST (or FIN/FIN seen), to catch late packets
  double dns = 30;
  double udp = 60;
  double quic_active = 600;
  double quic_idle = 300;
  double quic_draining = 10;
  double other = 30;       // ICMP and other protocols
  double arp = 30;         // ARP request/reply conversations (flow/arp.hpp)
  double idle_after = 60;  // no packet for this long makes a connection idle
};

struct TimeoutName {
  std::string_view name;
  double FlowTimeouts::*field;
  std::string_view meaning;
};

// Every settable timeout, in the order --help and the README list them.
const std::vector<TimeoutName>& timeout_names();

// Applies one "NAME=SECONDS" setting. False with a message naming the problem (unknown
// name, with the list of names; a value that is not a number in [0.1, 31536000]).
bool apply_timeout(FlowTimeouts& t, std::string_view setting, std::string* error);

}  // namespace netscope::flow
