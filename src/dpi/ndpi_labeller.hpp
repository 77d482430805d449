#pragma once
// Optional application labels from nDPI (build option NETSCOPE_NDPI, Debian libndpi-dev).
// Our own parsers stay authoritative for every field they fill (app, sni, http_host,
// dns ...); nDPI only adds `ndpi_app` ("TLS.YouTube", "BitTorrent") and `ndpi_category`.
//
//   NdpiLabeller labeller(config, counters);      // one per Inspector (per flow shard)
//   labeller.feed(flow, pkt, dir, changed);       // every packet; starts at the first
//                                                 // with payload, stops once it is done
//   labeller.release(flow);                       // the flow ends before detection did
//   ndpi_names(flow, app, category);              // at snapshot time, once labelled
//
// Memory: nDPI's per-flow state (struct ndpi_flow_struct, 688 bytes in nDPI 4.2, plus
// what its dissectors allocate) exists only while detection runs, in one of at most
// `max_live` slots; it is freed as soon as nDPI names the flow, gives up, or the flow
// has had `max_packets` packets. A flow that finds every slot busy is not labelled
// (counted: ndpi_skipped). A slot whose flow vanished without release() (the engine
// frees a flow's DPI state only when it had a session) is reclaimed once it has been
// idle `stale_ns` of packet time, and only when a slot is needed (ndpi_reclaimed).
// The label itself lives in dpi::FlowState's padding: no bytes added per flow. Fixed
// cost: one nDPI detection module (5.4 MiB, ~200 ms to build) per thread that feeds
// packets, built on that thread's first packet (ndpi_labeller.cpp).
//
// Without NETSCOPE_NDPI, ndpi_labeller.cpp compiles to nothing and the dispatcher
// never refers to this class: the option off costs nothing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "decode/packet_view.hpp"
#include "dpi/inspector.hpp"

namespace netscope::dpi {

struct NdpiConfig {
  std::size_t max_live = 2048;     // nDPI flow states alive at once (per Inspector)
  std::uint16_t max_packets = 24;  // packets fed per flow before giving up (ndpiReader: -U 24)
  std::int64_t stale_ns = 30'000'000'000;  // a running slot idle this long may be reclaimed
};

class NdpiLabeller {
 public:
  // `counters` receives the ndpi_* counters; it must outlive the labeller.
  NdpiLabeller(const NdpiConfig& config, DpiCounters& counters);
  ~NdpiLabeller();
  NdpiLabeller(const NdpiLabeller&) = delete;
  NdpiLabeller& operator=(const NdpiLabeller&) = delete;

  // One TCP or UDP packet (not a fragment) of the flow; `dir` 0 is client -> server.
  // Sets `changed` when the flow got its label. Does nothing once the flow is labelled
  // or given up (FlowState::kNdpiDone).
  void feed(FlowState& flow, const decode::PacketView& pkt, int dir, bool& changed);
  // The flow ends while nDPI still runs on it: frees its slot, no label.
  void release(FlowState& flow);

  std::size_t live() const;  // slots in use now
  // sizeof(struct ndpi_flow_struct): the fixed per-flow cost while detection runs.
  static std::size_t flow_struct_size();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The flow's nDPI label ("HTTP.Wikipedia", "BitTorrent") and category ("Web"); both
// empty when the flow has none. Safe from any thread.
void ndpi_names(const FlowState& flow, std::string& app, std::string& category);

}  // namespace netscope::dpi
