#pragma once
// run_analyze(): the whole `netscope analyze FILE` mode — read, analyse, report — returning
// the process exit code of ARCHITECTURE.md (0 ok, 2 usage/environment, 3 damaged input).

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

#include "flow/timeouts.hpp"

namespace netscope::analyze {

enum class ColorMode { automatic, always, never };

struct AnalyzeOptions {
  std::string file;
  std::optional<std::string> json_path;  // "-" for stdout
  std::size_t top_n = 10;
  std::string bpf;
  ColorMode color = ColorMode::automatic;
  std::size_t max_flows = 262'144;
  std::size_t threads = 0;      // flow shards; 0 = the number of CPUs, at most 4
  bool dpi = true;              // deep packet inspection (--no-dpi turns it off)
  flow::FlowTimeouts timeouts;  // --timeout NAME=SECONDS
  // GeoIP/ASN databases (--geoip, --asn-db); empty = the data directory's, when present.
  std::string geoip;
  std::string asn_db;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDamaged = 3;

int run_analyze(const AnalyzeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace netscope::analyze
