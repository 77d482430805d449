#pragma once
// Netlink plumbing shared by the sock_diag (inet_diag) and rtnetlink (address) code: a
// bounds-checked walker over the messages of one recv() buffer and over the rtattrs of
// one message, and a small owned socket with send / receive / timeouts. The walkers take
// untrusted bytes (they are fuzzed through the parsers built on them) and never read past
// the span they are given.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace netscope::host::netlink {

// Netlink messages and rtattrs are 4-byte aligned (NLMSG_ALIGN, RTA_ALIGN).
constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

// NLMSG_ERROR and NLMSG_DONE carry an int: 0 for an ACK or a clean end, -errno otherwise.
// Returns that int (0 when the payload is too short to hold one).
int error_code(std::span<const std::uint8_t> payload);
// A positive errno for a nonzero code; INT_MIN (not negatable) becomes EINVAL.
int errno_of(int code);

// In/out state of one request's replies across the recv() buffers they arrive in.
struct ReplyStatus {
  std::uint32_t seq = 0;  // in: accept only this nlmsg_seq; 0 accepts any (events are 0)
  bool done = false;      // out: NLMSG_DONE or an error seen; bytes after it are ignored
  int error = 0;          // out: positive errno from NLMSG_ERROR or NLMSG_DONE
};

// Walks the messages of one buffer. NLMSG_DONE, NLMSG_ERROR and NLMSG_NOOP are handled
// here (an NLMSG_ERROR of 0 is an ACK); every other message is handed to
// `on_message(type, payload)`, which returns false when the payload is malformed. Returns
// false on a header that overruns the buffer, a malformed payload, or a kernel error
// (status.error). Messages for another sequence number are skipped.
template <typename OnMessage>
bool walk_messages(std::span<const std::uint8_t> bytes, ReplyStatus& status,
                   OnMessage&& on_message);

// Walks rtattrs; `on_attribute(type, payload)` sees each one. False when one overruns.
template <typename OnAttribute>
bool walk_attributes(std::span<const std::uint8_t> attrs, OnAttribute&& on_attribute);

namespace detail {
struct Header {
  std::uint32_t len;
  std::uint16_t type;
  std::uint16_t flags;
  std::uint32_t seq;
  std::uint32_t pid;
};
}  // namespace detail

// A request: the netlink header and the fixed-size body of its message type (such as
// inet_diag_req_v2 or ifaddrmsg), zeroed, addressed to the kernel.
template <typename Body>
struct Request {
  detail::Header header;
  Body body;
};
template <typename Body>
Request<Body> make_request(std::uint16_t type, std::uint16_t flags, std::uint32_t seq) {
  Request<Body> r{};
  r.header.len = sizeof(r);
  r.header.type = type;
  r.header.flags = flags;
  r.header.seq = seq;
  return r;
}

// One AF_NETLINK socket. A netlink socket stays bound to the network namespace it was
// created in, whichever thread uses it later (see netns.hpp).
class Socket {
 public:
  Socket() = default;
  // Adopts an open AF_NETLINK socket (e.g. one created inside another namespace).
  explicit Socket(int fd);
  ~Socket();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // socket(AF_NETLINK, SOCK_DGRAM, protocol) bound to the multicast `groups`. False with
  // `error` set (naming the call and errno) on failure.
  bool open(int protocol, std::uint32_t groups, std::string* error);
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // A reply that has not come after `timeout_ms` fails the receive instead of hanging
  // the calling thread (SO_RCVTIMEO).
  bool set_receive_timeout(int timeout_ms, std::string* error);
  // The next sequence number, never 0 (0 means "any" in ReplyStatus).
  std::uint32_t next_seq();
  // Sends one request to the kernel. False with `error` set.
  bool send(const void* request, std::size_t size, std::string* error);
  // Receives one datagram into `buffer`; returns its size, or -1 with `error` set (a
  // truncated datagram is an error: the rest of that datagram is lost). With
  // `nonblocking`, -1 and errno EAGAIN means nothing is queued.
  long receive(std::vector<std::uint8_t>& buffer, std::string* error, bool nonblocking = false);

 private:
  int fd_ = -1;
  std::uint32_t seq_ = 0;
};

// ---- template definitions -------------------------------------------------------------

namespace detail {
inline constexpr std::size_t kHeader = 16;       // sizeof(struct nlmsghdr)
inline constexpr std::uint16_t kNoop = 1;        // NLMSG_NOOP
inline constexpr std::uint16_t kError = 2;       // NLMSG_ERROR
inline constexpr std::uint16_t kDone = 3;        // NLMSG_DONE
inline constexpr std::uint16_t kOverrun = 4;     // NLMSG_OVERRUN
inline constexpr std::uint16_t kMinType = 0x10;  // NLMSG_MIN_TYPE
inline constexpr std::size_t kAttrHeader = 4;    // sizeof(struct rtattr)
}  // namespace detail

template <typename OnMessage>
bool walk_messages(std::span<const std::uint8_t> bytes, ReplyStatus& status,
                   OnMessage&& on_message) {
  while (!bytes.empty() && !status.done) {
    if (bytes.size() < detail::kHeader) return false;
    detail::Header hdr;
    std::memcpy(&hdr, bytes.data(), detail::kHeader);
    if (hdr.len < detail::kHeader || hdr.len > bytes.size()) return false;
    const auto payload = bytes.subspan(detail::kHeader, hdr.len - detail::kHeader);
    bytes = bytes.subspan(std::min<std::size_t>(align4(hdr.len), bytes.size()));
    if (status.seq != 0 && hdr.seq != status.seq) continue;

    switch (hdr.type) {
      case detail::kNoop:
        break;
      case detail::kDone:
        status.done = true;
        if (const int code = error_code(payload); code < 0) {
          status.error = errno_of(code);
          return false;
        }
        break;
      case detail::kError: {
        if (payload.size() < sizeof(int)) return false;
        const int code = error_code(payload);
        if (code == 0) break;  // an ACK
        status.error = errno_of(code);
        status.done = true;
        return false;
      }
      case detail::kOverrun:
        return false;
      default:
        if (hdr.type < detail::kMinType) return false;  // reserved control types
        if (!on_message(hdr.type, payload)) return false;
    }
  }
  return true;
}

template <typename OnAttribute>
bool walk_attributes(std::span<const std::uint8_t> attrs, OnAttribute&& on_attribute) {
  while (!attrs.empty()) {
    if (attrs.size() < detail::kAttrHeader) return false;
    std::uint16_t len = 0;
    std::uint16_t type = 0;
    std::memcpy(&len, attrs.data(), 2);
    std::memcpy(&type, attrs.data() + 2, 2);
    if (len < detail::kAttrHeader || len > attrs.size()) return false;
    on_attribute(type, attrs.subspan(detail::kAttrHeader, len - detail::kAttrHeader));
    attrs = attrs.subspan(std::min(align4(len), attrs.size()));
  }
  return true;
}

}  // namespace netscope::host::netlink
