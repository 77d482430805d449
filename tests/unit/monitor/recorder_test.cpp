// Recorder without a network: the byte ring, the decision table, and a whole recording
// of one connection of a shared capture (packets before the decision wait, then go to
// the file with their comment), read back with FileReader and, when installed, tshark.

#include "monitor/recorder.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/file_reader.hpp"
#include "decode/decode.hpp"
#include "monitor/recorder_impl.hpp"
#include "monitor/recorder_ring.hpp"

namespace netscope::monitor {
namespace {

TEST(RecorderRing, records_come_out_whole_and_in_order_across_the_wrap) {
  RecorderRing ring(64 << 10);
  std::vector<std::uint8_t> payload(3000);
  std::uint32_t pushed = 0;
  std::uint32_t seen = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 7; ++i) {
      for (std::size_t b = 0; b < payload.size(); ++b) {
        payload[b] = static_cast<std::uint8_t>(pushed + b);
      }
      RecordHeader h;
      h.recording = pushed;
      const std::size_t len = 100 + (pushed * 37) % 2900;
      if (ring.try_push(h, std::span(payload.data(), len))) ++pushed;
    }
    ring.drain([&](const RecordHeader& h, std::span<const std::uint8_t> d) {
      ASSERT_EQ(h.recording, seen);
      ASSERT_EQ(d.size(), 100 + (seen * 37) % 2900);
      for (std::size_t b = 0; b < d.size(); ++b) {
        ASSERT_EQ(d[b], static_cast<std::uint8_t>(seen + b));
      }
      ++seen;
    });
  }
  EXPECT_EQ(seen, pushed);
  EXPECT_GT(pushed, 1000U);  // many times the ring's size went through it
}

TEST(RecorderRing, a_full_ring_refuses_instead_of_waiting) {
  RecorderRing ring(64 << 10);
  std::vector<std::uint8_t> payload(1000);
  int accepted = 0;
  while (ring.try_push(RecordHeader{}, payload) && accepted < 1000) ++accepted;
  EXPECT_LT(accepted, 70);
  EXPECT_GT(accepted, 50);
  EXPECT_FALSE(ring.try_push(RecordHeader{}, payload));
  std::size_t n = ring.drain([](const RecordHeader&, std::span<const std::uint8_t>) {});
  EXPECT_EQ(n, static_cast<std::size_t>(accepted));
  EXPECT_TRUE(ring.try_push(RecordHeader{}, payload));
}

// A flood of new flows whose packets wait for a decision: the writer holds at most
// max_flows of them (each new one past that is dropped and counted, not given an empty
// buffer), whatever the byte budget has left.
TEST(RecorderWriter, a_flood_of_undecided_flows_holds_at_most_max_flows) {
  RecorderConfig cfg;
  cfg.max_flows = 1000;
  RecorderRing ring(1 << 20);
  std::mutex mu;
  std::map<std::uint32_t, RecordingInfo> infos;
  std::vector<std::string> names;
  std::vector<std::string> files;
  RecorderStats stats;
  RecorderWriter writer(cfg, ring, mu, infos, names, files, stats);
  std::atomic<bool> stop{false};
  std::thread t([&] { writer.run(stop); });
  const std::vector<std::uint8_t> payload(100, 0xab);
  constexpr std::uint32_t kFlows = 20'000;
  for (std::uint32_t i = 0; i < kFlows; ++i) {
    RecordHeader h;
    h.kind = RecordKind::packet;
    h.recording = 0;  // not decided yet
    h.cap_len = h.orig_len = static_cast<std::uint32_t>(payload.size());
    h.key = core::make_flow_key(core::IpAddress::from_v4(0x0a000001 + i), 40000,
                                core::IpAddress::from_v4(0x0a800001), 80, 6)
                .key;
    while (!ring.try_push(h, payload)) std::this_thread::yield();
  }
  stop.store(true, std::memory_order_release);
  t.join();
  std::lock_guard lock(mu);
  EXPECT_EQ(stats.pending_flows, 1000u);
  EXPECT_EQ(stats.pending_dropped, kFlows - 1000u);
}

