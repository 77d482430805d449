#include "capture/bpf_filter.hpp"

#include <pcap/pcap.h>

#include <stdexcept>

#include "capture/file_reader.hpp"
#include "capture/linktype.hpp"

namespace netscope::capture {

// A compiled filter for one link type. `compiled` is false when libpcap refused the
// expression for this type; such a program matches nothing.
struct BpfFilter::Program {
  bpf_program bpf{};
  bool compiled = false;
  std::string error;

  Program(const std::string& expression, int linktype, std::uint32_t snaplen) {
    pcap_t* dead = pcap_open_dead(detail::linktype_to_dlt(linktype), static_cast<int>(snaplen));
    if (dead == nullptr) {
      error = "pcap_open_dead failed";
      return;
    }
    // The netmask only matters for "ip broadcast", which files cannot answer anyway.
    if (pcap_compile(dead, &bpf, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0) {
      compiled = true;
    } else {
      error = pcap_geterr(dead);
    }
    pcap_close(dead);
  }
  ~Program() {
    if (compiled) pcap_freecode(&bpf);
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
};

BpfFilter::BpfFilter(std::string expression) : expression_(std::move(expression)) {}
BpfFilter::~BpfFilter() = default;

void BpfFilter::prepare(int linktype, std::uint32_t snaplen) {
  auto program = std::make_unique<Program>(expression_, linktype, snaplen);
  if (!program->compiled) {
    throw std::runtime_error("invalid filter expression '" + expression_ + "' for link type " +
                             linktype_name(linktype) + ": " + program->error);
  }
  programs_[linktype] = std::move(program);
  compile_errors_.erase(linktype);
  last_linktype_ = -1;
  last_program_ = nullptr;
}

BpfFilter::Program* BpfFilter::program_for(int linktype) {
  auto it = programs_.find(linktype);
  if (it == programs_.end()) {
    auto program = std::make_unique<Program>(expression_, linktype, 262144);
    if (!program->compiled) compile_errors_[linktype] = program->error;
    it = programs_.emplace(linktype, std::move(program)).first;
  }
  last_linktype_ = linktype;
  last_program_ = it->second.get();
  return last_program_;
}

bool BpfFilter::matches(const RawPacket& pkt) {
  Program* program = pkt.linktype == last_linktype_ ? last_program_ : program_for(pkt.linktype);
  if (!program->compiled) return false;
  pcap_pkthdr hdr{};
  // Floor division so that pre-1970 times get a non-negative tv_usec.
  std::int64_t sec = pkt.ts.ns / 1'000'000'000;
  std::int64_t rem = pkt.ts.ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --sec;
  }
  hdr.ts.tv_sec = static_cast<time_t>(sec);
  hdr.ts.tv_usec = static_cast<suseconds_t>(rem / 1000);
  hdr.caplen = static_cast<bpf_u_int32>(pkt.data.size());
  hdr.len = pkt.orig_len;
  return pcap_offline_filter(&program->bpf, &hdr, pkt.data.data()) != 0;
}

}  // namespace netscope::capture
