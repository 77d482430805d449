#include "capture/live_capture.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "netns_util.hpp"

namespace netscope::capture {
namespace {

using test::in_fresh_netns;
using test::make_veth;
using test::send_udp;
using test::sh;

struct Seen {
  std::uint32_t interface_id;
  std::uint32_t orig_len;
  std::size_t caplen;
  int linktype;
};

class Recorder : public PacketHandler {
 public:
  void on_packet(const RawPacket& pkt) override {
    seen.push_back(Seen{pkt.interface_id, pkt.orig_len, pkt.data.size(), pkt.linktype});
    EXPECT_NE(pkt.ts.ns, 0);
  }
  std::size_t count_on(std::uint32_t id) const {
    return static_cast<std::size_t>(std::count_if(
        seen.begin(), seen.end(), [id](const Seen& s) { return s.interface_id == id; }));
  }
  std::vector<Seen> seen;
};

// Dispatches until `done` holds or `rounds` dispatch calls of 100 ms have passed.
void dispatch_until(LiveCapture& cap, Recorder& rec, const std::function<bool()>& done,
                    int rounds = 50) {
  for (int i = 0; i < rounds && !done(); ++i) cap.dispatch(100, rec);
}

bool has_event(const std::vector<std::string>& events, const std::string& needle) {
  return std::any_of(events.begin(), events.end(),
                     [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

std::vector<std::size_t> sizes(std::size_t first, std::size_t count) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(first + i);
  return out;
}

constexpr std::uint32_t kEthIpUdp = 14 + 20 + 8;

// Two veth pairs: datagrams sent by send_va() leave through va and arrive on vb, those of
// send_vc() leave through vc and arrive on vd.
bool make_two_veths() {
  return make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2") &&
         make_veth("vc", "vd", 2, "10.78.0.1", "10.78.0.2");
}
void send_va(const std::vector<std::size_t>& payloads) {
  send_udp("10.77.0.1", "10.77.0.2", 40000, payloads);
}
void send_vc(const std::vector<std::size_t>& payloads) {
  send_udp("10.78.0.1", "10.78.0.2", 40000, payloads);
}

LiveOptions udp_on(std::vector<std::string> interfaces, int retry_interval_ms = 3000) {
  LiveOptions o;
  o.interfaces = std::move(interfaces);
  o.bpf = "udp";
  o.retry_interval_ms = retry_interval_ms;
  return o;
}

// The CaptureError the constructor throws for `o`; a test failure when it throws none.
std::optional<CaptureError> construction_error(const LiveOptions& o) {
  try {
    LiveCapture cap(o);
  } catch (const CaptureError& e) {
    return e;
  }
  ADD_FAILURE() << "LiveCapture did not throw";
  return std::nullopt;
}

TEST(LiveCapture, SeesExactlyTheSentDatagramsOnBothEndsOfAVeth) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    LiveOptions o;
    o.interfaces = {"va", "vb"};
    o.bpf = "udp and dst port 40000";
    LiveCapture cap(o);
    ASSERT_EQ(cap.interfaces(), (std::vector<std::string>{"va", "vb"}));
    Recorder rec;
    send_va(sizes(100, 10));
    dispatch_until(cap, rec, [&] { return rec.seen.size() >= 20; });
    // A few more rounds: nothing else may turn up.
    for (int i = 0; i < 3; ++i) cap.dispatch(100, rec);

    ASSERT_EQ(rec.seen.size(), 20u);
    EXPECT_EQ(rec.count_on(0), 10u);  // sent through va
    EXPECT_EQ(rec.count_on(1), 10u);  // received on vb
    for (std::uint32_t id : {0u, 1u}) {
      std::vector<std::uint32_t> lens;
      for (const auto& s : rec.seen) {
        if (s.interface_id != id) continue;
        lens.push_back(s.orig_len);
        EXPECT_EQ(s.caplen, s.orig_len);
        EXPECT_EQ(s.linktype, 1);
      }
      std::sort(lens.begin(), lens.end());
      for (std::size_t i = 0; i < lens.size(); ++i) EXPECT_EQ(lens[i], kEthIpUdp + 100 + i);
    }
    const auto stats = cap.stats();
    ASSERT_EQ(stats.size(), 2u);
    for (const auto& s : stats) {
      EXPECT_TRUE(s.open) << s.name;
      EXPECT_EQ(s.received, 10u) << s.name;  // the filter rejects everything else
      EXPECT_EQ(s.dropped, 0u) << s.name;
      EXPECT_EQ(s.linktype, 1);
    }
  });
}

TEST(LiveCapture, SnaplenLimitsCapturedBytesButNotOrigLen) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    LiveOptions o = udp_on({"va"});
    o.snaplen = 64;
    LiveCapture cap(o);
    Recorder rec;
    send_va({1000});
    dispatch_until(cap, rec, [&] { return !rec.seen.empty(); });
    ASSERT_EQ(rec.seen.size(), 1u);
    EXPECT_EQ(rec.seen[0].caplen, 64u);
    EXPECT_EQ(rec.seen[0].orig_len, kEthIpUdp + 1000);
  });
}

