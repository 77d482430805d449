#include "analyze/arp_report.hpp"

#include <algorithm>
#include <tuple>

#include "flow/arp.hpp"

namespace netscope::analyze {

namespace {
bool arp_order(const ArpExchange& a, const ArpExchange& b) {
  return std::tie(a.first_seen.ns, a.client, a.server, a.vlan, a.state, a.packets) <
         std::tie(b.first_seen.ns, b.client, b.server, b.vlan, b.state, b.packets);
}
}  // namespace

void ArpStats::add(const Conversation& c) {
  if (c.proto != flow::kArpProto) return;
  if (c.arp_state == flow::kArpReply) {
    ++answered_;
  } else {
    ++unanswered_;
  }
  keep(ArpExchange{c.client.addr, c.server.addr, c.vlan, c.arp_state, c.total_packets(),
                   c.first_seen});
}

void ArpStats::keep(const ArpExchange& e) {
  if (kept_.size() < kMaxKept) {
    kept_.push_back(e);
    std::push_heap(kept_.begin(), kept_.end(), arp_order);
  } else if (arp_order(e, kept_.front())) {
    std::pop_heap(kept_.begin(), kept_.end(), arp_order);
    kept_.back() = e;
    std::push_heap(kept_.begin(), kept_.end(), arp_order);
  }
}

void ArpStats::merge(const ArpStats& other) {
  answered_ += other.answered_;
  unanswered_ += other.unanswered_;
  for (const ArpExchange& e : other.kept_) keep(e);
}

std::vector<ArpExchange> ArpStats::earliest() const {
  std::vector<ArpExchange> out = kept_;
  std::sort(out.begin(), out.end(), arp_order);
  return out;
}

}  // namespace netscope::analyze
