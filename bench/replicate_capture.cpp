// replicate_capture: makes a benchmark-sized capture out of small real ones. Each input
// file is copied N times; copy k has every IP address rewritten by a mapping that is
// one-to-one for that k (bytes 1 and 2 of an IPv4 address, 4 and 5 of an IPv6 address,
// XORed with k), so each copy's connections are new flows with the same payloads, and
// starts `--spacing-us` after copy k - 1. The copies are merged in timestamp order into
// one classic pcap (nanosecond timestamps, Ethernet): inputs with another link type
// (BSD loopback, raw IP, Linux cooked v1/v2) get an Ethernet header instead of theirs.
// Packets that are not IPv4/IPv6 are copied unchanged in copy 0 only. IPv4 header
// checksums are recomputed; TCP/UDP checksums are left as they were (as after offload).
//
//   replicate_capture --out FILE --copies N [--spacing-us U] INPUT...
//   replicate_capture --version      prints the tool version (part of run.sh's cache key)

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kVersion = 1;

struct Packet {
  std::int64_t ts_ns = 0;
  std::uint32_t wire = 0;           // original length, with our Ethernet header
  std::vector<std::uint8_t> frame;  // Ethernet frame as captured
  int ip_offset = -1;               // -1: not IP
};

struct Input {
  std::string path;
  std::vector<Packet> packets;
  std::int64_t start_ns = 0;
};

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// Where the IP header starts in a frame of this link type, or -1.
int ip_start(int linktype, const std::uint8_t* d, std::uint32_t caplen) {
  std::uint32_t off = 0;
  switch (linktype) {
    case DLT_EN10MB: {
      off = 12;
      while (off + 2 <= caplen && (be16(d + off) == 0x8100 || be16(d + off) == 0x88a8)) off += 4;
      if (off + 2 > caplen) return -1;
      const std::uint16_t type = be16(d + off);
      if (type != 0x0800 && type != 0x86dd) return -1;
      off += 2;
      break;
    }
    case DLT_NULL:
    case DLT_LOOP:
      off = 4;
      break;
    case DLT_RAW:  // LINKTYPE_RAW (101) and DLT_IPV4/DLT_IPV6 as libpcap reports them
    case DLT_IPV4:
    case DLT_IPV6:
      off = 0;
      break;
    case DLT_LINUX_SLL:
      off = 16;
      break;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
      off = 20;
      break;
#endif
    default:
      return -1;
  }
  if (off >= caplen) return -1;
  const int version = d[off] >> 4;
  return version == 4 || version == 6 ? static_cast<int>(off) : -1;
}

void read_input(Input& in) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(in.path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) throw std::runtime_error(in.path + ": " + errbuf);
  const int linktype = pcap_datalink(p);
  pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  bool first = true;
  while (pcap_next_ex(p, &h, &d) == 1) {
    Packet pkt;
    pkt.ts_ns = static_cast<std::int64_t>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
    if (first) in.start_ns = pkt.ts_ns;
    first = false;
    const int ip = ip_start(linktype, d, h->caplen);
    if (linktype == DLT_EN10MB) {
      pkt.frame.assign(d, d + h->caplen);
      pkt.wire = h->len;
      pkt.ip_offset = ip;
    } else if (ip >= 0) {
      // A made-up Ethernet header in front of the IP packet.
      const std::uint8_t eth[14] = {2,
                                    0,
                                    0,
                                    0,
                                    0,
                                    2,
                                    2,
                                    0,
                                    0,
                                    0,
                                    0,
                                    1,
                                    static_cast<std::uint8_t>((d[ip] >> 4) == 4 ? 0x08 : 0x86),
                                    static_cast<std::uint8_t>((d[ip] >> 4) == 4 ? 0x00 : 0xdd)};
      pkt.frame.assign(eth, eth + 14);
      pkt.frame.insert(pkt.frame.end(), d + ip, d + h->caplen);
      pkt.wire = h->len - static_cast<std::uint32_t>(ip) + 14;
      pkt.ip_offset = 14;
    } else {
      continue;  // neither Ethernet nor IP: nothing to carry over
    }
    in.packets.push_back(std::move(pkt));
  }
  pcap_close(p);
}

