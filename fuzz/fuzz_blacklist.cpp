// libFuzzer target for the --blacklist parser and matcher. The input is a list file; each
// of its lines is then matched back as a domain and as a DNS answer, and a few addresses
// derived from the input's bytes are matched, so the CIDR masking and the domain suffix
// walk run on hostile text.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/blacklist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  netscope::enrich::BlacklistRules rules;
  std::vector<std::string> errors;
  rules.add(text, "fuzz.txt", errors);

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    (void)rules.match_domain(line);
    (void)rules.match_answer(line);
    pos = nl + 1;
  }
  for (std::size_t off = 0; off + 16 <= size && off < 256; off += 16) {
    const auto v6 =
        netscope::core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(data + off, 16));
    (void)rules.match_address(v6);
    const auto v4 =
        netscope::core::IpAddress::from_v4(std::span<const std::uint8_t, 4>(data + off, 4));
    (void)rules.match_address(v4);
  }
  return 0;
}
