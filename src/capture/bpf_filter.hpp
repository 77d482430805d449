#pragma once
// BpfFilter: a tcpdump filter expression applied to packets read from files. libpcap
// compiles the expression once per link type (pcap_open_dead + pcap_compile), and
// matches() runs pcap_offline_filter. Files with several link types (pcapng) get one
// compiled program per type, built on first use.
//
// prepare() throws when the expression does not compile for a link type, so that bad
// expressions fail at start-up. matches() never throws: a link type met mid-file that the
// expression cannot be compiled for (e.g. "ether host" on raw IP) matches nothing, and
// the reason is kept in compile_errors() for the caller to report.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "capture/raw_packet.hpp"

namespace netscope::capture {

class BpfFilter {
 public:
  // Stores the expression; compiling waits for a link type (prepare() or matches()).
  explicit BpfFilter(std::string expression);
  ~BpfFilter();
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;

  // Compiles for the link type eagerly, so that errors surface at start-up. Throws
  // std::runtime_error with libpcap's message, naming the expression and link type.
  void prepare(int linktype, std::uint32_t snaplen = 262144);
  bool matches(const RawPacket& pkt);
  const std::string& expression() const { return expression_; }
  // Link types matches() could not compile the expression for, with libpcap's message.
  const std::map<int, std::string>& compile_errors() const { return compile_errors_; }

 private:
  struct Program;
  Program* program_for(int linktype);

  std::string expression_;
  std::map<int, std::unique_ptr<Program>> programs_;
  std::map<int, std::string> compile_errors_;
  // Consecutive packets almost always share a link type: skip the map lookup.
  int last_linktype_ = -1;
  Program* last_program_ = nullptr;
};

}  // namespace netscope::capture
