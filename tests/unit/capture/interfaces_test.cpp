#include "capture/interfaces.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "netns_util.hpp"

namespace netscope::capture {
namespace {

using test::make_veth;
using test::sh;

core::IpAddress ip(const char* text) {
  return *core::IpAddress::parse(text);
}

NetInterface link(const char* name, int index, std::vector<core::IpAddress> addresses,
                  bool up = true) {
  NetInterface itf;
  itf.name = name;
  itf.index = index;
  itf.up = up;
  itf.running = up;
  itf.addresses = std::move(addresses);
  return itf;
}

const NetInterface* find(const std::vector<NetInterface>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& i) { return i.name == name; });
  return it == all.end() ? nullptr : &*it;
}

using Names = std::vector<std::string>;

// ---- the rule, on hand-made interface lists (no root needed) ---------------------------

TEST(DefaultInterfaces, UpWithAnAddressIsIn) {
  const std::vector<NetInterface> all{link("eth0", 2, {ip("10.0.0.5")}),
                                      link("eth1", 3, {ip("2001:db8::5")})};
  EXPECT_EQ(default_interfaces(all, false), (Names{"eth0", "eth1"}));
}

TEST(DefaultInterfaces, DownOrAddresslessIsOut) {
  const std::vector<NetInterface> all{link("eth0", 2, {ip("10.0.0.5")}, false),
                                      link("eth1", 3, {})};
  EXPECT_TRUE(default_interfaces(all, false).empty());
}

TEST(DefaultInterfaces, IpV6LinkLocalAloneDoesNotCount) {
  // The host end of a routed veth gets fe80:: by itself and would count its traffic twice.
  const std::vector<NetInterface> all{link("eth0", 2, {ip("10.0.0.5"), ip("fe80::1")}),
                                      link("veth9", 7, {ip("fe80::abcd")})};
  EXPECT_EQ(default_interfaces(all, false), (Names{"eth0"}));
  EXPECT_FALSE(all[1].has_configured_address());
  EXPECT_TRUE(all[0].has_configured_address());
}

TEST(DefaultInterfaces, PortsOfBridgesBondsTeamsAndOvsAreOutButVrfSlavesStay) {
  std::vector<NetInterface> all{
      link("br0", 2, {ip("10.0.0.1")}),  link("veth1", 3, {ip("10.9.0.1")}),
      link("eth1", 4, {ip("10.9.1.1")}), link("eth2", 5, {ip("10.9.2.1")}),
      link("eth3", 6, {ip("10.9.3.1")}), link("eth4", 7, {ip("10.9.4.1")})};
  all[1].bridge_port = true;
  all[1].port_kind = "bridge";
  all[2].port_kind = "bond";
  all[3].port_kind = "team";
  all[4].port_kind = "openvswitch";
  all[5].port_kind = "vrf";
  EXPECT_EQ(default_interfaces(all, false), (Names{"br0", "eth4"}));
}

TEST(DefaultInterfaces, LoopbackOnlyWithShowLocalhostAndResultInIndexOrder) {
  std::vector<NetInterface> all{link("eth0", 2, {ip("10.0.0.5")}),
                                link("lo", 1, {ip("127.0.0.1")})};
  all[1].loopback = true;
  EXPECT_EQ(default_interfaces(all, false), (Names{"eth0"}));
  EXPECT_EQ(default_interfaces(all, true), (Names{"lo", "eth0"}));
}

TEST(InterfaceListText, OneLinePerInterfaceWithStateAddressesAndKind) {
  std::vector<NetInterface> all{link("lo", 1, {ip("127.0.0.1"), ip("::1")}),
                                link("veth1", 5, {}, false)};
  all[0].loopback = true;
  all[1].kind = "veth";
  all[1].port_kind = "bridge";
  const std::string text = interface_list_text(all);
  EXPECT_EQ(text,
            "  1   lo     up    127.0.0.1, ::1  (loopback)\n"
            "  5   veth1  down  no address  (veth, bridge port)\n");
}

// ---- the real thing, in a private namespace -----------------------------------------

TEST(ListInterfaces, ReadsKindsBridgePortsAndAddressesOfThisNamespace) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(sh("ip link set lo up"));
    // va: configured address -> in. vb: IPv6 link-local only -> out.
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", ""));
    ASSERT_TRUE(sh("ip addr add fe80::1234/64 dev vb"));
    // br0 with an address -> in; vc is its port (out, even with an address of its own).
    ASSERT_TRUE(
        sh("ip link add br0 type bridge && ip addr add 10.78.0.1/24 dev br0 && "
           "ip link set br0 up"));
    ASSERT_TRUE(make_veth("vc", "vd", 2, "10.79.0.1", ""));
    ASSERT_TRUE(sh("ip link set vc master br0"));
    // ve: an address but down -> out.
    ASSERT_TRUE(make_veth("ve", "vf", 3, "10.80.0.1", ""));
    ASSERT_TRUE(sh("ip link set ve down"));

    const auto all = list_interfaces();
    ASSERT_TRUE(std::is_sorted(all.begin(), all.end(),
                               [](const auto& a, const auto& b) { return a.index < b.index; }));
    const auto* lo = find(all, "lo");
    const auto* va = find(all, "va");
    const auto* vb = find(all, "vb");
    const auto* br0 = find(all, "br0");
    const auto* vc = find(all, "vc");
    const auto* ve = find(all, "ve");
    ASSERT_TRUE(lo && va && vb && br0 && vc && ve);

    EXPECT_TRUE(lo->loopback);
    EXPECT_TRUE(lo->up);
    EXPECT_NE(std::find(lo->addresses.begin(), lo->addresses.end(), ip("127.0.0.1")),
              lo->addresses.end());
    EXPECT_EQ(lo->linktype, 1);
    EXPECT_EQ(va->kind, "veth");
    EXPECT_EQ(va->addresses, std::vector<core::IpAddress>{ip("10.77.0.1")});
    EXPECT_EQ(vb->addresses, std::vector<core::IpAddress>{ip("fe80::1234")});
    EXPECT_EQ(br0->kind, "bridge");
    EXPECT_FALSE(br0->bridge_port);
    EXPECT_TRUE(vc->bridge_port);
    EXPECT_EQ(vc->port_kind, "bridge");
    EXPECT_EQ(vc->master_index, br0->index);
    EXPECT_FALSE(ve->up);
    EXPECT_FALSE(va->bridge_port);

    EXPECT_EQ(default_interfaces(all, false), (Names{"va", "br0"}));
    EXPECT_EQ(default_interfaces(all, true), (Names{"lo", "va", "br0"}));

    const std::string text = interface_list_text(all);
    EXPECT_NE(text.find("10.77.0.1"), std::string::npos) << text;
    EXPECT_NE(text.find("(veth, bridge port)"), std::string::npos) << text;
  });
}

}  // namespace
}  // namespace netscope::capture