TEST(LiveCapture, DeletedInterfaceIsClosedAndTheOthersKeepCapturing) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_two_veths());
    LiveCapture cap(udp_on({"va", "vc"}));
    Recorder rec;
    send_va(sizes(100, 5));
    send_vc(sizes(200, 5));
    dispatch_until(cap, rec, [&] { return rec.seen.size() >= 10; });
    ASSERT_EQ(rec.count_on(0), 5u);
    ASSERT_EQ(rec.count_on(1), 5u);

    ASSERT_TRUE(sh("ip link del vc"));
    dispatch_until(cap, rec, [&] { return !cap.stats()[1].open; });
    auto stats = cap.stats();
    EXPECT_TRUE(stats[0].open);
    EXPECT_FALSE(stats[1].open);
    EXPECT_FALSE(stats[1].error.empty());
    EXPECT_EQ(stats[1].received, 5u);  // the closed handle's last numbers are kept
    const auto events = cap.take_events();
    EXPECT_TRUE(has_event(events, "vc: capture stopped")) << ::testing::PrintToString(events);
    EXPECT_TRUE(has_event(events, "still capturing on va")) << ::testing::PrintToString(events);
    EXPECT_TRUE(cap.take_events().empty());

    rec.seen.clear();
    send_va(sizes(300, 5));
    dispatch_until(cap, rec, [&] { return rec.seen.size() >= 5; });
    EXPECT_EQ(rec.count_on(0), 5u);
    EXPECT_EQ(rec.count_on(1), 0u);
  });
}

TEST(LiveCapture, RecreatedInterfaceIsReopenedByName) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_two_veths());
    LiveCapture cap(udp_on({"va", "vc"}, 100));
    Recorder rec;
    ASSERT_TRUE(sh("ip link del vc"));
    dispatch_until(cap, rec, [&] { return !cap.stats()[1].open; });
    ASSERT_FALSE(cap.stats()[1].open);

    ASSERT_TRUE(make_veth("vc", "vd", 2, "10.78.0.1", "10.78.0.2"));  // the same name again
    dispatch_until(cap, rec, [&] { return cap.stats()[1].open; });
    ASSERT_TRUE(cap.stats()[1].open);
    EXPECT_TRUE(has_event(cap.take_events(), "vc: interface is back"));
    send_vc(sizes(200, 3));
    dispatch_until(cap, rec, [&] { return rec.count_on(1) >= 3; });
    EXPECT_EQ(rec.count_on(1), 3u);
  });
}

TEST(LiveCapture, InterfaceDownIsReportedAndCaptureResumesWhenItComesBack) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_two_veths());
    LiveCapture cap(udp_on({"va", "vc"}, 100));
    Recorder rec;
    ASSERT_TRUE(sh("ip link set vc down"));
    dispatch_until(cap, rec, [&] { return !cap.stats()[1].open; });
    auto stats = cap.stats();
    ASSERT_FALSE(stats[1].open);
    EXPECT_EQ(stats[1].error, "interface is down");
    EXPECT_TRUE(has_event(cap.take_events(), "vc: interface went down; still capturing on va"));

    ASSERT_TRUE(sh("ip link set vc up"));
    // Going down flushed the neighbour entry and the connected route came back with up.
    ASSERT_TRUE(sh("ip neigh replace 10.78.0.2 lladdr 02:00:00:00:02:02 dev vc nud permanent"));
    dispatch_until(cap, rec, [&] { return cap.stats()[1].open; });
    ASSERT_TRUE(cap.stats()[1].open);
    EXPECT_TRUE(has_event(cap.take_events(), "vc: interface is up again"));
    send_vc(sizes(200, 4));
    dispatch_until(cap, rec, [&] { return rec.count_on(1) >= 4; });
    EXPECT_EQ(rec.count_on(1), 4u);
  });
}

