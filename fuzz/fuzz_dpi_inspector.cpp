// libFuzzer target for the Inspector: packet sequences of one flow through the
// dispatcher, TCP reassembly, the caps and every session (dpi_fuzz.hpp, fuzz_inspector).
// Seeds: the built-in flows below, and the first packets of flows of ../shared/pcaps that
// make_seeds writes as records (seeds/dpi_inspector).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  using netscope::fuzz::record;
  const std::string hello = netscope::fuzz::client_hello_record();
  const std::string query = netscope::fuzz::dns_message(false);
  const std::string answer = netscope::fuzz::dns_message(true);
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv,
      {
          // TCP to port 443: SYN, then the ClientHello in two segments.
          "\x01"s + record(2, "") + record(0, hello.substr(0, 40)) + record(0, hello.substr(40)),
          // UDP to port 53: a query, then its answer.
          "\x06"s + record(0, query) + record(1, answer),
          // TCP to port 22: both banners and a KEXINIT header.
          "\x05"s + record(3, "") + record(1, "SSH-2.0-srv\r\n") + record(0, "SSH-2.0-cli\r\n") +
              record(0, "\x00\x00\x00\x0c\x0a\x14"s + std::string(10, '\0')),
      });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_inspector);
  return 0;
}
