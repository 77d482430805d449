#pragma once
// ProcessInfo describes one process for display and attribution: name, command line,
// executable, parent, owner and container. It is read from /proc/<pid>/{stat,status,
// cmdline,exe,cgroup}. The text parsers are pure functions over string_view, split from
// the file I/O so they can be fuzzed (fuzz/fuzz_proc_parse.cpp); on malformed input they
// return std::nullopt and never throw.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netscope::host {

// Longest command line kept (the kernel's own limit is far larger).
inline constexpr std::size_t kMaxCmdlineBytes = 4096;

// The /proc/<pid>/stat fields we use (proc(5)).
struct StatFields {
  pid_t pid = 0;
  std::string comm;  // without the parentheses
  char state = '?';  // R, S, D, Z, T, ...
  pid_t ppid = 0;
  std::uint64_t start_time_ticks = 0;  // field 22: clock ticks after boot
};

// proc(5): "pid (comm) state ppid ... starttime ...". comm is up to 15 bytes of anything,
// spaces and ')' included, so the comm ends at the LAST ')'.
std::optional<StatFields> parse_stat(std::string_view stat);

// The real uid from the "Uid:\treal\teffective\tsaved\tfs" line of /proc/<pid>/status.
std::optional<uid_t> parse_status_uid(std::string_view status);

struct CgroupInfo {
  std::string path;       // the cgroup v2 path ("0::/..."), else the first v1 line's path
  std::string container;  // first 12 hex digits of a container id, or empty
  // The runtime that named the container's cgroup: "docker", "containerd", "cri-o",
  // "podman"; empty when the path does not say (kubelet's cgroupfs layout names none).
  std::string runtime;
  // A Kubernetes pod's UID, dashed ("8a1d3f0e-5b2c-4d6e-9f70-1a2b3c4d5e6f"), from the
  // kubepods hierarchy: "pod<uid>" (cgroupfs driver) or "kubepods-<qos>-pod<uid with
  // underscores>.slice" (systemd driver). Empty outside a pod.
  std::string pod_uid;
  // The systemd unit the process runs in: the innermost ".service" or ".scope" of the
  // v2 path (or of the v1 name=systemd line), e.g. "nginx.service", "session-2.scope",
  // "user@1000.service". Empty when that is a container's own scope (`container` names
  // it) or there is none.
  std::string unit;
};

// /proc/<pid>/cgroup: lines of "hierarchy-id:controllers:path". A container runtime
// (docker, containerd, cri-o, podman, kubepods) names the cgroup after the 64-hex-digit
// container id, e.g. "/docker/<id>" or ".../cri-containerd-<id>.scope"; systemd names it
// after the unit.
std::optional<CgroupInfo> parse_cgroup_container(std::string_view cgroup);

// NUL-separated /proc/<pid>/cmdline -> arguments (the trailing NUL ends the last one).
std::vector<std::string> parse_cmdline(std::string_view cmdline);

struct ProcessInfo {
  pid_t pid = 0;
  std::string comm;
  std::vector<std::string> args;
  std::string cmdline;  // args joined with spaces, for display; empty for kernel threads
  std::string exe;      // empty when unreadable (another user's process, kernel thread)
  pid_t ppid = 0;
  char state = '?';
  std::uint64_t start_time_ticks = 0;
  std::optional<uid_t> uid;
  std::string user;  // from getpwuid_r; empty when the uid has no passwd entry
  std::string cgroup;
  std::string container;
  std::string container_runtime;  // CgroupInfo::runtime
  std::string pod_uid;            // CgroupInfo::pod_uid
  std::string unit;               // CgroupInfo::unit
};

// Reads a process from `proc_root`/<pid>. nullopt when the process is gone (its stat file
// cannot be read or parsed); every other field is best-effort.
std::optional<ProcessInfo> read_process_info(pid_t pid, std::string_view proc_root = "/proc");

// Start time (clock ticks after boot) of the process whose /proc directory is open as
// `dir_fd`, or of `pid`; nullopt when it is gone. With the pid, this is the identity
// check that tells a process from a later one that reused its pid.
std::optional<std::uint64_t> read_start_time_at(int dir_fd);
std::optional<std::uint64_t> read_start_time(pid_t pid, std::string_view proc_root = "/proc");

// The target of /proc/<pid>/exe, or empty when unreadable (gone, a kernel thread, or
// another user's process without CAP_SYS_PTRACE). A new target under the same pid and
// start time means the process exec()ed.
std::string read_exe(pid_t pid, std::string_view proc_root = "/proc");

// The login name of a uid, or empty.
std::string user_name(uid_t uid);

}  // namespace netscope::host
