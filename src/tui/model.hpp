#pragma once
// The TUI's view model: what the three tables (processes, connections, remotes) hold for
// one published snapshot, after the live filter and the sort, with no terminal involved.
// A Frame is rebuilt when a new snapshot is shown or the filter or a sort changes; moving
// the selection only redraws. Rows are pointers into the snapshot, which the Frame keeps
// alive, so a frame with 100,000 connections costs one pointer per row.

#include <sys/types.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/snapshot.hpp"
#include "tui/filter.hpp"
#include "tui/text.hpp"

namespace netscope::tui {

enum class Table { processes = 0, connections = 1, remotes = 2 };
inline constexpr std::size_t kTables = 3;
std::string_view table_name(Table t);   // "processes", "connections", "remotes"
std::string_view table_title(Table t);  // "Processes", ...

enum class ColumnId {
  // processes
  pid,
  user,
  process_name,
  container,
  conns,
  total,
  sparkline,
  // connections
  proto,
  local,
  remote,
  state,
  service,
  app_host,
  process,
  rtt,
  // remotes
  remote_addr,
  country,
  asn,
  // shared
  down,
  up,
};

// One column of a table. Widths are terminal cells. When the terminal is too narrow for
// every column, the ones with the highest `drop_rank` go first.
struct ColumnSpec {
  ColumnId id;
  std::string_view title;
  int min_width;
  int ideal_width;
  int grow;  // share of the space left once every column has its ideal width
  int drop_rank;
  bool right_align;
  bool descending_default;  // rates and counts sort busiest first; text sorts A-Z
};

const std::vector<ColumnSpec>& columns(Table t);

struct ColumnPlacement {
  std::size_t column;  // index into columns(t)
  int x;               // first cell, relative to the table's left edge
  int width;
};

// Lays the columns of `t` out in `width` cells, one blank between columns. Drops columns
// (highest drop_rank first) until the rest fit at their minimum width; the first kept
// column always stays, cut to the width if it must be.
std::vector<ColumnPlacement> layout_columns(Table t, int width);

struct SortSpec {
  std::size_t column = 0;  // index into columns(t)
  bool descending = true;
};
SortSpec default_sort(Table t);
// The next sortable column after `s` with that column's default direction.
SortSpec next_sort(Table t, const SortSpec& s);

// Which row is selected, kept across refreshes: the flow's 5-tuple, the pid (empty for
// the "<UNKNOWN>" row) or the remote address.
struct RowKey {
  bool valid = false;
  std::uint8_t proto = 0;
  core::IpAddress local_addr;
  std::uint16_t local_port = 0;
  core::IpAddress remote_addr;
  std::uint16_t remote_port = 0;
  std::optional<pid_t> pid;
  bool operator==(const RowKey&) const = default;
};
RowKey key_of(const monitor::ConnectionRecord& c);
RowKey key_of(const monitor::ProcessRecord& p);
RowKey key_of(const monitor::RemoteRecord& r);

struct ModelOptions {
  bool totals = false;        // `t`: cumulative bytes instead of rates (sorting follows)
  bool resolve = true;        // show host names (-n turns it off)
  bool port_numbers = false;  // `p`: 443 instead of https
  std::size_t top = 0;        // --top: at most N rows per table (0 = all)
  UnitStyle units;
  // The tables to build; the others stay empty (Frame::built) because the screen does not
  // show them, which spares filtering 100,000 connections once per hidden table.
  bool tables[3] = {true, true, true};
};

inline constexpr std::string_view kUnknownProcess = "<UNKNOWN>";

struct LazyOrder;  // model.cpp

// The parts of a SnapshotIndex that are made only for filters that need them (a record
// pass each): the bare words' packed text, and the string fields the index's constructor
// does not intern (bit f: FieldValues::Field f).
struct IndexParts {
  bool text = false;
  std::uint32_t fields = 0;
  bool empty() const { return !text && fields == 0; }
};
// Such parts, made apart from the index (on the preparer thread, from the immutable
// snapshot) and then handed to it on the UI thread (SnapshotIndex::adopt).
struct BuiltParts {
  std::shared_ptr<const monitor::Snapshot> snapshot;
  std::unique_ptr<ConnectionText> text;
  std::unique_ptr<FieldValues> fields[FieldValues::kCount];
};
BuiltParts build_parts(std::shared_ptr<const monitor::Snapshot> snap, IndexParts which);

// What every frame of one snapshot shares, computed when the snapshot is shown rather
// than in each frame (a filter edit, a sort change or a key rebuilds the frame, not
// this). A ConnectionRecord is ~1 KB, so a pass over 100,000 of them streams 100 MB: the
// sort keys live here in a compact array (40 bytes a connection), and the text of the
// bare-word search and the owner rows of each connection are made on the first frame
// that needs them and kept for the snapshot's life. Not thread-safe: one UI thread.
class SnapshotIndex : public PreparedRows {
 public:
  explicit SnapshotIndex(std::shared_ptr<const monitor::Snapshot> snap);
  const std::shared_ptr<const monitor::Snapshot>& snapshot() const { return snap_; }

