#pragma once
// SockDiag: the kernel's own table of TCP and UDP sockets (IPv4 and IPv6) in this
// network namespace, read over netlink NETLINK_SOCK_DIAG (inet_diag). Process
// attribution matches flows on the full 5-tuple against these records and maps the
// socket inode to a process with ProcScanner. The byte parser is separate from the
// socket I/O so that it can be unit-tested on hand-built buffers and fuzzed.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.hpp"
#include "host/netlink.hpp"

struct inet_diag_req_v2;  // <linux/inet_diag.h>, kept out of this header

namespace netscope::host {

// Kernel TCP state numbers (include/net/tcp_states.h). inet_diag reports UDP sockets
// with them too: TCP_CLOSE when unconnected, TCP_ESTABLISHED after connect().
enum class TcpState : std::uint8_t {
  established = 1,
  syn_sent = 2,
  syn_recv = 3,
  fin_wait1 = 4,
  fin_wait2 = 5,
  time_wait = 6,
  close = 7,
  close_wait = 8,
  last_ack = 9,
  listen = 10,
  closing = 11,
  new_syn_recv = 12,
};

// "ESTABLISHED", "LISTEN", ... as the kernel names them; "UNKNOWN" otherwise.
std::string_view tcp_state_name(std::uint8_t state);

// The subset of struct tcp_info (INET_DIAG_INFO) the monitor uses. A field the running
// kernel's tcp_info is too short to carry stays 0.
struct TcpInfo {
  std::uint32_t rtt_us = 0;
  std::uint32_t rttvar_us = 0;
  std::uint32_t total_retrans = 0;
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
  std::uint32_t snd_cwnd = 0;  // segments
  std::uint32_t unacked = 0;   // segments in flight
  std::uint32_t lost = 0;      // segments the kernel marked lost

  bool operator==(const TcpInfo&) const = default;
};

struct SocketRecord {
  std::uint8_t protocol = 0;  // IPPROTO_TCP or IPPROTO_UDP
  std::uint8_t family = 0;    // AF_INET or AF_INET6
  core::Endpoint local;
  core::Endpoint remote;
  std::uint8_t state = 0;  // kernel TCP state number, see TcpState
  std::uint32_t inode = 0;
  std::uint32_t uid = 0;
  std::optional<TcpInfo> tcp_info;  // TCP only, when the kernel sent INET_DIAG_INFO

  std::string_view state_name() const { return tcp_state_name(state); }
  bool operator==(const SocketRecord&) const = default;
};

// In/out state of one dump across the recv() buffers it arrives in.
struct DumpStatus {
  // In: the protocol the request asked for. inet_diag_msg does not carry it; the
  // INET_DIAG_PROTOCOL attribute, when present, overrides it.
  std::uint8_t protocol = 6;  // IPPROTO_TCP
  // In: the request's nlmsg_seq, or 0 to accept any. Replies to another sequence number
  // (the tail of an abandoned earlier dump) are skipped.
  std::uint32_t seq = 0;
  bool done = false;  // out: NLMSG_DONE seen; bytes after it are ignored
  int error = 0;      // out: positive errno from NLMSG_ERROR or NLMSG_DONE
};

// Parses one recv() buffer of a SOCK_DIAG_BY_FAMILY dump and appends a record per
// socket. Every nlmsghdr and rtattr length is checked against the bytes that are left.
// Returns false on malformed bytes or a kernel error (status.error); records parsed
// before the damage stay in `out`.
bool parse_inet_diag_messages(std::span<const std::uint8_t> bytes, std::vector<SocketRecord>& out,
                              DumpStatus& status);
bool parse_inet_diag_messages(std::span<const std::uint8_t> bytes, std::vector<SocketRecord>& out);

// What a targeted lookup (SockDiag::find) returned.
enum class FindResult : std::uint8_t {
  found,   // `out` holds the socket the kernel picked (see SockDiag::find)
  absent,  // the kernel has no socket for that address pair (ENOENT)
  failed,  // netlink I/O failed or the reply was malformed; last_error() says why
};

// Owns one NETLINK_SOCK_DIAG socket. Construction throws std::runtime_error naming the
// failed call and errno text; dumps of the own network namespace need no capability.
class SockDiag {
 public:
  SockDiag();
  // Adopts an open NETLINK_SOCK_DIAG socket, typically one created inside another network
  // namespace (netns.hpp): it answers for the namespace it was created in.
  explicit SockDiag(netlink::Socket socket);
  SockDiag(const SockDiag&) = delete;
  SockDiag& operator=(const SockDiag&) = delete;

  // Appends all TCP and UDP sockets, IPv4 and IPv6 (TCP sockets that are only bound,
  // neither listening nor connected, left out). On failure returns false with
  // last_error() set (the monitor keeps running); records read so far stay in `out`.
  bool dump(std::vector<SocketRecord>& out);
  // The same for TCP only, both families in one walk of the kernel's tables where the
  // kernel allows it; and for UDP only.
  bool dump_tcp(std::vector<SocketRecord>& out);
  bool dump_udp(std::vector<SocketRecord>& out);
  // One family (AF_INET/AF_INET6) and protocol (IPPROTO_TCP/IPPROTO_UDP).
  bool dump(std::uint8_t family, std::uint8_t protocol, std::vector<SocketRecord>& out);

  // Targeted lookup of the one socket for `local` <-> `remote` (SOCK_DIAG_BY_FAMILY
  // without NLM_F_DUMP, cookie INET_DIAG_NOCOOKIE): a round trip of a few microseconds
  // instead of a dump. The kernel answers with the socket its receive path would pick,
  // so the record is not always an exact match and the caller must compare endpoints:
  //  - TCP: the established (or TIME_WAIT / request) socket, else the LISTEN socket of
  //    the local port (inet_lookup() falls back to the listener);
  //  - UDP: the best-scoring socket, which may be one bound to the local port with no
  //    peer, or to the wildcard address.
  FindResult find(std::uint8_t protocol, const core::Endpoint& local, const core::Endpoint& remote,
                  SocketRecord& out);

  const std::string& last_error() const { return last_error_; }

 private:
  bool fail(std::string message);
  // Sends `request` and parses the replies that carry its sequence number.
  bool exchange(const netlink::Request<inet_diag_req_v2>& request, std::vector<SocketRecord>& out,
                bool one_reply, int& error_number);
  bool receive_replies(DumpStatus& status, std::vector<SocketRecord>& out, bool one_reply);

  netlink::Socket socket_;
  bool compat_refused_ = false;  // the kernel refused TCPDIAG_GETSOCK: one dump per family
  std::vector<std::uint8_t> buffer_;
  std::string last_error_;
};

}  // namespace netscope::host
