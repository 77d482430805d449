#include "capture/linktype.hpp"

#include <pcap/pcap.h>

#include <string>

#include "capture/file_reader.hpp"

namespace netscope::capture {

namespace detail {

int linktype_to_dlt(int linktype) {
  // pcap-linktype(7): these LINKTYPE_ values were allocated because the matching DLT_
  // values differ between operating systems; map them to this platform's DLT_ value.
  switch (linktype) {
    case 100:  // LINKTYPE_ATM_RFC1483
      return DLT_ATM_RFC1483;
    case 101:  // LINKTYPE_RAW
      return DLT_RAW;
    case 102:  // LINKTYPE_SLIP_BSDOS
      return DLT_SLIP_BSDOS;
    case 103:  // LINKTYPE_PPP_BSDOS
      return DLT_PPP_BSDOS;
    default:
      return linktype;
  }
}

}  // namespace detail

std::string linktype_name(int linktype) {
  const int dlt = detail::linktype_to_dlt(linktype);
  const char* name = pcap_datalink_val_to_name(dlt);
  if (name == nullptr) return "DLT " + std::to_string(linktype);
  std::string out = name;
  const char* description = pcap_datalink_val_to_description(dlt);
  if (description != nullptr && *description != '\0') out += std::string(" (") + description + ")";
  return out;
}

}  // namespace netscope::capture
