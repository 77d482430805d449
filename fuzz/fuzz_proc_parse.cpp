// libFuzzer target for the /proc text parsers in host/process_info, host/proc_scanner
// and host/tcp_activity. The first byte picks the parser, the rest is the file's text.
// The input is copied into an exactly-sized heap buffer so ASan sees any read past its
// end.
//
// make_seeds derives seeds from captures, which hold no /proc text, so this target carries
// its own: LLVMFuzzerInitialize writes them into a seed directory named on the command
// line that does not exist yet (its parent must), as `make test` and fuzz/run.sh pass
// <build>/fuzz/seeds/proc_parse. libFuzzer refuses a missing corpus directory.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_seeds.hpp"
#include "host/proc_scanner.hpp"
#include "host/process_info.hpp"
#include "host/tcp_activity.hpp"

namespace {

// Selector byte + text, one per parser, in the shapes the kernel writes.
using namespace std::string_view_literals;

// Selector byte + text, one per parser, in the shapes the kernel writes.
constexpr std::string_view kSeeds[] = {
    "\0"
    "4242 (a) b) S 1 4242 4242 0 -1 4194560 500 0 0 0 12 3 0 0 20 0 1 0 987654 10000000 "
    "300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 2 0 0 0 0 0\n"sv,
    "\1Name:\tbash\nPid:\t42\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\n"sv,
    "\2"
    "12:pids:/docker/4f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
    "1:name=systemd:/kubepods/burstable/pod8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f/"
    "4f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n"sv,
    "\2"
    "0::/system.slice/cri-containerd-"
    "4f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9.scope\n"sv,
    "\2"
    "0::/kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod8a1d3f0e_5b2c_4d6e_9f70_1a2b3c4d5e6f.slice/crio-"
    "4f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9.scope\n"sv,
    "\2"
    "1:name=systemd:/system.slice/sshd.service\n"
    "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope\n"sv,
    "\3python3\0-m\0http.server\0"sv,
    "\4socket:[12345]"sv,
    "\5Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\nTcp: 1 200 120000 -1 483\n"sv,
    "\6sockets: used 17\nTCP: inuse 1 orphan 0 tw 1 alloc 5 mem 389\nUDP: inuse 0 mem 0\n"sv,
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv, std::vector<std::string>(std::begin(kSeeds), std::end(kSeeds)));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t len = size - 1;
  auto text = std::make_unique<char[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(text.get(), data + 1, len);
  const std::string_view input(text.get(), len);

  namespace host = netscope::host;
  std::vector<std::int64_t> counters;
  switch (data[0] % 7) {
    case 0:
      if (const auto stat = host::parse_stat(input)) {
        // The comm lies inside the input, between '(' and the last ')'.
        if (stat->comm.size() + 2 > input.size()) __builtin_trap();
      }
      break;
    case 1:
      (void)host::parse_status_uid(input);
      break;
    case 2:
      if (const auto cgroup = host::parse_cgroup_container(input)) {
        if (!cgroup->container.empty() && cgroup->container.size() != 12) __builtin_trap();
        if (cgroup->path.size() > input.size()) __builtin_trap();
        // A pod UID is 36 characters; a unit is one path component of the input.
        if (!cgroup->pod_uid.empty() && cgroup->pod_uid.size() != 36) __builtin_trap();
        if (cgroup->unit.size() > input.size() || cgroup->unit.find('/') != std::string::npos) {
          __builtin_trap();
        }
        if (!cgroup->runtime.empty() && cgroup->container.empty()) __builtin_trap();
      }
      break;
    case 3:
      (void)host::parse_cmdline(input);
      break;
    case 4:
      (void)host::parse_socket_link(input);
      break;
    case 5:
      (void)host::parse_snmp_tcp(input, counters);
      break;
    default:
      if (host::parse_sockstat_tcp(input, counters) && counters.size() != 2) __builtin_trap();
      break;
  }
  return 0;
}
