// libFuzzer target for HTTP/1.x: the request (method, target, Host, User-Agent) and the status
// line. Seeds: the built-in messages below, and the matching payloads of ../shared/pcaps that
// make_seeds extracts (seeds/dpi_http).

#include <cstddef>
#include <cstdint>
#include <string>

#include "builtin_seeds.hpp"
#include "dpi_fuzz.hpp"

using namespace std::string_literals;

extern "C" int LLVMFuzzerInitialize(int* argc, char** argv[]) {
  netscope::fuzz::write_builtin_seeds(
      *argc, *argv,
      {"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  netscope::fuzz::on_exact_copy(data, size, netscope::fuzz::fuzz_http);
  return 0;
}
