// NTP, DHCP, SSDP and STUN recognisers (see others.hpp).

#include "dpi/others.hpp"

namespace netscope::dpi::others {

bool is_ntp(Bytes p) {
  if (p.size() < 48 || (p.size() - 48) % 4 != 0) return false;
  const unsigned version = (p[0] >> 3) & 0x7u;
  const unsigned mode = p[0] & 0x7u;
  // Modes 6 (control) and 7 (private) have other layouts; 0 is reserved.
  return version >= 1 && version <= 4 && mode >= 1 && mode <= 5 && p[1] <= 16;  // stratum
}

bool is_dhcp(Bytes p) {
  // op, htype 1 (Ethernet), hlen 6; magic cookie after the 236-byte fixed part.
  if (p.size() < 240 || (p[0] != 1 && p[0] != 2) || p[1] != 1 || p[2] != 6) return false;
  return core::load_be32(p.data() + 236) == 0x63825363;
}

bool is_ssdp(Bytes p) {
  const std::string_view text = as_text(p);
  if (text.starts_with("M-SEARCH * HTTP/1.1\r\n") || text.starts_with("NOTIFY * HTTP/1.1\r\n")) {
    return true;
  }
  // A unicast search response is an HTTP/1.1 200 over UDP that names a search target.
  if (!text.starts_with("HTTP/1.1 200")) return false;
  const std::size_t head_end = text.find("\r\n\r\n");
  const std::string_view head = text.substr(0, head_end);
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;
       pos = head.find("\r\n", pos + 2)) {
    const std::string_view line = head.substr(pos + 2);
    if (istarts_with(line, "ST:") || istarts_with(line, "USN:")) return true;
  }
  return false;
}

bool is_stun(Bytes p) {
  if (p.size() < 20 || (p[0] & 0xc0) != 0) return false;
  const std::uint16_t length = core::load_be16(p.data() + 2);
  return length % 4 == 0 && std::size_t{length} + 20 == p.size() &&
         core::load_be32(p.data() + 4) == 0x2112A442;
}

}  // namespace netscope::dpi::others
