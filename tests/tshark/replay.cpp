#include "replay.hpp"

#include <unordered_map>

#include "capture/file_reader.hpp"
#include "capture/raw_packet.hpp"
#include "core/flow_key.hpp"
#include "decode/decode.hpp"

namespace netscope::test {

namespace {

struct KeyHash {
  std::size_t operator()(const core::FlowKey& k) const { return core::hash_flow_key(k); }
};

struct Conn {
  std::uint32_t index = 0;
  bool client_is_a = true;
};

}  // namespace

ReplayResult replay_tcp(const std::string& path) {
  capture::FileReader reader;
  reader.open(path);
  ReplayResult out;
  std::unordered_map<core::FlowKey, Conn, KeyHash> conns;
  capture::RawPacket raw;
  decode::PacketView view;
  decode::AnomalyCounters anomalies;
  while (reader.next(raw)) {
    ++out.total_frames;
    view.ts = raw.ts;
    if (!decode::decode_packet(raw.linktype, raw.data, raw.orig_len, view, anomalies)) continue;
    // Non-first fragments carry no TCP header; tshark does not reassemble IP fragments
    // into TCP analysis either unless the whole datagram is present.
    if (!view.is_tcp() || (view.is_fragment && !view.first_fragment)) continue;
    // IP length beyond the frame and no payload left once trimmed: tshark flags nothing
    // on such a frame, and monitor::Engine does not feed it to the tracker.
    if (view.ip_len_excess != 0 && view.payload_len == 0) continue;
    // tshark keys TCP conversations on addresses and ports only: the same connection
    // seen on two VLANs (zeek/ldap_gap-data-missing.pcapng: client and server frames
    // come from differently tagged interfaces) is one stream. Key the same way here.
    const auto oriented =
        core::make_flow_key(view.src, view.sport, view.dst, view.dport, view.ip_proto);
    auto [it, inserted] = conns.try_emplace(oriented.key);
    if (inserted) {
      it->second.index = static_cast<std::uint32_t>(out.trackers.size());
      out.trackers.emplace_back();
      const bool syn = (view.tcp_flags & decode::tcp_flag::syn) != 0;
      const bool ack = (view.tcp_flags & decode::tcp_flag::ack) != 0;
      // A SYN+ACK seen first comes from the server.
      it->second.client_is_a = (syn && ack) ? !oriented.src_is_a : oriented.src_is_a;
    }
    const int dir = oriented.src_is_a == it->second.client_is_a ? 0 : 1;
    const std::uint32_t flags = out.trackers[it->second.index].on_segment(dir, view);
    out.frames[out.total_frames] = FrameFlags{out.total_frames, flags, dir, it->second.index};
  }
  return out;
}

}  // namespace netscope::test
