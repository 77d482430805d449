#pragma once
// ArpStats: the ARP part of the analyze report. ARP requests and replies are conversations
// like any other (flow/arp.hpp) and go to the JSON with the rest; the text report lists
// them in a section of their own, since 28-byte exchanges never reach the top by bytes.
// It counts answered (ARP_REPLY) and unanswered (ARP_REQUEST) exchanges and keeps the
// earliest kMaxKept of them. The kept set depends only on the conversations, not on the
// order they end in, so per-shard stats merge to what one pass would keep.

#include <cstdint>
#include <vector>

#include "analyze/conversation.hpp"

namespace netscope::analyze {

struct ArpExchange {
  core::IpAddress client;  // the sender of the first packet (the requester, when seen)
  core::IpAddress server;
  std::uint16_t vlan = 0;
  std::uint8_t state = 0;  // flow::kArpRequest or flow::kArpReply
  std::uint64_t packets = 0;
  core::Timestamp first_seen;
};

class ArpStats {
 public:
  static constexpr std::size_t kMaxKept = 1000;

  // Counts `c` when it is an ARP conversation; ignores any other.
  void add(const Conversation& c);
  void merge(const ArpStats& other);

  std::uint64_t conversations() const { return answered_ + unanswered_; }
  std::uint64_t answered() const { return answered_; }      // ARP_REPLY
  std::uint64_t unanswered() const { return unanswered_; }  // ARP_REQUEST
  // The earliest kept exchanges, by first_seen, then addresses.
  std::vector<ArpExchange> earliest() const;

 private:
  void keep(const ArpExchange& e);

  std::uint64_t answered_ = 0;
  std::uint64_t unanswered_ = 0;
  std::vector<ArpExchange> kept_;  // max-heap by arp_order: the root is the latest kept
};

}  // namespace netscope::analyze
