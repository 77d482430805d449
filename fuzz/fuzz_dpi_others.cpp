// libFuzzer target for the cheap recognisers: NTP, DHCP, SSDP, STUN.
// Seeds: the built-in messages below, and the matching payloads of ../shared/pcaps that
// make_seeds extracts (seeds/dpi_others).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  netscope::fuzz::write_builtin_seeds(*argc, *argv,
                                      {"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_others);
  return 0;
}
