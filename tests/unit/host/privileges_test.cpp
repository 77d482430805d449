// Capabilities: the warnings for missing ones, and dropping the rest in a forked child
// (capabilities are per thread and cannot be regained, so the test process keeps its own).

#include "host/privileges.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace netscope::host {
namespace {

TEST(PrivilegeWarnings, nothing_to_say_with_every_capability) {
  const Capabilities all{true, true, true, true, true, true};
  EXPECT_EQ(privilege_warnings(all, "/usr/bin/netscope"), "");
  // Either of the two /proc capabilities is enough.
  Capabilities dac_only = all;
  dac_only.sys_ptrace = false;
  EXPECT_EQ(privilege_warnings(dac_only, "/usr/bin/netscope"), "");
}

TEST(PrivilegeWarnings, each_missing_capability_is_named_with_its_cost_and_the_setcap_line) {
  const std::string text = privilege_warnings(Capabilities{}, "/usr/bin/netscope");
  for (const char* needle :
       {"CAP_NET_RAW", "CAP_NET_ADMIN", "to capture", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH",
        "other users' sockets", "CAP_SYS_ADMIN", "other network namespaces",
        "sudo setcap "
        "cap_net_raw,cap_net_admin,cap_sys_ptrace,cap_dac_read_search,cap_sys_admin+eip "
        "/usr/bin/netscope\n"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << " missing from:\n" << text;
  }
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);  // 4 warnings + the setcap line

  Capabilities no_admin{true, true, true, true, false};
  const std::string one = privilege_warnings(no_admin, "nets");
  EXPECT_EQ(one.find("CAP_NET_RAW"), std::string::npos);
  EXPECT_NE(one.find("missing CAP_SYS_ADMIN"), std::string::npos);
  EXPECT_NE(one.find("+eip nets"), std::string::npos);
}

TEST(PrivilegeWarnings, default_exe_is_this_program) {
  const std::string text = privilege_warnings(Capabilities{});
  EXPECT_NE(text.find(std::filesystem::read_symlink("/proc/self/exe").string()), std::string::npos);
}

std::uint64_t effective_mask() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return 0;
  return std::uint64_t{data[0].effective} | (std::uint64_t{data[1].effective} << 32);
}

bool has(std::uint64_t mask, int cap) {
  return (mask & (std::uint64_t{1} << cap)) != 0;
}

TEST(DropCapabilities, forked_child_keeps_only_what_it_asked_for) {
  const std::uint64_t before = effective_mask();
  if (!has(before, CAP_CHOWN) || !has(before, CAP_NET_RAW) || !has(before, CAP_SETPCAP)) {
    GTEST_SKIP() << "needs CAP_CHOWN, CAP_NET_RAW and CAP_SETPCAP to drop";
  }
  EXPECT_TRUE(effective_capabilities().net_raw);
  char path[] = "/tmp/netscope-caps-XXXXXX";
  const int file = ::mkstemp(path);
  ASSERT_GE(file, 0);
  // Each check is one bit of the child's exit status, so a failure names itself.
  enum : int {
    kDropFailed = 1,
    kChownStillEffective = 2,
    kChownStillBounded = 4,
    kFchownWorked = 8,
    kKeptCapabilityLost = 16,
    kRawSocketRefused = 32,
    kWarningMissing = 64,
  };
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failures = 0;
    std::string error;
    if (!drop_capabilities_except({CAP_NET_RAW, CAP_SYS_PTRACE}, &error)) failures |= kDropFailed;
    const std::uint64_t after = effective_mask();
    if (has(after, CAP_CHOWN)) failures |= kChownStillEffective;
    if (::prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 0) failures |= kChownStillBounded;
    if (::fchown(file, 4242, 4242) == 0 || errno != EPERM) failures |= kFchownWorked;
    if (!has(after, CAP_NET_RAW) || !has(after, CAP_SYS_PTRACE)) failures |= kKeptCapabilityLost;
    const int raw = ::socket(AF_PACKET, SOCK_RAW, 0);
    if (raw < 0) failures |= kRawSocketRefused;
    const Capabilities caps = effective_capabilities();
    const std::string warnings = privilege_warnings(caps, "x");
    if (!caps.net_raw || caps.net_admin || warnings.find("CAP_NET_ADMIN") == std::string::npos ||
        warnings.find("CAP_SYS_PTRACE") != std::string::npos) {
      failures |= kWarningMissing;
    }
    ::_exit(failures);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(file);
  ::unlink(path);
  ASSERT_TRUE(WIFEXITED(status));
  const int failures = WEXITSTATUS(status);
  EXPECT_EQ(failures & kDropFailed, 0);
  EXPECT_EQ(failures & kChownStillEffective, 0);
  EXPECT_EQ(failures & kChownStillBounded, 0);
  EXPECT_EQ(failures & kFchownWorked, 0);
  EXPECT_EQ(failures & kKeptCapabilityLost, 0);
  EXPECT_EQ(failures & kRawSocketRefused, 0);
  EXPECT_EQ(failures & kWarningMissing, 0);
  // The parent is untouched.
  EXPECT_EQ(effective_mask(), before);
}

TEST(DropCapabilities, rejects_a_number_that_is_no_capability) {
  std::string error;
  EXPECT_FALSE(drop_capabilities_except({999}, &error));
  EXPECT_NE(error.find("999"), std::string::npos);
}

}  // namespace
}  // namespace netscope::host
