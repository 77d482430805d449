#pragma once
// FrameKeeper: when the UI thread rebuilds its Frame, shared by the app's loop
// (src/tui/app.cpp) and the frame benchmark (bench/tui_render.cpp). It holds the index of
// the snapshot shown and the frame built from it. A frame is rebuilt when a new index
// arrives, a key asks for it, or a table comes on screen. When the filter needs parts the
// index lacks (the packed text of a bare word, a string field; a record pass each, tens of
// milliseconds with 100,000 connections), it asks the preparer thread for them instead of
// building them here, and keeps showing the last frame (the filter prompt already shows
// the new text) until they arrive; the same while the user types a filter, so that the
// parts are there by the first keystroke. Only a table that is on screen but was never
// built is built at once, whatever it costs.

#include <memory>
#include <optional>
#include <vector>

#include "monitor/snapshot.hpp"
#include "tui/model.hpp"
#include "tui/state.hpp"

namespace netscope::tui {

struct PartsRequest {
  std::shared_ptr<const monitor::Snapshot> snapshot;
  IndexParts which;
};

class FrameKeeper {
 public:
  // A new index from the preparer.
  void set_index(std::shared_ptr<const SnapshotIndex> index);
  // Parts from the preparer (ignored when they are for another snapshot).
  void adopt(std::unique_ptr<BuiltParts> parts);
  void request_rebuild() { rebuild_ = true; }
  // Makes the frame current for `s` where it can (true when it rebuilt it). *request gets
  // what to ask the preparer for, if anything.
  bool update(UiState& s, const std::vector<monitor::DnsEventRecord>& unattributed_dns,
              std::optional<PartsRequest>* request);
  // Whether the frame shown waits for parts (the table is one filter edit behind).
  bool waiting() const { return waiting_; }
  const Frame& frame() const { return frame_; }
  const std::shared_ptr<const SnapshotIndex>& index() const { return index_; }

 private:
  std::shared_ptr<const SnapshotIndex> index_;
  Frame frame_;
  bool rebuild_ = true;
  bool asked_ = false;  // parts asked for the index shown, not arrived yet
  bool waiting_ = false;
};

}  // namespace netscope::tui
