#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "host/proc_scanner.hpp"
#include "host/process_info.hpp"

using namespace netscope::host;
namespace fs = std::filesystem;

namespace {

const std::string kId = "4f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

// A stat line with every field up to starttime (22) and a few after it.
std::string stat_line(const std::string& comm) {
  return "1234 (" + comm +
         ") S 77 1234 1234 0 -1 4194560 500 0 0 0 12 3 0 0 20 0 1 0 987654 10000000 300 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 2 0 0 0 0 0\n";
}

// A scratch directory that removes itself.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "netscope-proc-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::all, ec);
    fs::remove_all(path, ec);
  }
};

void add_fd(const fs::path& root, int pid, int fd, const std::string& target) {
  const fs::path dir = root / std::to_string(pid) / "fd";
  fs::create_directories(dir);
  fs::create_symlink(target, dir / std::to_string(fd));
}

}  // namespace

TEST(ParseStat, comm_with_spaces_and_parens_ends_at_the_last_paren) {
  const auto stat = parse_stat(stat_line("a) b"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 1234);
  EXPECT_EQ(stat->comm, "a) b");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 77);
  EXPECT_EQ(stat->start_time_ticks, 987654u);
}

TEST(ParseStat, plain_comm_and_empty_comm) {
  EXPECT_EQ(parse_stat(stat_line("nginx"))->comm, "nginx");
  EXPECT_EQ(parse_stat(stat_line(""))->comm, "");
}

TEST(ParseStat, truncated_or_malformed_lines_are_rejected) {
  const std::string full = stat_line("x");
  // Cut before starttime (field 22): every prefix that lacks it is rejected.
  const std::size_t start = full.find(" 987654");
  for (std::size_t len = 0; len <= start; ++len) {
    EXPECT_FALSE(parse_stat(full.substr(0, len))) << "len " << len;
  }
  EXPECT_FALSE(parse_stat("1234 x) S 1 2 3"));       // no '('
  EXPECT_FALSE(parse_stat(") 1234 (x S 1"));         // ')' before '('
  EXPECT_FALSE(parse_stat("abc" + full.substr(4)));  // pid not a number
  EXPECT_FALSE(parse_stat("1234 (x) SS 77 1 1 0"));  // state not one char
  EXPECT_FALSE(parse_stat("1234 (x) S -"));          // ppid not a number
  EXPECT_FALSE(parse_stat(""));
}

TEST(ParseStatusUid, reads_the_real_uid) {
  const std::string status =
      "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t42\nPPid:\t1\n"
      "Uid:\t1000\t0\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n";
  EXPECT_EQ(parse_status_uid(status), 1000u);
  EXPECT_EQ(parse_status_uid("Uid:\t0\t0\t0\t0"), 0u);  // last line, no newline
}

TEST(ParseStatusUid, missing_or_malformed_uid_line_gives_nullopt) {
  EXPECT_FALSE(parse_status_uid("Name:\tbash\nPid:\t42\nGid:\t1000\t1000\t1000\t1000\n"));
  EXPECT_FALSE(parse_status_uid(""));
  EXPECT_FALSE(parse_status_uid("Uid:\n"));
  EXPECT_FALSE(parse_status_uid("Uid:\tabc\t1\t1\t1\n"));
  EXPECT_FALSE(parse_status_uid("Uid:\t99999999999999999999\t1\n"));  // overflows uid_t
  EXPECT_FALSE(parse_status_uid("XUid:\t5\t5\t5\t5\n"));              // not at line start
}

TEST(ParseCgroup, docker_on_cgroup_v1) {
  const std::string cgroup = "12:pids:/docker/" + kId + "\n11:memory:/docker/" + kId +
                             "\n1:name=systemd:/docker/" + kId + "\n";
  const auto info = parse_cgroup_container(cgroup);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->container, "4f1b2c3d4e5f");
  EXPECT_EQ(info->path, "/docker/" + kId);
}

