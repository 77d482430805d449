#include "flow/arp.hpp"

namespace netscope::flow {

std::string_view arp_state_name(std::uint8_t state) {
  switch (state) {
    case kArpRequest:
      return "ARP_REQUEST";
    case kArpReply:
      return "ARP_REPLY";
    default:
      return "";
  }
}

}  // namespace netscope::flow
