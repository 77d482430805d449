#include "capture/interfaces.hpp"

#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <span>
#include <stdexcept>
#include <string_view>

namespace netscope::capture {
namespace {

using Bytes = std::span<const std::uint8_t>;

// Netlink messages and attributes are 4-byte aligned (NLMSG_ALIGN, RTA_ALIGN).
constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

template <typename T>
T load(Bytes b) {
  T v{};
  std::memcpy(&v, b.data(), sizeof(T));
  return v;
}

// Calls fn(type, payload) for each rtattr in `b`; stops at the first malformed one.
void for_each_attr(Bytes b, const std::function<void(std::uint16_t, Bytes)>& fn) {
  while (b.size() >= sizeof(rtattr)) {
    const auto rta = load<rtattr>(b);
    if (rta.rta_len < sizeof(rtattr) || rta.rta_len > b.size()) return;
    fn(rta.rta_type, b.subspan(sizeof(rtattr), rta.rta_len - sizeof(rtattr)));
    b = b.subspan(std::min(b.size(), align4(rta.rta_len)));
  }
}

std::string attr_string(Bytes payload) {
  // IFLA_IFNAME and the kind strings are NUL-terminated; tolerate a missing NUL.
  const auto* p = reinterpret_cast<const char*>(payload.data());
  return std::string(p, strnlen(p, payload.size()));
}

// One RTM_GETLINK or RTM_GETADDR dump of the current network namespace. `fn` gets the
// body (after the nlmsghdr) of every message of type `reply_type`. Returns false when
// the kernel flagged the dump as interrupted by a concurrent change (NLM_F_DUMP_INTR):
// the caller should dump again.
bool netlink_dump(std::uint16_t request_type, std::uint16_t reply_type,
                  const std::function<void(Bytes)>& fn) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw std::runtime_error(std::string("rtnetlink socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct {
    nlmsghdr hdr;
    rtgenmsg gen;
  } req{};
  req.hdr.nlmsg_len = sizeof(req);
  req.hdr.nlmsg_type = request_type;
  req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.hdr.nlmsg_seq = 1;
  req.gen.rtgen_family = AF_UNSPEC;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &req, sizeof(req), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) <
      0) {
    throw std::runtime_error(std::string("rtnetlink send: ") + std::strerror(errno));
  }

  // 32 KiB is what the kernel fills per dump datagram at most (NLMSG_GOODSIZE is one page
  // up to 8 KiB); 64 KiB leaves room, and MSG_TRUNC below catches anything larger.
  std::vector<std::uint8_t> buf(std::size_t{64} * 1024);
  bool consistent = true;
  for (;;) {
    const ssize_t got = ::recv(fd, buf.data(), buf.size(), MSG_TRUNC);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("rtnetlink recv: ") + std::strerror(errno));
    }
    if (static_cast<std::size_t>(got) > buf.size()) {
      throw std::runtime_error("rtnetlink: a reply larger than 64 KiB was truncated");
    }
    Bytes b(buf.data(), static_cast<std::size_t>(got));
    while (b.size() >= sizeof(nlmsghdr)) {
      const auto hdr = load<nlmsghdr>(b);
      if (hdr.nlmsg_len < sizeof(nlmsghdr) || hdr.nlmsg_len > b.size()) {
        throw std::runtime_error("rtnetlink: malformed reply");
      }
      const Bytes body = b.subspan(sizeof(nlmsghdr), hdr.nlmsg_len - sizeof(nlmsghdr));
      if ((hdr.nlmsg_flags & NLM_F_DUMP_INTR) != 0) consistent = false;
      if (hdr.nlmsg_type == NLMSG_DONE) return consistent;
      if (hdr.nlmsg_type == NLMSG_ERROR) {
        const int err = body.size() >= sizeof(int) ? -load<int>(body) : EPROTO;
        if (err == 0) return consistent;
        throw std::runtime_error(std::string("rtnetlink dump: ") + std::strerror(err));
      }
      if (hdr.nlmsg_type == reply_type) fn(body);
      b = b.subspan(std::min(b.size(), align4(hdr.nlmsg_len)));
    }
  }
}

