// libFuzzer target for DNS: whole messages (lenient and strict), names with compression (loops,
// overlong names) and the TCP length framing. Seeds: the built-in messages below, and the matching
// payloads of ../shared/pcaps that make_seeds extracts (seeds/dpi_dns).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv, {netscope::fuzz::dns_message(true), netscope::fuzz::dns_message(false)});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_dns);
  return 0;
}
