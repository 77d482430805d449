#pragma once
// BpfFilter: a tcpdump filter expression applied to packets read from files. libpcap
// compiles the expression once per link type (pcap_open_dead + pcap_compile), and
// matches() runs pcap_offline_filter. Files with several link types (pcapng) get one
// compiled program per type, built on first use.

#include <map>
#include <memory>
#include <string>

#include "capture/raw_packet.hpp"

namespace netscope::capture {

class BpfFilter {
 public:
  // Throws std::runtime_error with libpcap's message if the expression does not compile
  // for `linktype`.
  explicit BpfFilter(std::string expression);
  ~BpfFilter();
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;

  // Compiles for the link type eagerly, so that errors surface at start-up.
  void prepare(int linktype, std::uint32_t snaplen = 262144);
  bool matches(const RawPacket& pkt);
  const std::string& expression() const { return expression_; }

 private:
  struct Program;
  std::string expression_;
  std::map<int, std::unique_ptr<Program>> programs_;
};

}  // namespace netscope::capture
