#pragma once
// The link types the fuzz targets choose from with one input byte, shared with the seed
// maker so that seeds extracted from real captures select the right decoder.

#include <array>

#include "decode/decode.hpp"

namespace netscope::fuzz {

namespace lt = netscope::decode::linktype;
inline constexpr std::array kLinkTypes{lt::ethernet, lt::linux_sll, lt::linux_sll2, lt::raw,
                                       lt::raw_dlt,  lt::ipv4,      lt::ipv6,       lt::null_bsd,
                                       lt::loop,     lt::nflog};

// Index of `linktype` in kLinkTypes, or -1.
constexpr int linktype_selector(int linktype) {
  for (std::size_t i = 0; i < kLinkTypes.size(); ++i) {
    if (kLinkTypes[i] == linktype) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace netscope::fuzz
