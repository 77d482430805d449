#include "monitor/dns_names.hpp"

namespace netscope::monitor {

namespace {
// RR type numbers (RFC 1035 §3.2.2, RFC 3596 §2.1).
constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr int kRcodeNoError = 0;
}  // namespace

DnsEventRecord dns_record(const dpi::DnsEvent& e) {
  DnsEventRecord r;
  r.time = e.time;
  r.server = e.server;
  r.query = e.query;
  r.qtype = e.qtype;
  r.rcode = e.rcode;
  r.rcode_code = e.rcode_code;
  r.answers.reserve(e.answers.size());
  for (const dpi::DnsAnswer& a : e.answers) r.answers.push_back(a.text());
  r.latency_ms = e.latency_ms;
  return r;
}

void DnsNameMap::learn(const dpi::DnsEvent& e) {
  if (e.rcode_code != kRcodeNoError || e.query.empty() || e.query == ".") return;
  for (const dpi::DnsAnswer& a : e.answers) {
    if (a.type == kTypeA || a.type == kTypeAaaa) put(a.address, e.query);
  }
}

void DnsNameMap::put(const core::IpAddress& addr, const std::string& name) {
  if (capacity_ == 0) return;
  if (auto it = index_.find(addr); it != index_.end()) {
    it->second->second = name;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  if (index_.size() >= capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  order_.emplace_front(addr, name);
  index_.emplace(addr, order_.begin());
}

const std::string* DnsNameMap::find(const core::IpAddress& addr) const {
  const auto it = index_.find(addr);
  return it == index_.end() ? nullptr : &it->second->second;
}

}  // namespace netscope::monitor
