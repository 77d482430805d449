// libFuzzer target for SSH: the identification banner and the binary packet header after it.
// Seeds: the built-in messages below, and the matching payloads of ../shared/pcaps that
// make_seeds extracts (seeds/dpi_ssh).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv, {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x00\x00\x0c\x0a\x14"s});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_ssh);
  return 0;
}
