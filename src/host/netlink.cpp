#include "host/netlink.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <utility>

namespace netscope::host::netlink {

static_assert(detail::kHeader == sizeof(nlmsghdr) && sizeof(detail::Header) == sizeof(nlmsghdr));
static_assert(detail::kNoop == NLMSG_NOOP && detail::kError == NLMSG_ERROR &&
              detail::kDone == NLMSG_DONE && detail::kOverrun == NLMSG_OVERRUN &&
              detail::kMinType == NLMSG_MIN_TYPE);

namespace {

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

std::string errno_text(const char* call, int err) {
  return std::string("netlink: ") + call + " failed: " + std::strerror(err);
}

}  // namespace

int error_code(std::span<const std::uint8_t> payload) {
  if (payload.size() < sizeof(int)) return 0;
  int code = 0;
  std::memcpy(&code, payload.data(), sizeof(code));
  return code;
}

int errno_of(int code) {
  if (code == std::numeric_limits<int>::min()) return EINVAL;
  return code < 0 ? -code : code;
}

Socket::Socket(int fd) : fd_(fd) {}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)), seq_(other.seq_) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    seq_ = other.seq_;
  }
  return *this;
}

bool Socket::open(int protocol, std::uint32_t groups, std::string* error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, protocol);
  if (fd_ < 0) return fail(error, errno_text("socket(AF_NETLINK)", errno));
  if (groups != 0) {
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = groups;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      return fail(error, errno_text("bind(AF_NETLINK groups)", err));
    }
  }
  return true;
}

bool Socket::set_receive_timeout(int timeout_ms, std::string* error) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    return fail(error, errno_text("setsockopt(SO_RCVTIMEO)", errno));
  }
  return true;
}

std::uint32_t Socket::next_seq() {
  if (++seq_ == 0) ++seq_;
  return seq_;
}

bool Socket::send(const void* request, std::size_t size, std::string* error) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd_, request, size, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return fail(error, errno_text("sendto", errno));
  return true;
}

long Socket::receive(std::vector<std::uint8_t>& buffer, std::string* error, bool nonblocking) {
  for (;;) {
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t got = ::recvmsg(fd_, &msg, nonblocking ? MSG_DONTWAIT : 0);
    if (got < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      fail(error, err == EAGAIN && !nonblocking
                      ? std::string("netlink: no reply from the kernel before the timeout")
                      : errno_text("recvmsg", err));
      errno = err;
      return -1;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0) {
      fail(error, "netlink: recvmsg truncated a datagram larger than the buffer");
      errno = EMSGSIZE;
      return -1;
    }
    return static_cast<long>(got);
  }
}

}  // namespace netscope::host::netlink
