// libFuzzer target for TLS: the record layer's first handshake message, ClientHello and ServerHello
// parsing, JA3/JA4 and the version and cipher names. Seeds: the built-in messages below, and the
// matching payloads of ../shared/pcaps that make_seeds extracts (seeds/dpi_tls).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  netscope::fuzz::write_builtin_seeds(*argc, *argv, {netscope::fuzz::client_hello_record()});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_tls);
  return 0;
}
