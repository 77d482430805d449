#include "host/process_info.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <utility>

namespace netscope::host {

namespace {

template <typename T>
std::optional<T> to_number(std::string_view s) {
  T value{};
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Next space-separated token of `s` from `pos`; advances `pos`.
std::string_view next_token(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  const std::size_t start = pos;
  while (pos < s.size() && s[pos] != ' ' && s[pos] != '\n') ++pos;
  return s.substr(start, pos - start);
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// The first run of exactly 64 lowercase hex digits in `path`, or empty.
std::string_view find_container_id(std::string_view path) {
  constexpr std::size_t kIdLength = 64;
  std::size_t i = 0;
  while (i < path.size()) {
    if (!is_lower_hex(path[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < path.size() && is_lower_hex(path[i])) ++i;
    if (i - start == kIdLength) return path.substr(start, kIdLength);
  }
  return {};
}

// Reads at most `limit` bytes of a /proc file, relative to `dir_fd` (or AT_FDCWD);
// nullopt if it cannot be opened.
std::optional<std::string> read_bounded(const std::string& path, std::size_t limit,
                                        int dir_fd = AT_FDCWD) {
  const int fd = openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  std::array<char, 4096> buf{};
  while (out.size() < limit) {
    const std::size_t want = std::min(buf.size(), limit - out.size());
    const ssize_t n = read(fd, buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

std::string read_link(const std::string& path) {
  std::array<char, 4096> buf{};
  const ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
  if (n <= 0 || static_cast<std::size_t>(n) >= buf.size()) return {};
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

}  // namespace

std::optional<StatFields> parse_stat(std::string_view stat) {
  const std::size_t open = stat.find('(');
  const std::size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  StatFields out;
  std::string_view pid_text = stat.substr(0, open);
  while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
  const auto pid = to_number<pid_t>(pid_text);
  if (!pid) return std::nullopt;
  out.pid = *pid;
  out.comm.assign(stat.substr(open + 1, close - open - 1));

  // Fields after the comm, numbered as in proc(5): 3 state, 4 ppid, ..., 22 starttime.
  const std::string_view rest = stat.substr(close + 1);
  std::size_t pos = 0;
  const std::string_view state = next_token(rest, pos);
  if (state.size() != 1) return std::nullopt;
  out.state = state[0];
  const auto ppid = to_number<pid_t>(next_token(rest, pos));
  if (!ppid) return std::nullopt;
  out.ppid = *ppid;
  for (int field = 5; field < 22; ++field) {
    if (next_token(rest, pos).empty()) return std::nullopt;
  }
  const auto start = to_number<std::uint64_t>(next_token(rest, pos));
  if (!start) return std::nullopt;
  out.start_time_ticks = *start;
  return out;
}

std::optional<uid_t> parse_status_uid(std::string_view status) {
  constexpr std::string_view kKey = "Uid:";
  std::size_t line_start = 0;
  while (line_start < status.size()) {
    std::size_t line_end = status.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = status.size();
    const std::string_view line = status.substr(line_start, line_end - line_start);
    if (line.starts_with(kKey)) {
      std::size_t i = kKey.size();
      while (i < line.size() && (line[i] == '\t' || line[i] == ' ')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] >= '0' && line[j] <= '9') ++j;
      if (j < line.size() && line[j] != '\t' && line[j] != ' ') return std::nullopt;
      return to_number<uid_t>(line.substr(i, j - i));
    }
    line_start = line_end + 1;
  }
  return std::nullopt;
}

namespace {

// The runtime that named a container's cgroup, from the path component holding the id
// ("docker-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>.scope",
// "libpod-<id>.scope") or, when the component is the bare id, from its parent ("/docker/
// <id>", "/libpod_parent/libpod-<id>" ...).
std::string_view runtime_of(std::string_view component, std::string_view parent) {
  constexpr std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"docker-", "docker"},        {"cri-containerd-", "containerd"}, {"crio-conmon-", "cri-o"},
      {"crio-", "cri-o"},           {"libpod-conmon-", "podman"},      {"libpod-", "podman"},
      {"containerd-", "containerd"}};
  for (const auto& [prefix, name] : kPrefixes) {
    if (component.starts_with(prefix)) return name;
  }
  if (parent == "docker") return "docker";
  if (parent == "containerd") return "containerd";
  if (parent == "crio") return "cri-o";
  if (parent == "libpod_parent" || parent.starts_with("libpod-")) return "podman";
  return {};
}

bool is_pod_uid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_lower_hex(s[i])) return false;
  }
  return true;
}

// "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid_with_underscores>.slice" (systemd).
std::string pod_uid_of(std::string_view component) {
  std::string_view raw;
  if (component.starts_with("pod")) {
    raw = component.substr(3);
  } else if (component.starts_with("kubepods") && component.ends_with(".slice")) {
    const std::size_t at = component.rfind("-pod");
    if (at == std::string_view::npos) return {};
    raw = component.substr(at + 4, component.size() - at - 4 - 6);
  } else {
    return {};
  }
  std::string uid(raw);
  std::replace(uid.begin(), uid.end(), '_', '-');
  return is_pod_uid(uid) ? uid : std::string();
}

// Calls `piece` with each run of `text` between separators (a trailing separator ends
// the last one) until it returns false; false then.
template <typename Piece>
bool split(std::string_view text, char separator, Piece&& piece) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(separator, at);
    if (end == std::string_view::npos) end = text.size();
    if (!piece(text.substr(at, end - at))) return false;
    at = end + 1;
  }
  return true;
}

// Walks one cgroup path: the container id and its runtime, the pod and the unit.
void read_path(std::string_view path, CgroupInfo& out, bool units) {
  std::string_view parent;
  std::string_view unit;
  bool unit_is_container = false;
  split(path, '/', [&](std::string_view component) {
    if (component.empty()) return true;
    const std::string_view id = find_container_id(component);
    if (!id.empty() && out.container.empty()) {
      out.container.assign(id.substr(0, 12));
      out.runtime.assign(runtime_of(component, parent));
    }
    if (out.pod_uid.empty()) out.pod_uid = pod_uid_of(component);
    if (units && (component.ends_with(".service") || component.ends_with(".scope"))) {
      unit = component;
      unit_is_container = !id.empty();
    }
    parent = component;
    return true;
  });
  if (units && out.unit.empty() && !unit_is_container) out.unit.assign(unit);
}

}  // namespace

std::optional<CgroupInfo> parse_cgroup_container(std::string_view cgroup) {
  CgroupInfo out;
  bool any_line = false;
  bool have_v2 = false;
  std::string_view systemd_path;  // v1's name=systemd hierarchy
  std::string_view v2_path;
  const bool well_formed = split(cgroup, '\n', [&](std::string_view line) {
    if (line.empty()) return true;
    const std::size_t c1 = line.find(':');
    const std::size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos || !to_number<unsigned>(line.substr(0, c1))) return false;
    const std::string_view path = line.substr(c2 + 1);
    // cgroup v2's unified line is "0::/path"; prefer it over any v1 controller line.
    const bool v2 = line.substr(0, c2 + 1) == "0::";
    if (!any_line || (v2 && !have_v2)) out.path.assign(path);
    any_line = true;
    have_v2 = have_v2 || v2;
    if (v2) v2_path = path;
    if (line.substr(c1 + 1, c2 - c1 - 1) == "name=systemd") systemd_path = path;
    read_path(path, out, /*units=*/false);
    return true;
  });
  if (!well_formed || !any_line) return std::nullopt;
  // systemd's own hierarchy says which unit; other v1 controllers may lag behind it.
  const std::string_view units = have_v2 ? v2_path : systemd_path;
  if (!units.empty()) read_path(units, out, /*units=*/true);
  return out;
}

