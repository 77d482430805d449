// SSH identification strings and binary packet headers (RFC 4253 §4.2, §6).

#include "dpi/ssh.hpp"

namespace netscope::dpi::ssh {

bool starts_with_banner(std::string_view data, bool& partial) {
  constexpr std::string_view kPrefix = "SSH-";
  partial = data.size() < kPrefix.size() && kPrefix.substr(0, data.size()) == data;
  return data.size() >= kPrefix.size() && data.substr(0, kPrefix.size()) == kPrefix;
}

Status parse_banner(std::string_view data, Banner& out, std::size_t& used) {
  out = Banner{};
  std::size_t pos = 0;
  while (true) {
    const std::string_view rest = data.substr(pos);
    const std::size_t lf = rest.find('\n');
    bool partial = false;
    const bool is_banner = starts_with_banner(rest, partial);
    if (lf == std::string_view::npos) {
      if ((is_banner || partial) ? rest.size() > kMaxBanner : pos + rest.size() > kMaxPreBanner) {
        return Status::malformed;
      }
      return Status::need_more;
    }
    std::string_view line = rest.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!is_banner) {
      // §4.2: other lines may precede the version string; they must not start "SSH-".
      pos += lf + 1;
      if (pos > kMaxPreBanner) return Status::malformed;
      continue;
    }
    if (line.size() + 2 > kMaxBanner || !printable(line)) return Status::malformed;
    // SSH-protoversion-softwareversion SP comments
    const std::string_view body = line.substr(4);
    const std::size_t dash = body.find('-');
    if (dash == std::string_view::npos || dash == 0) return Status::malformed;
    out.line = line;
    out.proto_version = body.substr(0, dash);
    std::string_view software = body.substr(dash + 1);
    const std::size_t sp = software.find(' ');
    if (sp != std::string_view::npos) {
      out.comments = software.substr(sp + 1);
      software = software.substr(0, sp);
    }
    out.software = software;
    used = pos + lf + 1;
    return Status::ok;
  }
}

Status parse_packet_header(Bytes data, PacketHeader& out) {
  ByteReader r(data);
  if (!r.u32(out.packet_length) || !r.u8(out.padding_length) || !r.u8(out.message)) {
    return Status::need_more;
  }
  // §6: padding of 4..255 bytes, payload of at least the message number, and the total
  // a multiple of the cipher block (8 bytes at least) - checked loosely: some old
  // implementations pad oddly, but none sends a packet shorter than its padding.
  if (out.packet_length > kMaxPacket || out.padding_length < 4 ||
      out.packet_length < std::uint32_t{out.padding_length} + 2) {
    return Status::malformed;
  }
  return Status::ok;
}

}  // namespace netscope::dpi::ssh