  // Per connection, in snapshot order.
  struct ConnectionKeys {
    double rate_down = 0;
    double rate_up = 0;
    std::uint64_t bytes_down = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t tie = 0;  // a digest of the 5-tuple
  };
  const std::vector<ConnectionKeys>& keys() const { return keys_; }
  static constexpr std::uint32_t kNoRow = 0xFFFFFFFF;
  static constexpr std::uint32_t kUnattributed = 0xFFFFFFFE;
  // Built on first use (PreparedRows):
  const ConnectionText& text() const override;
  const FieldValues& field(FieldValues::Field f) const override;
  const ConnectionNumbers& numbers() const override;
  // The index in snapshot->processes of each connection's process (kUnattributed: no pid,
  // kNoRow: a pid without a process record), and in snapshot->remotes of its remote.
  const std::vector<std::uint32_t>& process_of() const;
  const std::vector<std::uint32_t>& remote_of() const;
  // The sort key of every connection (snapshot order) for a connections column other than
  // the rates (keys() serve those): 64 bits that order exactly as the column's comparison
  // does (text ranks among the column's distinct values, addresses by rank, then the
  // port), so that a sort compares integers and never reads a record. Made on first use.
  const std::vector<std::uint64_t>& column_keys(ColumnId col, const ModelOptions& opt) const;
  // The connections of a pid (none: the unattributed ones) or to a remote address, in
  // snapshot order, found through the compact columns.
  std::vector<const monitor::ConnectionRecord*> connections_of(std::optional<pid_t> pid) const;
  std::vector<const monitor::ConnectionRecord*> connections_to(const core::IpAddress& a) const;
  const monitor::ConnectionRecord* find_connection(const RowKey& key) const;
  // What frames with this filter need that is not built yet (`everything`: all parts, for
  // a filter being typed).
  IndexParts missing(const Filter& filter, bool everything = false) const;
  // Takes the parts built apart for this index's snapshot (others are ignored).
  void adopt(BuiltParts&& parts) const;
  // Builds now what frames with this filter will use (the preparer thread does, and the
  // benchmark times it apart; build_frame calls it too, for what is still missing).
  void prepare(const Filter& filter, const ModelOptions& opt, bool everything = false) const;