TEST(DecisionTable, finds_what_was_put_until_cleared) {
  DecisionTable t(100);
  std::vector<core::FlowKey> keys;
  for (std::uint32_t i = 0; i < 150; ++i) {
    keys.push_back(core::make_flow_key(core::IpAddress::from_v4(0x0a000001), 1000 + i,
                                       core::IpAddress::from_v4(0x0a000002), 80, 6)
                       .key);
    ASSERT_TRUE(t.put(keys.back(), i % 3));
  }
  for (std::uint32_t i = 0; i < 150; ++i) {
    const std::uint32_t* r = t.find(keys[i]);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(*r, i % 3);
  }
  t.clear();
  EXPECT_EQ(t.find(keys[0]), nullptr);
}

std::string pcap_path(const char* name) {
  return std::string(NETSCOPE_PCAPS) + "/" + name;
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

// Every packet of captures_http.cap goes through the recorder; the snapshot after them
// says that the connection from port 3372 belongs to "firefox", pid 4242, which is
// recorded. The file must hold exactly that connection's packets, from its SYN, each with
// its comment, and nothing of the other connection or the DNS exchange.
TEST(Recorder, waits_for_attribution_then_writes_the_whole_connection) {
  const std::string dir = ::testing::TempDir() + "/recorder_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  RecorderConfig cfg;
  cfg.pids = {4242};
  cfg.dir = dir;
  cfg.version = "9.9.9";
  Recorder rec(cfg);

  capture::FileReader in;
  in.open(pcap_path("packetmancer/captures_http.cap"));
  capture::RawPacket pkt;
  decode::AnomalyCounters anomalies;
  std::size_t wanted = 0;
  core::IpAddress local;
  core::IpAddress remote;
  core::Timestamp first;
  core::Timestamp last;
  while (in.next(pkt)) {
    decode::PacketView v;
    decode::decode_packet(pkt.linktype, pkt.data, pkt.orig_len, v, anomalies);
    v.ts = pkt.ts;
    if (!v.has_ip()) continue;
    if (v.sport == 3372 || v.dport == 3372) {
      ++wanted;
      if (wanted == 1) {
        local = v.src;
        remote = v.dst;
        first = pkt.ts;
      }
      last = pkt.ts;
    }
    rec.on_packet(pkt, v);
  }
  ASSERT_GT(wanted, 10U);

  Snapshot snap;
  snap.time = last;
  ProcessRecord p;
  p.pid = 4242;
  p.name = "firefox";
  snap.processes.push_back(p);
  ConnectionRecord c;
  c.proto = 6;
  c.local_addr = local;
  c.local_port = 3372;
  c.remote_addr = remote;
  c.remote_port = 80;
  c.pid = 4242;
  c.process = "firefox";
  c.first_seen = first;
  snap.connections.push_back(c);
  InterfaceRecord eth0;
  eth0.name = "eth0";
  snap.interfaces.push_back(eth0);
  rec.set_interfaces({"eth0"});
  rec.on_tick(snap);
  EXPECT_TRUE(rec.recording(4242));
  rec.finish();

  const std::vector<std::string> files = rec.files();
  ASSERT_EQ(files.size(), 1U);
  const std::string name = std::filesystem::path(files[0]).filename();
  EXPECT_EQ(name.rfind("capture_firefox_4242_", 0), 0U) << name;
  struct stat st {};
  ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  capture::FileReader back;
  back.open(files[0]);
  std::size_t got = 0;
  bool first_is_syn = false;
  while (back.next(pkt)) {
    decode::PacketView v;
    decode::decode_packet(pkt.linktype, pkt.data, pkt.orig_len, v, anomalies);
    EXPECT_TRUE(v.sport == 3372 || v.dport == 3372);
    if (got == 0) first_is_syn = v.tcp_flags == decode::tcp_flag::syn;
    ++got;
  }
  EXPECT_EQ(got, wanted);
  EXPECT_TRUE(first_is_syn);
  ASSERT_EQ(back.interfaces().size(), 1U);
  EXPECT_EQ(back.interfaces()[0].name, "eth0");
  EXPECT_EQ(rec.stats().packets_written, wanted);

  if (::access("/usr/bin/tshark", X_OK) == 0) {
    const std::string comments =
        run("tshark -n -r '" + files[0] + "' -T fields -e frame.comment 2>/dev/null");
    std::size_t lines = 0;
    for (std::size_t at = 0;
         (at = comments.find("process=firefox pid=4242\n", at)) != std::string::npos; ++at) {
      ++lines;
    }
    EXPECT_EQ(lines, wanted) << comments;
    const std::string info = run("capinfos '" + files[0] + "' 2>/dev/null");
    EXPECT_NE(info.find("netscope 9.9.9"), std::string::npos) << info;
  }
}

// A live capture lags the tick: the tick may see a process exit while its last packets
// (the FIN, the peer's last ACK) are still in the capture ring. The recording outlives
// the process by exit_linger_s, so those packets reach the file, and then it stops.
TEST(Recorder, keeps_recording_an_exited_process_for_the_linger) {
  const std::string dir = ::testing::TempDir() + "/recorder_linger_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  RecorderConfig cfg;
  cfg.pids = {4242};
  cfg.dir = dir;
  cfg.exit_linger_s = 3;
  Recorder rec(cfg);
  rec.set_interfaces({"eth0"});

  struct Stored {
    capture::RawPacket pkt;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Stored> flow;
  capture::FileReader in;
  in.open(pcap_path("packetmancer/captures_http.cap"));
  capture::RawPacket pkt;
  decode::AnomalyCounters anomalies;
  while (in.next(pkt)) {
    decode::PacketView v;
    decode::decode_packet(pkt.linktype, pkt.data, pkt.orig_len, v, anomalies);
    if (v.has_ip() && (v.sport == 3372 || v.dport == 3372)) {
      flow.push_back(Stored{pkt, {pkt.data.begin(), pkt.data.end()}});
    }
  }
  ASSERT_GT(flow.size(), 10U);
  const auto feed = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      capture::RawPacket p = flow[i].pkt;
      p.data = flow[i].bytes;
      decode::PacketView v;
      decode::decode_packet(p.linktype, p.data, p.orig_len, v, anomalies);
      v.ts = p.ts;
      rec.on_packet(p, v);
    }
  };
  decode::PacketView v0;
  decode::decode_packet(flow[0].pkt.linktype, flow[0].bytes, flow[0].pkt.orig_len, v0, anomalies);

  const auto snapshot_at = [&](core::Timestamp t) {
    Snapshot snap;
    snap.time = t;
    ProcessRecord p;
    p.pid = 4242;
    p.name = "firefox";
    p.exited = true;  // every tick sees it gone already
    snap.processes.push_back(p);
    ConnectionRecord c;
    c.proto = 6;
    c.local_addr = v0.src;
    c.local_port = 3372;
    c.remote_addr = v0.dst;
    c.remote_port = 80;
    c.pid = 4242;
    c.process = "firefox";
    c.first_seen = flow[0].pkt.ts;
    snap.connections.push_back(c);
    return snap;
  };
  const std::size_t half = flow.size() / 2;
  const core::Timestamp t0 = flow[half - 1].pkt.ts;
  feed(0, half);
  rec.on_tick(snapshot_at(t0));  // first seen exited: recorded, its first half flushed
  EXPECT_TRUE(rec.recording(4242));
  feed(half, flow.size());  // the rest arrives after the tick that saw the exit
  rec.on_tick(snapshot_at(core::Timestamp{t0.ns + 2'000'000'000}));
  EXPECT_TRUE(rec.recording(4242)) << "stopped before the linger passed";
  rec.on_tick(snapshot_at(core::Timestamp{t0.ns + 3'000'000'000}));
  EXPECT_FALSE(rec.recording(4242)) << "still recording after the linger";
  rec.finish();

  const std::vector<std::string> files = rec.files();
  ASSERT_EQ(files.size(), 1U);
  capture::FileReader back;
  back.open(files[0]);
  std::size_t got = 0;
  while (back.next(pkt)) ++got;
  EXPECT_EQ(got, flow.size());
  EXPECT_EQ(rec.stats().packets_written, flow.size());
}

TEST(Recorder, bad_directory_and_regex_name_the_option) {
  RecorderConfig cfg;
  cfg.dir = "/nonexistent/dir";
  try {
    Recorder r(cfg);
    FAIL() << "accepted a missing directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--pcap-dir /nonexistent/dir"), std::string::npos);
  }
  cfg.dir = ::testing::TempDir();
  cfg.process_regex = "(";
  try {
    Recorder r(cfg);
    FAIL() << "accepted a bad regex";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--record-process"), std::string::npos);
  }
}

}  // namespace
}  // namespace netscope::monitor
