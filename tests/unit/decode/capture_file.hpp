#pragma once
// Reads a capture file with libpcap directly, so these tests do not depend on capture/.
// Only the tests include <pcap.h>; decode/ itself never does (STYLE.md §1).

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

namespace netscope::decode::test {

struct FilePacket {
  std::vector<std::uint8_t> data;
  std::uint32_t orig_len = 0;
};

struct CaptureFile {
  bool ok = false;
  std::string error;
  int linktype = 0;  // as pcap_datalink() reports it (DLT_RAW is 12 on Linux)
  std::vector<FilePacket> packets;
};

inline CaptureFile read_capture(const std::string& path) {
  CaptureFile out;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
  if (p == nullptr) {
    out.error = errbuf;
    return out;
  }
  out.linktype = pcap_datalink(p);
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
    out.packets.push_back({std::vector<std::uint8_t>(data, data + hdr->caplen), hdr->len});
  }
  out.ok = rc == PCAP_ERROR_BREAK;
  if (!out.ok) out.error = pcap_geterr(p);
  pcap_close(p);
  return out;
}

inline std::string pcap_path(const std::string& rel) {
  return std::string(NETSCOPE_PCAPS) + "/" + rel;
}

}  // namespace netscope::decode::test
