#include "host/privileges.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "core/log.hpp"

namespace netscope::host {

namespace {

// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
struct CapSets {
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
};

bool cap_get(CapSets& out) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return false;
  const auto join = [&](std::uint32_t __user_cap_data_struct::*field) {
    return std::uint64_t{data[0].*field} | (std::uint64_t{data[1].*field} << 32);
  };
  out.effective = join(&__user_cap_data_struct::effective);
  out.permitted = join(&__user_cap_data_struct::permitted);
  out.inheritable = join(&__user_cap_data_struct::inheritable);
  return true;
}

bool cap_set(const CapSets& sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  for (int i = 0; i < 2; ++i) {
    const int shift = 32 * i;
    data[i].effective = static_cast<std::uint32_t>(sets.effective >> shift);
    data[i].permitted = static_cast<std::uint32_t>(sets.permitted >> shift);
    data[i].inheritable = static_cast<std::uint32_t>(sets.inheritable >> shift);
  }
  return ::syscall(SYS_capset, &header, data.data()) == 0;
}

constexpr std::uint64_t bit(int cap) {
  return std::uint64_t{1} << cap;
}

// The highest capability this kernel knows, which may be above our headers' CAP_LAST_CAP.
int last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (!(in >> last) || last < 0 || last > 63) last = CAP_LAST_CAP;
  return last;
}

std::string self_exe() {
  std::array<char, 4096> buf{};
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string("netscope");
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

}  // namespace

Capabilities effective_capabilities() {
  CapSets sets;
  Capabilities caps;
  if (!cap_get(sets)) return caps;
  caps.net_raw = (sets.effective & bit(CAP_NET_RAW)) != 0;
  caps.net_admin = (sets.effective & bit(CAP_NET_ADMIN)) != 0;
  caps.sys_ptrace = (sets.effective & bit(CAP_SYS_PTRACE)) != 0;
  caps.dac_read_search = (sets.effective & bit(CAP_DAC_READ_SEARCH)) != 0;
  caps.sys_admin = (sets.effective & bit(CAP_SYS_ADMIN)) != 0;
  caps.sys_nice = (sets.effective & bit(CAP_SYS_NICE)) != 0;
  return caps;
}

std::string privilege_warnings(const Capabilities& caps, std::string_view exe) {
  std::string out;
  if (!caps.net_raw) {
    out +=
        "missing CAP_NET_RAW: live capture cannot open its packet sockets (CAP_NET_RAW and "
        "CAP_NET_ADMIN are needed to capture)\n";
  }
  if (!caps.net_admin) {
    out +=
        "missing CAP_NET_ADMIN: live capture cannot set up its capture ring or promiscuous "
        "mode (CAP_NET_RAW and CAP_NET_ADMIN are needed to capture)\n";
  }
  if (!caps.sys_ptrace && !caps.dac_read_search) {
    out +=
        "missing CAP_SYS_PTRACE (or CAP_DAC_READ_SEARCH): other users' sockets cannot be "
        "mapped to their processes and show as unknown:no_permission\n";
  }
  if (!caps.sys_admin) {
    out +=
        "missing CAP_SYS_ADMIN: sockets in other network namespaces (containers, flatpak, "
        "ip netns) cannot be attributed\n";
  }
  if (out.empty()) return out;
  out +=
      "grant them with: sudo setcap "
      "cap_net_raw,cap_net_admin,cap_sys_ptrace,cap_dac_read_search,cap_sys_admin+eip " +
      (exe.empty() ? self_exe() : std::string(exe)) + "\n";
  return out;
}

bool drop_capabilities_except(std::initializer_list<int> keep, std::string* error) {
  const int last = last_capability();
  std::uint64_t keep_mask = 0;
  for (const int cap : keep) {
    if (cap < 0 || cap > last) {
      return fail(error, "drop capabilities: " + std::to_string(cap) + " is not a capability");
    }
    keep_mask |= bit(cap);
  }
  CapSets sets;
  if (!cap_get(sets)) return fail(error, std::string("capget failed: ") + std::strerror(errno));

  // The bounding set first: dropping from it needs CAP_SETPCAP, which capset may remove.
  if ((sets.effective & bit(CAP_SETPCAP)) != 0) {
    for (int cap = 0; cap <= last; ++cap) {
      if ((keep_mask & bit(cap)) != 0 || ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        return fail(error, "prctl(PR_CAPBSET_DROP, " + std::to_string(cap) +
                               ") failed: " + std::strerror(errno));
      }
    }
  }
  // Ambient capabilities survive execve(); EINVAL means a kernel without them (< 4.3).
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return fail(error,
                std::string("prctl(PR_CAP_AMBIENT_CLEAR_ALL) failed: ") + std::strerror(errno));
  }
  CapSets kept;
  kept.permitted = sets.permitted & keep_mask;
  kept.effective = kept.permitted;
  kept.inheritable = sets.inheritable & keep_mask;
  if (!cap_set(kept)) return fail(error, std::string("capset failed: ") + std::strerror(errno));
  return true;
}

std::uint64_t raise_open_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    const rlim_t was = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) lim.rlim_cur = was;
  }
  return lim.rlim_cur == RLIM_INFINITY ? ~std::uint64_t{0} : lim.rlim_cur;
}

void drop_thread_capabilities(std::string_view who, std::initializer_list<int> keep) {
  std::string error;
  if (!drop_capabilities_except(keep, &error)) {
    core::Log::info(std::string(who) + ": could not drop capabilities: " + error);
  }
}

}  // namespace netscope::host
