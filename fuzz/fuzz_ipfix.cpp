// libFuzzer target for the IPFIX side: the --ipfix HOST:PORT parser (split_host_port)
// and the encoder on arbitrary records. The input's first byte picks the part; for the
// encoder, the rest is cut into record fields (strings of any length and bytes, any
// counters and times), and every message must be a well-formed RFC 7011 message no
// larger than the limit: header length equal to the size, sets that tile the message,
// sequence numbers that count the data records before them. The input's own seeds are
// its shape, so no seed directory is needed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "output/ipfix.hpp"
#include "output/ipfix_exporter.hpp"

namespace {

namespace ipfix = netscope::output::ipfix;

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint64_t u(std::size_t bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes && n > 0; ++i, ++p, --n) v = (v << 8) | *p;
    return v;
  }
  std::string s() {
    const std::size_t len = std::min<std::size_t>(u(2) % 600, n);
    std::string out(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return out;
  }
};

std::uint64_t be(const std::vector<std::uint8_t>& m, std::size_t at, std::size_t len) {
  if (at + len > m.size()) std::abort();
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < len; ++i) v = (v << 8) | m[at + i];
  return v;
}

void check_messages(const std::vector<std::vector<std::uint8_t>>& msgs, std::size_t limit,
                    std::uint32_t first_seq) {
  std::uint32_t seq = first_seq;
  for (const auto& m : msgs) {
    if (m.size() > limit || m.size() < 16) std::abort();
    if (be(m, 0, 2) != 10 || be(m, 2, 2) != m.size()) std::abort();
    if (be(m, 8, 4) != seq) std::abort();
    std::size_t at = 16;
    std::uint32_t records = 0;
    while (at < m.size()) {
      const std::uint64_t id = be(m, at, 2);
      const std::uint64_t len = be(m, at + 2, 2);
      if (len < 4 || at + len > m.size()) std::abort();
      if (id == ipfix::kTemplateIpv4 || id == ipfix::kTemplateIpv6) {
        // Count records by walking them: fixed part, then four one-byte-length strings
        // around the pid (template order).
        std::size_t p = at + 4;
        const std::size_t addr = id == ipfix::kTemplateIpv6 ? 32 : 8;
        while (p < at + len) {
          p += addr + 4 + 1 + 8 + 8 + 8 + 8 + 2 + 1 + 1;
          p += 1 + be(m, p, 1);
          p += 4;
          p += 1 + be(m, p, 1);
          p += 1 + be(m, p, 1);
          p += 1 + be(m, p, 1);
          ++records;
        }
        if (p != at + len) std::abort();
      } else if (id != ipfix::kTemplateSetId) {
        std::abort();
      }
      at += len;
    }
    seq += records;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Reader r{data + 1, size - 1};
  if (data[0] % 2 == 0) {
    std::string host;
    std::uint16_t port = 0;
    std::string error;
    const std::string target(reinterpret_cast<const char*>(data + 1), size - 1);
    if (ipfix::split_host_port(target, host, port, error) && port == 0) std::abort();
    return 0;
  }
  const std::size_t limit = 512 + r.u(2) % 2000;
  ipfix::MessageEncoder enc(static_cast<std::uint32_t>(r.u(4)), limit);
  std::vector<ipfix::FlowRecord> recs;
  while (r.n > 0 && recs.size() < 200) {
    ipfix::FlowRecord f;
    std::uint8_t a[16];
    for (auto& b : a) b = static_cast<std::uint8_t>(r.u(1));
    if (r.u(1) & 1) {
      f.src = netscope::core::IpAddress::from_v6(std::span<const std::uint8_t, 16>(a));
    } else {
      f.src = netscope::core::IpAddress::from_v4(std::span<const std::uint8_t, 4>(a, 4));
    }
    f.dst = f.src;
    f.src_port = static_cast<std::uint16_t>(r.u(2));
    f.octets = r.u(8);
    f.packets = r.u(8);
    f.start_ms = static_cast<std::int64_t>(r.u(8) >> 1);
    f.end_ms = -static_cast<std::int64_t>(r.u(2));
    f.process = r.s();
    f.user = r.s();
    f.app = r.s();
    f.sni = r.s();
    recs.push_back(std::move(f));
  }
  const std::uint32_t before = enc.sequence();
  check_messages(enc.encode(recs, (data[0] & 2) != 0, 1), limit, before);
  return 0;
}
