// libFuzzer target for QUIC: the long header, Initial key derivation and packet opening, and the
// Initial frame walk (CRYPTO chunks must lie inside the input). Seeds: the built-in messages below,
// and the matching payloads of ../shared/pcaps that make_seeds extracts (seeds/dpi_quic).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  // A QUIC v1 Initial header (not protected) with a CRYPTO and a PING frame.
  const std::string kQuicInitial = "\xc3\x00\x00\x00\x01\x08\x83\x94\xc8\xf0\x3e\x51\x57\x08"s +
                                   "\x00\x00\x40\x20"s + "\x00\x00\x00\x02"s +
                                   "\x06\x00\x04"
                                   "abcd"
                                   "\x01"s +
                                   std::string(20, '\0');
  netscope::fuzz::write_builtin_seeds(*argc, *argv, {kQuicInitial});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_quic);
  return 0;
}
