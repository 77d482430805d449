// ServiceNames: see services.hpp.

#include "enrich/services.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace netscope::enrich {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;

struct Builtin {
  std::uint16_t port;
  bool tcp;
  bool udp;
  const char* name;
};

// Common services, named as in Debian's netbase /etc/services (IANA registry names).
constexpr Builtin kBuiltin[] = {
    {20, true, false, "ftp-data"},
    {21, true, false, "ftp"},
    {22, true, false, "ssh"},
    {23, true, false, "telnet"},
    {25, true, false, "smtp"},
    {53, true, true, "domain"},
    {67, false, true, "bootps"},
    {68, false, true, "bootpc"},
    {69, false, true, "tftp"},
    {80, true, false, "http"},
    {88, true, true, "kerberos"},
    {110, true, false, "pop3"},
    {111, true, true, "sunrpc"},
    {119, true, false, "nntp"},
    {123, false, true, "ntp"},
    {137, false, true, "netbios-ns"},
    {138, false, true, "netbios-dgm"},
    {139, true, false, "netbios-ssn"},
    {143, true, false, "imap2"},
    {161, true, true, "snmp"},
    {162, true, true, "snmp-trap"},
    {179, true, false, "bgp"},
    {389, true, true, "ldap"},
    {443, true, true, "https"},
    {445, true, false, "microsoft-ds"},
    {465, true, false, "submissions"},
    {500, false, true, "isakmp"},
    {514, false, true, "syslog"},
    {515, true, false, "printer"},
    {587, true, false, "submission"},
    {631, true, false, "ipp"},
    {636, true, true, "ldaps"},
    {853, true, true, "domain-s"},
    {873, true, false, "rsync"},
    {993, true, false, "imaps"},
    {995, true, false, "pop3s"},
    {1194, true, true, "openvpn"},
    {1433, true, false, "ms-sql-s"},
    {1812, true, true, "radius"},
    {1813, true, true, "radius-acct"},
    {2049, true, true, "nfs"},
    {3306, true, false, "mysql"},
    {3389, true, false, "ms-wbt-server"},
    {4500, false, true, "ipsec-nat-t"},
    {5060, true, true, "sip"},
    {5061, true, true, "sip-tls"},
    {5353, false, true, "mdns"},
    {5432, true, false, "postgresql"},
    {5672, true, false, "amqp"},
    {6379, true, false, "redis"},
    {6667, true, false, "ircd"},
    {8080, true, false, "http-alt"},
};

bool parse_port(std::string_view s, std::uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  std::uint32_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

// Splits off the next whitespace-separated field.
std::string_view next_field(std::string_view& line) {
  const std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  const std::size_t end = line.find_first_of(" \t");
  const std::string_view field = line.substr(0, end);
  line = end == std::string_view::npos ? std::string_view{} : line.substr(end);
  return field;
}

}  // namespace

void ServiceNames::add(std::uint16_t port, std::uint8_t proto, std::string_view name) {
  entries_.push_back(Entry{port, proto, static_cast<std::uint32_t>(names_.size()),
                           static_cast<std::uint8_t>(name.size())});
  names_.append(name);
}

void ServiceNames::finish() {
  // Stable, so the first entry of a (proto, port) stays first and wins.
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.proto != b.proto ? a.proto < b.proto : a.port < b.port;
  });
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const Entry& a, const Entry& b) {
                               return a.proto == b.proto && a.port == b.port;
                             }),
                 entries_.end());
}

ServiceNames ServiceNames::parse(std::string_view text) {
  ServiceNames out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const std::size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank or comment
    if (line.size() > kMaxLine || out.entries_.size() >= kMaxEntries) {
      ++out.skipped_;
      continue;
    }
    const std::string_view name = next_field(line);
    std::string_view port_proto = next_field(line);
    if (!port_proto.empty() && port_proto.back() == '\r') port_proto.remove_suffix(1);
    const std::size_t slash = port_proto.find('/');
    std::uint16_t port = 0;
    if (name.empty() || name.size() > kMaxName || slash == std::string_view::npos ||
        !parse_port(port_proto.substr(0, slash), port)) {
      ++out.skipped_;
      continue;
    }
    const std::string_view proto = port_proto.substr(slash + 1);
    if (proto == "tcp") {
      out.add(port, kTcp, name);
    } else if (proto == "udp") {
      out.add(port, kUdp, name);
    }  // sctp, ddp: valid lines for protocols we do not track
  }
  out.finish();
  return out;
}

ServiceNames ServiceNames::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return builtin();
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return builtin();
  ServiceNames out = parse(text.str());
  out.from_file_ = true;
  return out;
}

ServiceNames ServiceNames::builtin() {
  ServiceNames out;
  for (const Builtin& b : kBuiltin) {
    if (b.tcp) out.add(b.port, kTcp, b.name);
    if (b.udp) out.add(b.port, kUdp, b.name);
  }
  out.finish();
  return out;
}

std::string_view ServiceNames::name(std::uint16_t port, std::uint8_t proto) const {
  const auto it =
      std::lower_bound(entries_.begin(), entries_.end(), std::pair{proto, port},
                       [](const Entry& e, const std::pair<std::uint8_t, std::uint16_t>& k) {
                         return e.proto != k.first ? e.proto < k.first : e.port < k.second;
                       });
  if (it == entries_.end() || it->proto != proto || it->port != port) return {};
  return std::string_view(names_).substr(it->offset, it->length);
}

std::string_view service_name(std::uint16_t port, std::uint8_t proto) {
  static const ServiceNames table = ServiceNames::load();
  return table.name(port, proto);
}

}  // namespace netscope::enrich