TEST(LiveCapture, InterfaceDownAtStartIsNotAnError) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    ASSERT_TRUE(sh("ip link set va down"));
    LiveOptions o;
    o.interfaces = {"va"};
    o.retry_interval_ms = 100;
    LiveCapture cap(o);
    EXPECT_FALSE(cap.stats()[0].open);
    EXPECT_TRUE(has_event(cap.take_events(), "va: interface is down"));
    ASSERT_TRUE(sh("ip link set va up"));
    Recorder rec;
    dispatch_until(cap, rec, [&] { return cap.stats()[0].open; });
    EXPECT_TRUE(cap.stats()[0].open);
  });
}

TEST(LiveCapture, UnknownInterfaceListsTheAvailableOnes) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    const auto e = construction_error(udp_on({"va", "nosuch0"}));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), CaptureError::Kind::no_such_interface);
    const std::string msg = e->what();
    for (const char* needle : {"'nosuch0'", "va", "10.77.0.1", "vb", "lo"}) {
      EXPECT_NE(msg.find(needle), std::string::npos) << needle << " in " << msg;
    }
  });
}

TEST(LiveCapture, BadFilterIsBadFilter) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(sh("ip link set lo up"));
    LiveOptions o = udp_on({"lo"});
    o.bpf = "udp and and port";
    const auto e = construction_error(o);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), CaptureError::Kind::bad_filter);
    EXPECT_NE(std::string(e->what()).find("'udp and and port'"), std::string::npos) << e->what();
  });
}

TEST(LiveCapture, BadFilterIsCaughtEvenWhenEveryInterfaceIsDown) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "", ""));
    ASSERT_TRUE(sh("ip link set va down"));
    LiveOptions o = udp_on({"va"});
    o.bpf = "port 99999999";
    const auto e = construction_error(o);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), CaptureError::Kind::bad_filter) << e->what();
  });
}

TEST(LiveCapture, AnyWithOtherInterfacesIsAUsageError) {
  const auto e = construction_error(udp_on({"lo", "any"}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), CaptureError::Kind::other);
  EXPECT_NE(std::string(e->what()).find("counted twice"), std::string::npos) << e->what();
}

TEST(LiveCapture, AnyDeviceDeliversCookedFrames) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    LiveOptions o;
    o.interfaces = {"any"};
    o.bpf = "udp and dst port 40000";
    LiveCapture cap(o);
    Recorder rec;
    send_va(sizes(100, 3));
    dispatch_until(cap, rec, [&] { return rec.seen.size() >= 6; });
    for (int i = 0; i < 3; ++i) cap.dispatch(100, rec);
    ASSERT_EQ(rec.seen.size(), 6u);  // out of va, into vb
    for (const auto& s : rec.seen) {
      EXPECT_TRUE(s.linktype == 276 || s.linktype == 113) << s.linktype;
      EXPECT_EQ(s.interface_id, 0u);
    }
  });
}

TEST(LiveCapture, DuplicateInterfaceNamesAreCapturedOnce) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    LiveOptions o;
    o.interfaces = {"va", "va"};
    LiveCapture cap(o);
    EXPECT_EQ(cap.interfaces(), std::vector<std::string>{"va"});
  });
}

TEST(LiveCapture, WakeEndsABlockedDispatchEarly) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "", ""));
    LiveCapture cap(udp_on({"vb"}));  // nothing will be sent
    Recorder rec;
    std::thread waker([&] { cap.wake(); });
    // Without the wake-up this would block for a minute and the test would time out.
    EXPECT_EQ(cap.dispatch(60'000, rec), 0u);
    waker.join();
  });
}