int linktype_for_arphrd(unsigned short type) {
  switch (type) {
    case ARPHRD_ETHER:
    case ARPHRD_LOOPBACK:  // Linux gives lo a zeroed Ethernet header
      return 1;
    case ARPHRD_NONE:   // tun, WireGuard
    case ARPHRD_RAWIP:  // cellular modems
      return 101;
    default:
      return 0;
  }
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

// sysfs shows the namespace that mounted /sys, which need not be ours; trust an entry
// only when its ifindex is the one netlink gave us.
bool sysfs_is_ours(const NetInterface& itf) {
  const auto dir = std::filesystem::path("/sys/class/net") / itf.name;
  return read_first_line(dir / "ifindex") == std::to_string(itf.index);
}

// DEVTYPE from uevent ("wlan", "bridge" ...), else the driver name.
std::string sysfs_kind(const NetInterface& itf) {
  const auto dir = std::filesystem::path("/sys/class/net") / itf.name;
  std::ifstream uevent(dir / "uevent");
  std::string line;
  while (std::getline(uevent, line)) {
    if (line.starts_with("DEVTYPE=")) return line.substr(8);
  }
  std::error_code ec;
  const auto driver = std::filesystem::read_symlink(dir / "device" / "driver", ec);
  return ec ? std::string() : driver.filename().string();
}

void parse_link(Bytes body, std::map<int, NetInterface>& out) {
  if (body.size() < sizeof(ifinfomsg)) return;
  const auto info = load<ifinfomsg>(body);
  NetInterface itf;
  itf.index = info.ifi_index;
  itf.up = (info.ifi_flags & IFF_UP) != 0;
  itf.running = (info.ifi_flags & IFF_RUNNING) != 0;
  itf.loopback = (info.ifi_flags & IFF_LOOPBACK) != 0;
  itf.linktype = linktype_for_arphrd(info.ifi_type);
  for_each_attr(body.subspan(align4(sizeof(ifinfomsg))), [&](std::uint16_t type, Bytes p) {
    if (type == IFLA_IFNAME) {
      itf.name = attr_string(p);
    } else if (type == IFLA_MASTER && p.size() >= 4) {
      itf.master_index = static_cast<int>(load<std::uint32_t>(p));
    } else if (type == IFLA_LINKINFO) {
      for_each_attr(p, [&](std::uint16_t inner, Bytes q) {
        if (inner == IFLA_INFO_KIND) itf.kind = attr_string(q);
        if (inner == IFLA_INFO_SLAVE_KIND) itf.port_kind = attr_string(q);
      });
    }
  });
  if (itf.name.empty()) return;
  out[itf.index] = std::move(itf);
}

void parse_address(Bytes body, std::map<int, NetInterface>& links) {
  if (body.size() < sizeof(ifaddrmsg)) return;
  const auto msg = load<ifaddrmsg>(body);
  auto it = links.find(static_cast<int>(msg.ifa_index));
  if (it == links.end()) return;
  const std::size_t width = msg.ifa_family == AF_INET ? 4 : msg.ifa_family == AF_INET6 ? 16 : 0;
  if (width == 0) return;
  // IFA_LOCAL is this host's address; IFA_ADDRESS is the peer on point-to-point links and
  // equal to IFA_LOCAL otherwise. IPv6 sends IFA_LOCAL only when there is a peer.
  Bytes local, address;
  for_each_attr(body.subspan(align4(sizeof(ifaddrmsg))), [&](std::uint16_t type, Bytes p) {
    if (p.size() != width) return;
    if (type == IFA_LOCAL) local = p;
    if (type == IFA_ADDRESS) address = p;
  });
  const Bytes chosen = local.empty() ? address : local;
  if (chosen.empty()) return;
  it->second.addresses.push_back(width == 4 ? core::IpAddress::from_v4(chosen.first<4>())
                                            : core::IpAddress::from_v6(chosen.first<16>()));
}

bool is_ipv6_link_local(const core::IpAddress& a) {
  return !a.is_v4() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

// Masters that see every frame of their ports (rule 3 in the header). A VRF is not one:
// its slaves keep their own addresses and their traffic is theirs.
bool is_aggregating_port(const NetInterface& itf) {
  return itf.bridge_port || itf.port_kind == "bond" || itf.port_kind == "team" ||
         itf.port_kind == "openvswitch";
}

}  // namespace

bool NetInterface::has_configured_address() const {
  return std::any_of(addresses.begin(), addresses.end(),
                     [](const core::IpAddress& a) { return !is_ipv6_link_local(a); });
}

std::vector<NetInterface> list_interfaces() {
  std::map<int, NetInterface> links;
  // A link or address change during the dump makes it inconsistent; a few retries get a
  // clean one, and a last inconsistent one is still better than none.
  for (int attempt = 0; attempt < 3; ++attempt) {
    links.clear();
    const bool links_clean =
        netlink_dump(RTM_GETLINK, RTM_NEWLINK, [&](Bytes body) { parse_link(body, links); });
    const bool addresses_clean =
        netlink_dump(RTM_GETADDR, RTM_NEWADDR, [&](Bytes body) { parse_address(body, links); });
    if (links_clean && addresses_clean) break;
  }
  std::vector<NetInterface> out;
  out.reserve(links.size());
  for (auto& [index, itf] : links) {
    const bool sysfs_ours = !itf.loopback && sysfs_is_ours(itf);
    if (sysfs_ours && itf.kind.empty()) itf.kind = sysfs_kind(itf);
    std::error_code ec;
    itf.bridge_port =
        itf.port_kind == "bridge" ||
        (sysfs_ours && std::filesystem::exists(
                           std::filesystem::path("/sys/class/net") / itf.name / "brport", ec));
    out.push_back(std::move(itf));
  }
  return out;  // std::map iterates in index order
}

std::vector<std::string> default_interfaces(const std::vector<NetInterface>& all,
                                            bool show_localhost) {
  std::vector<const NetInterface*> picked;
  for (const auto& itf : all) {
    if (!itf.up || !itf.has_configured_address() || is_aggregating_port(itf)) continue;
    if (itf.loopback && !show_localhost) continue;
    picked.push_back(&itf);
  }
  std::sort(picked.begin(), picked.end(),
            [](const NetInterface* a, const NetInterface* b) { return a->index < b->index; });
  std::vector<std::string> names;
  names.reserve(picked.size());
  for (const auto* itf : picked) names.push_back(itf->name);
  return names;
}

std::string interface_list_text(const std::vector<NetInterface>& all) {
  std::size_t name_width = 4;
  for (const auto& itf : all) name_width = std::max(name_width, itf.name.size());
  std::string out;
  for (const auto& itf : all) {
    std::string line = "  " + std::to_string(itf.index);
    line.resize(std::max<std::size_t>(line.size() + 1, 6), ' ');
    line += itf.name;
    line.resize(line.size() + (name_width - itf.name.size()) + 2, ' ');
    line += itf.up ? "up    " : "down  ";
    if (itf.addresses.empty()) line += "no address";
    for (std::size_t i = 0; i < itf.addresses.size(); ++i) {
      if (i != 0) line += ", ";
      line += itf.addresses[i].to_string();
    }
    std::vector<std::string> notes;
    if (itf.loopback) notes.emplace_back("loopback");
    if (!itf.kind.empty()) notes.push_back(itf.kind);
    if (!itf.port_kind.empty()) notes.push_back(itf.port_kind + " port");
    if (!notes.empty()) {
      line += "  (";
      for (std::size_t i = 0; i < notes.size(); ++i) line += (i == 0 ? "" : ", ") + notes[i];
      line += ")";
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace netscope::capture
