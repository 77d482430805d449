#pragma once
// A fake /proc tree for the host tests: process directories with a stat line and fd
// links made by hand, removed with the object.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace netscope::host::test_support {

struct FakeProc {
  std::filesystem::path root;
  FakeProc() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "netscope-fakeproc-XXXXXX").string();
    root = ::mkdtemp(pattern.data());
  }
  ~FakeProc() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  // A process directory with a stat line whose starttime (field 22) is `start`.
  void add_process(int pid, std::uint64_t start) {
    const std::filesystem::path dir = root / std::to_string(pid);
    std::filesystem::create_directories(dir / "fd");
    std::ofstream(dir / "stat") << pid << " (fake) S 1 " << pid << " " << pid
                                << " 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 " << start
                                << " 1000 100 0\n";
  }
  void add_socket(int pid, int fd, std::uint64_t inode) {
    std::filesystem::create_symlink("socket:[" + std::to_string(inode) + "]",
                                    root / std::to_string(pid) / "fd" / std::to_string(fd));
  }
  void remove_fd(int pid, int fd) {
    std::filesystem::remove(root / std::to_string(pid) / "fd" / std::to_string(fd));
  }
  void remove_process(int pid) { std::filesystem::remove_all(root / std::to_string(pid)); }
  std::string path() const { return root.string(); }
};

}  // namespace netscope::host::test_support