TEST(LiveCapture, HandlerExceptionPropagatesFromDispatch) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    LiveCapture cap(udp_on({"va"}));
    struct Thrower : PacketHandler {
      void on_packet(const RawPacket&) override { throw std::runtime_error("handler failed"); }
    } thrower;
    send_va({10});
    bool thrown = false;
    for (int i = 0; i < 50 && !thrown; ++i) {
      try {
        cap.dispatch(100, thrower);
      } catch (const std::runtime_error& e) {
        thrown = std::string(e.what()) == "handler failed";
      }
    }
    EXPECT_TRUE(thrown);
  });
}

// Batched delivery (LiveOptions::batch) copies each frame out of the ring: a second,
// unbatched handle on the same interface is the oracle for the bytes and the order.
// A frame above the copy limit (16 KiB; a 20,000-byte datagram over a 30,000-byte MTU)
// is handed over alone, after the batch before it.
TEST(LiveCapture, BatchedDeliveryHandsOverTheSameFramesInOrder) {
  NETSCOPE_IN_NETNS([] {
    ASSERT_TRUE(make_veth("va", "vb", 1, "10.77.0.1", "10.77.0.2"));
    ASSERT_TRUE(sh("ip link set dev va mtu 30000 && ip link set dev vb mtu 30000"));
    struct Frames : PacketHandler {
      void on_packet(const RawPacket& pkt) override {
        frames.emplace_back(pkt.data.begin(), pkt.data.end());
        orig.push_back(pkt.orig_len);
      }
      void on_packets(std::span<const RawPacket> pkts) override {
        calls.push_back(pkts.size());
        for (const RawPacket& p : pkts) on_packet(p);
        if (pkts.size() == 1 && pkts[0].orig_len > 16384) big_alone = true;
      }
      std::vector<std::vector<std::uint8_t>> frames;
      std::vector<std::uint32_t> orig;
      std::vector<std::size_t> calls;
      bool big_alone = false;
    } plain, batched;
    LiveOptions o = udp_on({"vb"});
    LiveCapture plain_cap(o);
    o.batch = 16;
    LiveCapture batched_cap(o);
    std::vector<std::size_t> payloads = sizes(100, 40);
    payloads.push_back(20000);
    for (std::size_t s : sizes(140, 10)) payloads.push_back(s);
    send_va(payloads);
    const std::size_t want = payloads.size();
    for (int i = 0; i < 50 && (plain.frames.size() < want || batched.frames.size() < want); ++i) {
      plain_cap.dispatch(100, plain);
      batched_cap.dispatch(0, batched);
    }
    ASSERT_EQ(plain.frames.size(), want);
    ASSERT_EQ(batched.frames.size(), want);
    EXPECT_TRUE(plain.calls.empty());  // batch 1: on_packet straight from the ring
    for (std::size_t i = 0; i < want; ++i) {
      EXPECT_EQ(batched.frames[i], plain.frames[i]) << "frame " << i;
      EXPECT_EQ(batched.orig[i], plain.orig[i]) << "frame " << i;
      EXPECT_EQ(batched.orig[i], kEthIpUdp + payloads[i]) << "frame " << i;
    }
    for (std::size_t n : batched.calls) EXPECT_LE(n, 16u);
    EXPECT_TRUE(batched.big_alone);
  });
}

// Drops CAP_NET_RAW from the effective set of the calling thread only: the raw capset
// syscall is per thread (glibc's wrappers for set*id would change every thread).
bool drop_net_raw_in_this_thread() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  data[0].effective &= ~(1u << CAP_NET_RAW);
  return ::syscall(SYS_capset, &hdr, data) == 0;
}

TEST(LiveCapture, MissingCapabilityNamesItAndGivesTheSetcapLine) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (to drop a capability it has)";
  std::thread t([] {
    ASSERT_TRUE(drop_net_raw_in_this_thread());
    const auto e = construction_error(udp_on({"lo"}));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), CaptureError::Kind::permission);
    const std::string msg = e->what();
    EXPECT_EQ(msg.rfind("netscope: cannot capture on lo: Operation not permitted.", 0), 0u) << msg;
    EXPECT_NE(msg.find("CAP_NET_RAW and CAP_NET_ADMIN"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sudo setcap cap_net_raw,cap_net_admin,"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unit_capture"), std::string::npos) << msg;  // /proc/self/exe
  });
  t.join();
}

}  // namespace
}  // namespace netscope::capture
