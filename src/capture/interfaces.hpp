#pragma once
// The network interfaces of this network namespace, and the rule for which of them
// netscope captures on by default.
//
// Links and addresses are read over rtnetlink (RTM_GETLINK, RTM_GETADDR), not from
// /sys/class/net: sysfs shows the namespace of whoever mounted it, so a process that
// entered another namespace with setns() or unshare() (without remounting /sys, as
// `ip netns exec` does) would read the wrong interfaces there. sysfs is consulted only
// for a kind the kernel's link info does not carry (a NIC's DEVTYPE or driver), and only
// when the sysfs entry's ifindex matches, i.e. when sysfs shows our namespace.
//
// Default capture set (bandwhich's rule, made precise so that no packet is counted twice):
//   1. the interface is administratively up (IFF_UP), and
//   2. it has at least one address that is not IPv6 link-local (fe80::/10). Every
//      IPv6-enabled link gets a link-local address by itself, including the host end of a
//      veth whose traffic is routed and seen again on the outgoing interface; only a
//      configured address says that this host sends and receives on the link, and
//   3. it is not a port of a bridge, bond, team or Open vSwitch: the same frames show up
//      on the master device, which is captured instead, and
//   4. loopback only with show_localhost (--show-localhost).
// Interfaces that appear after start-up are not added; name them with -i to capture on
// them (capture waits for an interface that is down).

#include <string>
#include <vector>

#include "core/ip_address.hpp"

namespace netscope::capture {

struct NetInterface {
  std::string name;
  int index = 0;
  bool up = false;       // IFF_UP: administratively up
  bool running = false;  // IFF_RUNNING: carrier present
  bool loopback = false;
  std::vector<core::IpAddress> addresses;  // every address, link-local included
  // What the link is: the rtnetlink link kind ("veth", "bridge", "vxlan", "bond",
  // "wireguard", "tun" ...), else the sysfs DEVTYPE ("wlan") or driver ("virtio_net",
  // "e1000e"), else "".
  std::string kind;
  bool bridge_port = false;  // enslaved to a bridge (sysfs: /sys/class/net/<if>/brport)
  // Kind of the master this link is enslaved to ("bridge", "bond", "team",
  // "openvswitch", "vrf"), "" when it has none.
  std::string port_kind;
  int master_index = 0;  // ifindex of that master, 0 when none
  // LINKTYPE_* libpcap will most likely report, guessed from the ARPHRD type:
  // 1 (Ethernet, also loopback), 101 (raw IP: tun, WireGuard), 0 when unsure.
  int linktype = 0;

  // True when at least one address is not IPv6 link-local (rule 2 above).
  bool has_configured_address() const;
};

// Every interface of the current network namespace, sorted by index. Throws
// std::runtime_error when netlink cannot be read (no such failure is expected on Linux).
std::vector<NetInterface> list_interfaces();

// Names of the interfaces the rule above selects, in index order.
std::vector<std::string> default_interfaces(const std::vector<NetInterface>& all,
                                            bool show_localhost);

// A human-readable table, one interface a line, for error messages and the CLI:
//   "  2  eth0    up    10.0.0.5, fe80::1  (veth)\n"
std::string interface_list_text(const std::vector<NetInterface>& all);

}  // namespace netscope::capture
