#include "output/ipfix.hpp"

#include <algorithm>

namespace netscope::output::ipfix {

namespace {

constexpr std::uint16_t kVariable = 65535;  // RFC 7011 §7
constexpr std::size_t kHeaderSize = 16;     // RFC 7011 §3.1
constexpr std::size_t kSetHeaderSize = 4;
// Strings longer than this are cut, so that the one-byte length form always applies
// (RFC 7011 §7: lengths below 255 take one byte).
constexpr std::size_t kMaxString = 254;

void put8(std::vector<std::uint8_t>& b, std::uint8_t v) {
  b.push_back(v);
}
void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
void put64(std::vector<std::uint8_t>& b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v >> 32));
  put32(b, static_cast<std::uint32_t>(v));
}
void patch16(std::vector<std::uint8_t>& b, std::size_t at, std::size_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
void patch32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
  patch16(b, at, v >> 16);
  patch16(b, at + 2, v & 0xffffu);
}

// Cuts at kMaxString bytes without splitting a UTF-8 sequence.
std::size_t string_length(const std::string& s) {
  if (s.size() <= kMaxString) return s.size();
  std::size_t n = kMaxString;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;
  return n;
}

void put_string(std::vector<std::uint8_t>& b, const std::string& s) {
  const std::size_t n = string_length(s);
  put8(b, static_cast<std::uint8_t>(n));
  b.insert(b.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

void put_address(std::vector<std::uint8_t>& b, const core::IpAddress& a, bool v6) {
  const auto& bytes = a.bytes();
  if (v6) {
    b.insert(b.end(), bytes.begin(), bytes.end());
  } else {
    b.insert(b.end(), bytes.begin() + 12, bytes.end());
  }
}

bool is_v6(const FlowRecord& r) {
  return !r.src.is_v4() || !r.dst.is_v4();
}

std::size_t record_size(const FlowRecord& r) {
  const std::size_t addr = is_v6(r) ? 32 : 8;
  // ports 4, proto 1, octets 8, packets 8, start 8, end 8, flags 2, reason 1, direction 1,
  // pid 4, and four strings with a one-byte length each.
  return addr + 4 + 1 + 8 + 8 + 8 + 8 + 2 + 1 + 1 + 4 + 5 + string_length(r.process) +
         string_length(r.user) + string_length(r.app) + string_length(r.sni);
}

void put_record(std::vector<std::uint8_t>& b, const FlowRecord& r) {
  const bool v6 = is_v6(r);
  // Same order as template_fields().
  put_address(b, r.src, v6);
  put_address(b, r.dst, v6);
  put16(b, r.src_port);
  put16(b, r.dst_port);
  put8(b, r.proto);
  put64(b, r.octets);
  put64(b, r.packets);
  put64(b, static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.start_ms)));
  put64(b, static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.end_ms)));
  put16(b, r.tcp_flags);
  put8(b, static_cast<std::uint8_t>(r.end_reason));
  put8(b, r.direction);
  put_string(b, r.process);
  put32(b, r.pid);
  put_string(b, r.user);
  put_string(b, r.app);
  put_string(b, r.sni);
}

void put_templates(std::vector<std::uint8_t>& b) {
  const std::size_t set_start = b.size();
  put16(b, kTemplateSetId);
  put16(b, 0);  // length, patched below
  for (const bool v6 : {false, true}) {
    const std::vector<FieldSpec> fields = template_fields(v6);
    put16(b, v6 ? kTemplateIpv6 : kTemplateIpv4);
    put16(b, static_cast<std::uint16_t>(fields.size()));
    for (const FieldSpec& f : fields) {
      // RFC 7011 §3.2: the enterprise bit is the top bit of the IE id.
      put16(b, f.enterprise != 0 ? static_cast<std::uint16_t>(f.id | 0x8000u) : f.id);
      put16(b, f.length);
      if (f.enterprise != 0) put32(b, f.enterprise);
    }
  }
  patch16(b, set_start + 2, b.size() - set_start);
}

}  // namespace

std::vector<FieldSpec> template_fields(bool v6) {
  const std::uint16_t addr_len = v6 ? 16 : 4;
  return {
      {v6 ? ie::sourceIPv6Address : ie::sourceIPv4Address, addr_len, 0},
      {v6 ? ie::destinationIPv6Address : ie::destinationIPv4Address, addr_len, 0},
      {ie::sourceTransportPort, 2, 0},
      {ie::destinationTransportPort, 2, 0},
      {ie::protocolIdentifier, 1, 0},
      {ie::octetDeltaCount, 8, 0},
      {ie::packetDeltaCount, 8, 0},
      {ie::flowStartMilliseconds, 8, 0},
      {ie::flowEndMilliseconds, 8, 0},
      {ie::tcpControlBits, 2, 0},
      {ie::flowEndReason, 1, 0},
      {ie::flowDirection, 1, 0},
      {nie::processName, kVariable, kEnterpriseNumber},
      {nie::processId, 4, kEnterpriseNumber},
      {nie::userName, kVariable, kEnterpriseNumber},
      {nie::applicationName, kVariable, kEnterpriseNumber},
      {nie::serverName, kVariable, kEnterpriseNumber},
  };
}

MessageEncoder::MessageEncoder(std::uint32_t observation_domain, std::size_t max_message)
    : domain_(observation_domain), max_message_(std::max<std::size_t>(max_message, 512)) {}

std::vector<std::vector<std::uint8_t>> MessageEncoder::encode(std::span<const FlowRecord> records,
                                                              bool with_templates,
                                                              std::uint32_t export_time_s) {
  std::vector<std::vector<std::uint8_t>> out;
  std::vector<std::uint8_t> msg;
  std::size_t set_start = 0;  // offset of the open data set's header; 0 = none open
  std::uint16_t set_id = 0;
  std::uint32_t in_msg = 0;  // data records in the message being built

  const auto close_set = [&] {
    if (set_start != 0) patch16(msg, set_start + 2, msg.size() - set_start);
    set_start = 0;
  };
  const auto open_message = [&] {
    msg.clear();
    msg.reserve(max_message_);
    put16(msg, kVersion);
    put16(msg, 0);  // length
    put32(msg, export_time_s);
    put32(msg, sequence_);  // RFC 7011 §3.1: data records sent before this message
    put32(msg, domain_);
    in_msg = 0;
  };
  const auto close_message = [&] {
    close_set();
    patch16(msg, 2, msg.size());
    patch32(msg, 8, sequence_);
    sequence_ += in_msg;  // modulo 2^32 by unsigned wrap-around
    out.push_back(std::move(msg));
    msg = {};
  };

  open_message();
  if (with_templates) put_templates(msg);
  bool has_content = with_templates;
  for (const FlowRecord& r : records) {
    const std::size_t size = record_size(r);
    const std::uint16_t id = is_v6(r) ? kTemplateIpv6 : kTemplateIpv4;
    if (kHeaderSize + kSetHeaderSize + size > max_message_) {
      ++oversized_;
      continue;
    }
    const std::size_t need = size + (set_start != 0 && set_id == id ? 0 : kSetHeaderSize);
    if (msg.size() + need > max_message_) {
      close_message();
      open_message();
    }
    if (set_start == 0 || set_id != id) {
      close_set();
      set_start = msg.size();
      set_id = id;
      put16(msg, id);
      put16(msg, 0);
    }
    put_record(msg, r);
    ++in_msg;
    has_content = true;
  }
  if (has_content && msg.size() > kHeaderSize) close_message();
  return out;
}

}  // namespace netscope::output::ipfix
