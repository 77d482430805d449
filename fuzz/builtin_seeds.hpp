#pragma once
// Seeds for fuzz targets whose inputs no capture file contains (/proc text, netlink
// dumps): written at start-up into every corpus directory named on the command line that
// is missing or empty (the ctest smoke run creates them empty). A directory that already
// holds files is a corpus and is only read.

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace netscope::fuzz {

inline void write_builtin_seeds(int argc, char** argv, const std::vector<std::string>& seeds) {
  namespace fs = std::filesystem;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg.empty() || arg.front() == '-') continue;  // a libFuzzer flag
    const fs::path dir(arg);
    std::error_code ec;
    if (!fs::is_directory(dir.parent_path(), ec)) continue;
    if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) continue;
    fs::create_directory(dir, ec);
    if (!fs::is_directory(dir, ec)) continue;
    int n = 0;
    for (const std::string& seed : seeds) {
      std::ofstream(dir / ("seed-" + std::to_string(n++)), std::ios::binary)
          .write(seed.data(), static_cast<std::streamsize>(seed.size()));
    }
  }
}

}  // namespace netscope::fuzz