 private:
  std::shared_ptr<const monitor::Snapshot> snap_;
  std::vector<ConnectionKeys> keys_;
  static constexpr std::int64_t kNoPid = INT64_MIN;
  std::vector<std::uint64_t> rtt_keys_;
  std::vector<std::int64_t> pid_;             // kNoPid: unattributed
  std::vector<core::IpAddress> local_addrs_;  // distinct
  std::vector<core::IpAddress> remote_addrs_;
  std::vector<std::uint32_t> local_id_;  // per connection, into local_addrs_
  std::vector<std::uint32_t> remote_id_;
  mutable std::unique_ptr<ConnectionText> text_;
  mutable std::unique_ptr<FieldValues> fields_[FieldValues::kCount];
  mutable std::unique_ptr<ConnectionNumbers> numbers_;
  mutable std::vector<std::uint32_t> process_of_;
  mutable std::vector<std::uint32_t> remote_of_;
  mutable bool owners_built_ = false;
  static constexpr std::size_t kColumnIds = 24;
  mutable std::unique_ptr<std::vector<std::uint64_t>> column_keys_[kColumnIds][2];
  void build_owners() const;
};

// One rebuilt model. Everything points into `snapshot`.
//
// The connections table may hold 100,000 rows of which a screen shows 50, so it is sorted
// lazily: `connections` always holds every row, but only the positions asked for are in
// the final order. ensure_sorted(from, upto) puts [from, upto) in order (ensure_sorted(n):
// [0, n)); key_at() and find() call it, and so must any reader of connections[i] (the
// renderer asks for what it draws, export for everything).
struct Frame {
  std::shared_ptr<const monitor::Snapshot> snapshot;
  std::shared_ptr<const SnapshotIndex> index;
  std::vector<const monitor::ProcessRecord*> processes;
  mutable std::vector<const monitor::ConnectionRecord*> connections;
  mutable std::shared_ptr<LazyOrder> lazy;  // null: connections are fully sorted
  void ensure_sorted(std::size_t upto) const;
  void ensure_sorted(std::size_t from, std::size_t upto) const;
  std::vector<const monitor::RemoteRecord*> remotes;
  // Unattributed groups (one per reason) folded into one "<UNKNOWN>" row, as bandwhich
  // shows them; the reasons stay in `unknown_groups` for the detail view.
  std::unique_ptr<monitor::ProcessRecord> unknown;
  std::vector<const monitor::ProcessRecord*> unknown_groups;
  std::size_t total_rows[kTables] = {0, 0, 0};  // before the filter
  bool built[kTables] = {false, false, false};  // ModelOptions::tables

  std::size_t rows(Table t) const;
  RowKey key_at(Table t, std::size_t i) const;
  // Row index of `key` in table t, if it is there.
  std::optional<std::size_t> find(Table t, const RowKey& key) const;
  const monitor::ProcessRecord* process(const RowKey& key) const;
  const monitor::ConnectionRecord* connection(const RowKey& key) const;
  const monitor::RemoteRecord* remote(const RowKey& key) const;
  // Every connection of the snapshot (not only the filtered ones) owned by this process
  // row (pid empty: the unattributed ones) or going to this remote address.
  std::vector<const monitor::ConnectionRecord*> connections_of(
      const monitor::ProcessRecord& p) const;
  std::vector<const monitor::ConnectionRecord*> connections_to(const core::IpAddress& a) const;
};

// Builds the rows of every table: filter, then sort (ties broken by identity, so equal
// rows keep their places), then --top.
// `unattributed_dns` joins the "<UNKNOWN>" row's DNS history (SnapshotMailbox).
Frame build_frame(std::shared_ptr<const SnapshotIndex> index, const Filter& filter,
                  const SortSpec (&sorts)[kTables], const ModelOptions& opt,
                  const std::vector<monitor::DnsEventRecord>& unattributed_dns = {});
// The same with an index made for this one frame.
Frame build_frame(std::shared_ptr<const monitor::Snapshot> snap, const Filter& filter,
                  const SortSpec (&sorts)[kTables], const ModelOptions& opt,
                  const std::vector<monitor::DnsEventRecord>& unattributed_dns = {});

// The text of one cell (before truncation to the column's width).
std::string cell_text(Table t, ColumnId col, const Frame& f, std::size_t row,
                      const ModelOptions& opt);
std::string process_cell(ColumnId col, const monitor::ProcessRecord& p, const ModelOptions& opt);
std::string connection_cell(ColumnId col, const monitor::ConnectionRecord& c,
                            const ModelOptions& opt);
std::string remote_cell(ColumnId col, const monitor::RemoteRecord& r, const ModelOptions& opt);

// "10.0.0.1:443", "[2001:db8::1]:https"; a port 0 (ICMP) is left out.
std::string endpoint_text(const core::IpAddress& a, std::uint16_t port, std::uint8_t proto,
                          bool port_numbers);
// The remote end as shown: the host name when known and resolving, else the address.
std::string remote_text(const monitor::ConnectionRecord& c, const ModelOptions& opt);
// What the application column shows: SNI, else HTTP Host, else the protocol name.
std::string_view app_host(const monitor::ConnectionRecord& c);

// How close a connection is to its idle timeout: 0 normal, 1 from 75 %, 2 from 90 %.
int staleness_level(const monitor::ConnectionRecord& c, core::Timestamp now);

}  // namespace netscope::tui
