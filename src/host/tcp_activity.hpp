#pragma once
// TcpActivity: whether anything happened to the TCP sockets of one network namespace
// since the last look, told by the namespace's own counters rather than by a dump.
//
// A sock_diag dump of TCP sockets walks every bucket of the kernel's established hash
// table, which all namespaces share: about 1.3 ms per namespace on a 24 GB machine
// (262,144 buckets), however few sockets there are, and most of an idle monitor's CPU.
// Its result cannot change unless one of these moves:
//  - /proc/<pid>/net/snmp, the "Tcp:" line: segments in and out (every state change
//    driven by the peer or by a timer sends or receives one: FIN, RST, retransmission,
//    keep-alive, and every change of tcp_info), opens, failed attempts, resets;
//  - /proc/<pid>/net/sockstat, "TCP: inuse N ... tw M": sockets hashed (listen() and
//    close() of a listener send nothing) and TIME_WAIT sockets (their expiry sends
//    nothing).
// Both are per namespace. One change is invisible to them: accept() gives a socket that
// waited in the accept queue its inode without a packet; the caller dumps again while
// the last dump held such a socket. The open files keep answering for the namespace they
// were opened in (procfs takes a reference to it at open()), whatever the pid does later.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netscope::host {

// The values of the "Tcp:" line of /proc/net/snmp (the second one: the first names the
// fields), appended to `out`. False when there is no such line or a value is not a
// decimal integer (MaxConn is -1).
bool parse_snmp_tcp(std::string_view text, std::vector<std::int64_t>& out);
// "inuse" and "tw" of the "TCP:" line of /proc/net/sockstat, appended to `out` in that
// order. False when the line or either key is missing or malformed. (Its "orphan",
// "alloc" and "mem" count every namespace.)
bool parse_sockstat_tcp(std::string_view text, std::vector<std::int64_t>& out);

class TcpActivity {
 public:
  // Opens <net_dir>/snmp and <net_dir>/sockstat, net_dir being /proc/<pid>/net of a
  // process in the namespace or /proc/thread-self/net; nullopt when either cannot be
  // opened or read.
  static std::optional<TcpActivity> open(const std::string& net_dir);
  TcpActivity(TcpActivity&& other) noexcept;
  TcpActivity& operator=(TcpActivity&& other) noexcept;
  TcpActivity(const TcpActivity&) = delete;
  TcpActivity& operator=(const TcpActivity&) = delete;
  ~TcpActivity();

  // Reads the counters: true when they differ from the previous read, or cannot be read
  // or parsed (when in doubt, dump). The first read after open() compares with the
  // counters open() read.
  bool changed();

 private:
  TcpActivity(int snmp_fd, int sockstat_fd);
  bool read(std::vector<std::int64_t>& out);
  bool read_file(int fd);

  int snmp_fd_ = -1;
  int sockstat_fd_ = -1;
  std::string text_;  // read buffer, reused
  std::vector<std::int64_t> last_;
  std::vector<std::int64_t> now_;
};

}  // namespace netscope::host