TEST(ParseCgroup, docker_and_containerd_scopes_on_cgroup_v2) {
  const auto docker = parse_cgroup_container("0::/system.slice/docker-" + kId + ".scope\n");
  ASSERT_TRUE(docker);
  EXPECT_EQ(docker->container, "4f1b2c3d4e5f");
  EXPECT_EQ(docker->runtime, "docker");
  EXPECT_EQ(docker->path, "/system.slice/docker-" + kId + ".scope");
  EXPECT_EQ(docker->pod_uid, "");
  EXPECT_EQ(docker->unit, "");  // the scope is the container's: `container` names it
  // Kubernetes with the systemd cgroup driver: the pod's slice carries its UID with
  // underscores for dashes.
  const auto containerd = parse_cgroup_container(
      "0::/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-pod8a1d3f0e_5b2c_4d6e_9f70_1a2b3c4d5e6f.slice/cri-containerd-" +
      kId + ".scope\n");
  ASSERT_TRUE(containerd);
  EXPECT_EQ(containerd->container, "4f1b2c3d4e5f");
  EXPECT_EQ(containerd->runtime, "containerd");
  EXPECT_EQ(containerd->pod_uid, "8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f");
  EXPECT_EQ(containerd->unit, "");
  const auto crio = parse_cgroup_container(
      "0::/kubepods.slice/kubepods-pod0c1d2e3f_4a5b_6c7d_8e9f_a0b1c2d3e4f5.slice/crio-" + kId +
      ".scope\n");
  ASSERT_TRUE(crio);
  EXPECT_EQ(crio->container, "4f1b2c3d4e5f");
  EXPECT_EQ(crio->runtime, "cri-o");
  EXPECT_EQ(crio->pod_uid, "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5");
  const auto podman = parse_cgroup_container("0::/machine.slice/libpod-" + kId + ".scope");
  ASSERT_TRUE(podman);
  EXPECT_EQ(podman->container, "4f1b2c3d4e5f");
  EXPECT_EQ(podman->runtime, "podman");
  // Rootless podman: the container's scope sits in the user's manager; its payload in a
  // "container" child cgroup.
  const auto rootless =
      parse_cgroup_container("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" +
                             kId + ".scope/container\n");
  ASSERT_TRUE(rootless);
  EXPECT_EQ(rootless->container, "4f1b2c3d4e5f");
  EXPECT_EQ(rootless->runtime, "podman");
  EXPECT_EQ(rootless->unit, "");
}

TEST(ParseCgroup, kubepods_v1_cgroupfs_gives_the_pod_uid_and_no_runtime) {
  const auto info = parse_cgroup_container(
      "4:cpu,cpuacct:/kubepods/burstable/pod8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f/" + kId + "\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->container, "4f1b2c3d4e5f");
  EXPECT_EQ(info->pod_uid, "8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f");
  EXPECT_EQ(info->runtime, "");  // kubelet's cgroupfs layout does not name it
  // Docker on cgroup v1 names its parent.
  const auto docker = parse_cgroup_container("12:pids:/docker/" + kId + "\n");
  ASSERT_TRUE(docker);
  EXPECT_EQ(docker->runtime, "docker");
  // Not a pod UID: wrong length, upper case, dashes misplaced.
  EXPECT_EQ(parse_cgroup_container("0::/kubepods/pod8a1d3f0e-5b2c-4d6e-9f70")->pod_uid, "");
  EXPECT_EQ(parse_cgroup_container("0::/kubepods/pod8A1D3F0E-5B2C-4D6E-9F70-1A2B3C4D5E6F")->pod_uid,
            "");
  EXPECT_EQ(parse_cgroup_container("0::/kubepods/pod8a1d3f0e5-b2c-4d6e-9f70-1a2b3c4d5e6f")->pod_uid,
            "");
}

TEST(ParseCgroup, systemd_units_of_services_sessions_and_user_apps) {
  EXPECT_EQ(parse_cgroup_container("0::/system.slice/nginx.service\n")->unit, "nginx.service");
  EXPECT_EQ(parse_cgroup_container("0::/system.slice/nginx.service\n")->container, "");
  EXPECT_EQ(parse_cgroup_container("0::/user.slice/user-1000.slice/session-2.scope\n")->unit,
            "session-2.scope");
  // The innermost unit: an app's scope inside the user's manager.
  EXPECT_EQ(parse_cgroup_container("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                   "app-gnome-firefox-4242.scope\n")
                ->unit,
            "app-gnome-firefox-4242.scope");
  // A service's sub-cgroup (Delegate=yes) still runs in that service.
  EXPECT_EQ(parse_cgroup_container("0::/system.slice/containerd.service/runc\n")->unit,
            "containerd.service");
  // Slices and the root are not units.
  EXPECT_EQ(parse_cgroup_container("0::/init.scope\n")->unit, "init.scope");
  EXPECT_EQ(parse_cgroup_container("0::/\n")->unit, "");
  EXPECT_EQ(parse_cgroup_container("0::/system.slice\n")->unit, "");
}

TEST(ParseCgroup, host_process_has_no_container_and_prefers_the_v2_path) {
  const auto info = parse_cgroup_container(
      "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->container, "");
  EXPECT_EQ(info->runtime, "");
  EXPECT_EQ(info->path, "/user.slice/user-1000.slice/user@1000.service/app.slice");
  EXPECT_EQ(info->unit, "user@1000.service");  // from the v2 line
  // cgroup v1 only: the unit is the name=systemd hierarchy's, not another controller's.
  const auto v1 = parse_cgroup_container(
      "11:memory:/user.slice\n"
      "1:name=systemd:/system.slice/sshd.service\n");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->path, "/user.slice");
  EXPECT_EQ(v1->unit, "sshd.service");
  // 63 or 65 hex digits are not a container id.
  EXPECT_EQ(parse_cgroup_container("0::/docker/" + kId.substr(1))->container, "");
  EXPECT_EQ(parse_cgroup_container("0::/docker/" + kId + "a")->container, "");
}

TEST(ParseCgroup, malformed_input_gives_nullopt) {
  EXPECT_FALSE(parse_cgroup_container(""));
  EXPECT_FALSE(parse_cgroup_container("\n\n"));
  EXPECT_FALSE(parse_cgroup_container("no colons here\n"));
  EXPECT_FALSE(parse_cgroup_container("x::/path\n"));
  EXPECT_FALSE(parse_cgroup_container("0::/ok\n3:only-one-colon\n"));
}

TEST(ParseCmdline, splits_on_nul) {
  using namespace std::string_literals;
  const auto args = parse_cmdline("python3\0-m\0http.server\0"s);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0], "python3");
  EXPECT_EQ(args[2], "http.server");
  EXPECT_TRUE(parse_cmdline("").empty());
}

