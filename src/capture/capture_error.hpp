#pragma once
// CaptureError: why live capture could not start. Thrown only at set-up (opening handles,
// compiling the filter); once capture runs, failures are reported as events and stats.
// what() is a complete message for the user, ready to print to stderr as it is: it starts
// with "netscope: " and, where the user can fix something, says how (the setcap line, the
// list of interfaces). The CLI maps every kind to exit code 2 (a usage or environment
// error, ARCHITECTURE.md "Exit codes").

#include <stdexcept>
#include <string>
#include <utility>

namespace netscope::capture {

class CaptureError : public std::runtime_error {
 public:
  enum class Kind {
    permission,         // CAP_NET_RAW / CAP_NET_ADMIN missing
    no_such_interface,  // the message lists the interfaces that exist
    bad_filter,         // the BPF expression does not compile
    other,              // usage errors ("any" with other interfaces, bad sizes), libpcap failures
  };

  CaptureError(Kind kind, std::string message)
      : std::runtime_error(std::move(message)), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace netscope::capture
