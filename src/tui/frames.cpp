#include "tui/frames.hpp"

namespace netscope::tui {

void FrameKeeper::set_index(std::shared_ptr<const SnapshotIndex> index) {
  index_ = std::move(index);
  asked_ = false;
  rebuild_ = true;
}

void FrameKeeper::adopt(std::unique_ptr<BuiltParts> parts) {
  if (!parts || !index_ || parts->snapshot != index_->snapshot()) return;
  index_->adopt(std::move(*parts));
  asked_ = false;
  rebuild_ = true;
}

bool FrameKeeper::update(UiState& s, const std::vector<monitor::DnsEventRecord>& unattributed_dns,
                         std::optional<PartsRequest>* request) {
  bool table_missing = false;
  for (std::size_t i = 0; i < kTables; ++i) {
    if (s.model.tables[i] && !frame_.built[i]) table_missing = true;
  }
  if (table_missing) rebuild_ = true;
  bool ready = true;
  if (index_) {
    // While the user types a filter, every part any filter could use.
    const IndexParts want = index_->missing(s.filter, s.mode == Mode::filter);
    if (!want.empty() && !asked_ && request != nullptr) {
      *request = PartsRequest{index_->snapshot(), want};
      asked_ = true;
    }
    ready = index_->missing(s.filter).empty() || request == nullptr;
  }
  waiting_ = rebuild_ && !ready && !table_missing;
  if (!rebuild_ || waiting_) return false;
  frame_ = build_frame(index_, s.filter, s.sort, s.model, unattributed_dns);
  sync_selection(s, frame_);
  rebuild_ = false;
  return true;
}

}  // namespace netscope::tui
