// pcap_floor: the floor for reading a capture file — a plain libpcap loop
// (pcap_open_offline + pcap_next_ex) that touches the first byte of every packet and
// nothing else. Whole-program timings in run.sh are compared with this one.
//
//   pcap_floor FILE      prints "<packets> packets <sum of first bytes>"

#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pcap_floor FILE\n");
    return 2;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(argv[1], errbuf);
  if (p == nullptr) {
    std::fprintf(stderr, "pcap_floor: %s\n", errbuf);
    return 2;
  }
  std::uint64_t packets = 0;
  unsigned touched = 0;  // printed, so the reads cannot be optimised away
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(p, &header, &data)) == 1) {
    ++packets;
    if (header->caplen > 0) touched += data[0];
  }
  if (rc == PCAP_ERROR) std::fprintf(stderr, "pcap_floor: %s\n", pcap_geterr(p));
  pcap_close(p);
  std::printf("%llu packets %u\n", static_cast<unsigned long long>(packets), touched);
  return rc == PCAP_ERROR ? 3 : 0;
}