TEST(ParseSocketLink, accepts_only_socket_links) {
  EXPECT_EQ(parse_socket_link("socket:[12345]"), 12345u);
  EXPECT_FALSE(parse_socket_link("pipe:[12345]"));
  EXPECT_FALSE(parse_socket_link("socket:[]"));
  EXPECT_FALSE(parse_socket_link("socket:[12a]"));
  EXPECT_FALSE(parse_socket_link("socket:[123"));
  EXPECT_FALSE(parse_socket_link("/dev/null"));
}

TEST(ProcScanner, fake_tree_shared_socket_goes_to_the_lowest_pid) {
  TempDir tmp;
  add_fd(tmp.path, 300, 3, "socket:[12345]");
  add_fd(tmp.path, 200, 5, "socket:[12345]");
  add_fd(tmp.path, 200, 6, "socket:[12345]");  // dup() in the same process
  add_fd(tmp.path, 200, 7, "/dev/null");
  add_fd(tmp.path, 200, 8, "pipe:[999]");
  add_fd(tmp.path, 300, 4, "socket:[777]");
  fs::create_directories(tmp.path / "400");  // exited: no fd directory any more
  fs::create_directories(tmp.path / "net");  // not a pid
  fs::create_symlink("300", tmp.path / "self");

  ProcScanner scanner(tmp.path.string());
  ASSERT_TRUE(scanner.scan());
  ASSERT_EQ(scanner.sockets().size(), 2u);
  const SocketHolders* shared = scanner.find(12345);
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->owner, 200);
  EXPECT_EQ(shared->others, std::vector<pid_t>{300});
  EXPECT_EQ(scanner.owner_of(777), 300);
  EXPECT_FALSE(scanner.owner_of(999));

  const ProcScanStats& stats = scanner.stats();
  EXPECT_EQ(stats.processes, 3u);
  EXPECT_EQ(stats.fds, 6u);
  EXPECT_EQ(stats.sockets, 2u);
  EXPECT_EQ(stats.vanished, 1u);
  EXPECT_GT(stats.duration.count(), 0);
}

TEST(ProcScanner, unreadable_fd_dir_is_counted_not_fatal) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every fd directory";
  TempDir tmp;
  add_fd(tmp.path, 10, 3, "socket:[1]");
  add_fd(tmp.path, 20, 3, "socket:[2]");
  fs::permissions(tmp.path / "20" / "fd", fs::perms::none);
  ProcScanner scanner(tmp.path.string());
  ASSERT_TRUE(scanner.scan());
  EXPECT_EQ(scanner.owner_of(1), 10);
  EXPECT_FALSE(scanner.owner_of(2));
  EXPECT_EQ(scanner.stats().permission_denied, 1u);
  fs::permissions(tmp.path / "20" / "fd", fs::perms::owner_all);
}

TEST(ProcScanner, missing_root_fails) {
  ProcScanner scanner("/nonexistent/netscope-proc");
  EXPECT_FALSE(scanner.scan());
  EXPECT_TRUE(scanner.sockets().empty());
}

TEST(ProcScanner, live_socket_of_this_process_maps_to_getpid) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  ProcScanner scanner;
  ASSERT_TRUE(scanner.scan());
  EXPECT_EQ(scanner.owner_of(st.st_ino), getpid());
  EXPECT_GT(scanner.stats().processes, 0u);
  close(fd);
}

TEST(ProcessInfo, live_self_matches_libc_and_ps) {
  const auto info = read_process_info(getpid());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, getpid());
  EXPECT_EQ(info->ppid, getppid());
  ASSERT_TRUE(info->uid);
  EXPECT_EQ(*info->uid, getuid());
  EXPECT_EQ(info->state, 'R');
  EXPECT_FALSE(info->args.empty());
  EXPECT_FALSE(info->exe.empty());
  EXPECT_EQ(info->user, user_name(getuid()));
  EXPECT_GT(info->start_time_ticks, 0u);

  // Oracle: procps reads the same comm.
  const std::string cmd = "ps -o comm= -p " + std::to_string(getpid());
  FILE* ps = popen(cmd.c_str(), "r");
  ASSERT_NE(ps, nullptr);
  std::array<char, 256> buf{};
  std::string out;
  while (fgets(buf.data(), static_cast<int>(buf.size()), ps) != nullptr) out += buf.data();
  const int rc = pclose(ps);
  if (rc != 0 && out.empty()) GTEST_SKIP() << "ps not available";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  EXPECT_EQ(info->comm, out);
}

TEST(ProcessInfo, vanished_pid_gives_nullopt) {
  EXPECT_FALSE(read_process_info(getpid(), "/nonexistent/netscope-proc"));
}