std::vector<std::string> parse_cmdline(std::string_view cmdline) {
  std::vector<std::string> args;
  split(cmdline, '\0', [&](std::string_view arg) {
    args.emplace_back(arg);
    return true;
  });
  return args;
}

std::optional<std::uint64_t> read_start_time_at(int dir_fd) {
  // 4096 is far more than a stat line needs: comm is at most 64 bytes, the rest numbers.
  const auto text = read_bounded("stat", 4096, dir_fd);
  if (!text) return std::nullopt;
  const auto stat = parse_stat(*text);
  if (!stat) return std::nullopt;
  return stat->start_time_ticks;
}

std::optional<std::uint64_t> read_start_time(pid_t pid, std::string_view proc_root) {
  const std::string dir = std::string(proc_root) + "/" + std::to_string(pid);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto start = read_start_time_at(fd);
  close(fd);
  return start;
}

std::string read_exe(pid_t pid, std::string_view proc_root) {
  return read_link(std::string(proc_root) + "/" + std::to_string(pid) + "/exe");
}

std::string user_name(uid_t uid) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::size_t size = hint > 0 ? static_cast<std::size_t>(hint) : 1024;
  // Entries can exceed the hint (NSS, long gecos); grow a few times, then give up.
  for (int attempt = 0; attempt < 5; ++attempt, size *= 4) {
    std::string buf(size, '\0');
    passwd pwd{};
    passwd* result = nullptr;
    const int rc = getpwuid_r(uid, &pwd, buf.data(), buf.size(), &result);
    if (rc == ERANGE) continue;
    if (rc != 0 || result == nullptr || result->pw_name == nullptr) return {};
    return std::string(result->pw_name);
  }
  return {};
}

std::optional<ProcessInfo> read_process_info(pid_t pid, std::string_view proc_root) {
  const std::string dir = std::string(proc_root) + "/" + std::to_string(pid) + "/";
  const auto stat_text = read_bounded(dir + "stat", 4096);
  if (!stat_text) return std::nullopt;
  const auto stat = parse_stat(*stat_text);
  if (!stat) return std::nullopt;

  ProcessInfo info;
  info.pid = pid;
  info.comm = stat->comm;
  info.ppid = stat->ppid;
  info.state = stat->state;
  info.start_time_ticks = stat->start_time_ticks;

  if (const auto cmdline = read_bounded(dir + "cmdline", kMaxCmdlineBytes)) {
    info.args = parse_cmdline(*cmdline);
    for (std::size_t i = 0; i < info.args.size(); ++i) {
      if (i != 0) info.cmdline += ' ';
      info.cmdline += info.args[i];
    }
  }
  info.exe = read_link(dir + "exe");
  if (const auto status = read_bounded(dir + "status", 16384)) {
    info.uid = parse_status_uid(*status);
    if (info.uid) info.user = user_name(*info.uid);
  }
  if (const auto cgroup = read_bounded(dir + "cgroup", 65536)) {
    if (auto parsed = parse_cgroup_container(*cgroup)) {
      info.cgroup = std::move(parsed->path);
      info.container = std::move(parsed->container);
      info.container_runtime = std::move(parsed->runtime);
      info.pod_uid = std::move(parsed->pod_uid);
      info.unit = std::move(parsed->unit);
    }
  }
  return info;
}

}  // namespace netscope::host