void rewrite(std::vector<std::uint8_t>& f, int ip_offset, std::uint32_t copy) {
  const auto at = static_cast<std::size_t>(ip_offset);
  const auto hi = static_cast<std::uint8_t>(copy >> 8);
  const auto lo = static_cast<std::uint8_t>(copy);
  if ((f[at] >> 4) == 4) {
    const std::size_t ihl = static_cast<std::size_t>(f[at] & 0x0f) * 4;
    if (ihl < 20 || at + ihl > f.size()) return;
    for (const std::size_t a : {at + 12, at + 16}) {
      f[a + 1] ^= hi;
      f[a + 2] ^= lo;
    }
    f[at + 10] = 0;
    f[at + 11] = 0;
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < ihl; i += 2) sum += be16(&f[at + i]);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    f[at + 10] = static_cast<std::uint8_t>(~sum >> 8);
    f[at + 11] = static_cast<std::uint8_t>(~sum);
  } else {
    if (at + 40 > f.size()) return;
    for (const std::size_t a : {at + 8, at + 24}) {
      f[a + 4] ^= hi;
      f[a + 5] ^= lo;
    }
  }
}

struct Event {
  std::int64_t ts_ns;
  std::uint32_t copy;
  std::uint32_t input;
  std::uint32_t index;
};

std::uint64_t number(const char* s, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') {
    throw std::runtime_error(std::string("bad value for ") + what + ": " + s);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string out;
    std::uint64_t copies = 0;
    std::int64_t spacing_ns = 2'000'000;
    std::vector<Input> inputs;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--version") {
        std::printf("%d\n", kVersion);
        return 0;
      }
      if (a == "--out" || a == "--copies" || a == "--spacing-us") {
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
        const char* v = argv[++i];
        if (a == "--out") out = v;
        if (a == "--copies") copies = number(v, "--copies");
        if (a == "--spacing-us")
          spacing_ns = static_cast<std::int64_t>(number(v, "--spacing-us")) * 1000;
      } else {
        inputs.push_back(Input{a, {}, 0});
      }
    }
    if (out.empty() || copies == 0 || copies > 65536 || inputs.empty()) {
      throw std::runtime_error(
          "usage: replicate_capture --out FILE --copies N(1..65536) [--spacing-us U] INPUT...");
    }
    std::uint64_t per_copy = 0;
    for (Input& in : inputs) {
      read_input(in);
      per_copy += in.packets.size();
    }
    std::vector<Event> events;
    events.reserve(per_copy * copies);
    for (std::uint32_t k = 0; k < copies; ++k) {
      for (std::uint32_t f = 0; f < inputs.size(); ++f) {
        const Input& in = inputs[f];
        for (std::uint32_t i = 0; i < in.packets.size(); ++i) {
          if (k > 0 && in.packets[i].ip_offset < 0) continue;
          events.push_back(Event{in.packets[i].ts_ns - in.start_ns + k * spacing_ns, k, f, i});
        }
      }
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const Event& a, const Event& b) { return a.ts_ns < b.ts_ns; });

    pcap_t* dead =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t* dump = pcap_dump_open(dead, out.c_str());
    if (dump == nullptr) throw std::runtime_error(out + ": " + pcap_geterr(dead));
    constexpr std::int64_t kEpochNs = 1'767'225'600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z
    std::vector<std::uint8_t> frame;
    std::uint64_t bytes = 0;
    for (const Event& e : events) {
      const Packet& p = inputs[e.input].packets[e.index];
      frame = p.frame;
      if (p.ip_offset >= 0 && e.copy > 0) rewrite(frame, p.ip_offset, e.copy);
      const std::int64_t t = kEpochNs + e.ts_ns;
      pcap_pkthdr h{};
      h.ts.tv_sec = static_cast<time_t>(t / 1'000'000'000);
      h.ts.tv_usec = static_cast<suseconds_t>(t % 1'000'000'000);  // ns: the dumper is NANO
      h.caplen = static_cast<bpf_u_int32>(frame.size());
      h.len = std::max<bpf_u_int32>(p.wire, h.caplen);
      pcap_dump(reinterpret_cast<u_char*>(dump), &h, frame.data());
      bytes += frame.size() + 16;
    }
    pcap_dump_close(dump);
    pcap_close(dead);
    std::fprintf(stderr,
                 "replicate_capture: %zu inputs, %llu packets each copy, %llu copies, %zu packets, "
                 "%.1f MB\n",
                 inputs.size(), static_cast<unsigned long long>(per_copy),
                 static_cast<unsigned long long>(copies), events.size(),
                 static_cast<double>(bytes) / 1e6);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replicate_capture: %s\n", e.what());
    return 2;
  }
  return 0;
}
