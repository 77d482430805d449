#pragma once
// Filter: the TUI's live filter language (README "TUI filter language"), parsed once when
// the user edits the filter and then matched against every row of every frame.
//
//   firefox port:443 !state:time_wait dst:10.0.0.0/8 sni:/goog(le)?\.com$/
//
// Terms separated by spaces are ANDed. A bare word is a case-insensitive substring of any
// field of the row; `key:value` tests one field; a leading `!` negates a term; a value in
// slashes is an ECMAScript regex (case-insensitive); a value in double quotes may hold
// spaces. parse() never throws: a bad filter yields nullopt and a FilterError naming the
// byte offset of the culprit.
//
// Matching is cheap by design (the TUI filters 100,000 connections per frame): needles are
// lowercased once at parse time, numbers, addresses and networks are parsed once, and a
// substring match neither allocates nor formats numbers or addresses unless the needle
// could occur in them. A regex term remembers its answer per distinct field text (bounded
// memo), since std::regex costs microseconds per search and the fields repeat. A Filter is
// immutable after parse(); copies share the parsed terms, and matching from several
// threads at once is safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/snapshot.hpp"

namespace netscope::tui {

class FastRegex;  // tui/fast_regex.hpp

// The text a bare word searches in each connection of one snapshot, lowercased and
// prepared once when the snapshot is shown (SnapshotIndex), so that a frame scans a few
// megabytes of packed text instead of 24 strings in each ~1 KB record. Three sections per
// row, each field followed by a '\0' so that no match spans two fields or two rows: the
// text fields; the numbers (pid, "as" + ASN, HTTP status), searched when a needle holds a
// digit; the endpoints as shown ("10.0.0.1:443"), searched when a needle could be part of
// an address.
class ConnectionText {
 public:
  ConnectionText() = default;
  explicit ConnectionText(std::span<const monitor::ConnectionRecord> rows);
  std::size_t rows() const { return text_end_.size(); }
  std::size_t bytes() const { return text_.size() + numbers_.size() + addresses_.size(); }
  // Drops the bare words' hits kept for the next frames (a benchmark times a cold scan).
  void forget_scanned() const {
    const std::lock_guard lock(scanned_mutex_);
    scanned_.clear();
  }

 private:
  friend class Filter;
  std::string text_;
  std::string numbers_;
  std::string addresses_;
  std::vector<std::size_t> text_end_;  // row j: [end[j - 1], end[j])
  std::vector<std::size_t> numbers_end_;
  std::vector<std::size_t> addresses_end_;
  bool nul_ = false;  // a text field held a '\0' (a bare regex then reads the records)
  // The last bare words scanned and their hits: the same word in the next frame (a sort
  // change, a key) reuses them, and a longer word typed next (one that contains an earlier
  // one and searches no more sections) scans only the rows the earlier one hit.
  struct Scanned {
    std::string needle;
    bool numbers = false;
    bool addresses = false;
    std::size_t count = 0;
    std::vector<std::uint8_t> hit;
  };
  static constexpr std::size_t kScannedKept = 4;
  mutable std::mutex scanned_mutex_;
  mutable std::vector<Scanned> scanned_;  // most recent last
};

// One string field of every connection of a snapshot as ids into its distinct values,
// made once per snapshot (SnapshotIndex), so that a keyword term tests each distinct value
// once per frame (a regex runs ~1,000 times, not 100,000) and then reads one id per row.
class FieldValues {
 public:
  enum Field : std::uint8_t {
    proto_name,
    remote_host,
    state,
    kernel_state,
    process,
    app,
    sni,
    http_host,
    country,
    asn_org,
    alert,
    service,   // for the sort (SnapshotIndex::column_keys)
    app_host,  // SNI, else HTTP Host, else the protocol name: the APP/HOST column
    ndpi_app,  // nDPI's label (NETSCOPE_NDPI builds), which app: tests too
    kCount,
  };
  FieldValues() = default;
  FieldValues(std::span<const monitor::ConnectionRecord> rows, Field f);
  static std::string_view of(const monitor::ConnectionRecord& c, Field f);
  std::vector<std::string_view> values;  // distinct, pointing into the snapshot
  std::vector<std::uint32_t> ids;        // per row
};

// The numbers that port:, sport:, dport:, pid: and proto: test, one compact column each,
// made once per snapshot (SnapshotIndex): a frame reads 13 bytes a row, not a record.
struct ConnectionNumbers {
  ConnectionNumbers() = default;
  explicit ConnectionNumbers(std::span<const monitor::ConnectionRecord> rows);
  std::vector<std::uint16_t> local_port;
  std::vector<std::uint16_t> remote_port;
  std::vector<std::uint8_t> proto;
  std::vector<std::int64_t> pid;  // -1: none
};

// Where frame-at-once matching finds a snapshot's prepared columns (SnapshotIndex).
class PreparedRows {
 public:
  virtual ~PreparedRows() = default;
  virtual const ConnectionNumbers& numbers() const = 0;
  virtual const ConnectionText& text() const = 0;
  virtual const FieldValues& field(FieldValues::Field f) const = 0;
};

struct FilterError {
  std::size_t offset = 0;  // byte offset into the filter text
  std::string message;
};

class Filter {
 public:
  Filter() = default;  // matches everything
  // nullopt and *error (when given) on a syntax error. An all-blank text is the empty filter.
  static std::optional<Filter> parse(std::string_view text, FilterError* error);

  bool empty() const;
  bool matches(const monitor::ConnectionRecord& c) const;
  // Process / remote rows: terms on fields the row lacks are tested against its connections
  // (true if any matches).
  bool matches(const monitor::ProcessRecord& p,
               std::span<const monitor::ConnectionRecord* const> conns) const;
  bool matches(const monitor::RemoteRecord& r,
               std::span<const monitor::ConnectionRecord* const> conns) const;

  // Frame-at-once matching (model.cpp's build_frame); `row` is the connection's index in
  // the snapshot. BareHits holds terms decided for every row ahead: hits[term][row] != 0
  // (a term without a vector is matched field by field).
  //
  // The bare words' hits over `text`, found with one scan of the packed text per word.
  // Empty when no term is a plain bare word.
  using BareHits = std::vector<std::vector<std::uint8_t>>;
  BareHits bare_hits(const ConnectionText& text) const;
  bool matches(const monitor::ConnectionRecord& c, std::size_t row, const BareHits& hits) const;
  // Which terms are positive on `c` (bit i: term i without its `!`), for the overview: a
  // process or remote row's terms are then decided from the OR of its connections' bits,
  // after one pass over the connections instead of one per table. Filters of more than
  // 64 terms are not supported here (term_bits_supported()).
  bool term_bits_supported() const;
  std::uint64_t term_bits(const monitor::ConnectionRecord& c, std::size_t row,
                          const BareHits& hits) const;
  bool matches_bits(std::uint64_t bits) const;  // a connection, from its own bits
  bool matches_bits(const monitor::ProcessRecord& p, std::uint64_t any_bits) const;
  bool matches_bits(const monitor::RemoteRecord& r, std::uint64_t any_bits) const;
  // Whether some term is a bare word that bare_hits() serves.
  bool uses_text() const;
  // The keyword terms on string fields (process:, sni:/host:, app:, proto:, state:,
  // country:, alert:, asn: by name), decided once per distinct field value, and the number
  // terms (port:, sport:, dport:, pid:, proto:) from the compact columns: fills their
  // entries of `hits` (sized to the terms when empty).
  void field_hits(const PreparedRows& rows, BareHits& hits) const;
  // The fields field_hits() reads: bit f set for FieldValues::Field f; and whether it reads
  // the ConnectionNumbers (number terms on ports, pid, proto are decided there too).
  std::uint32_t fields_used() const;
  bool uses_numbers() const;

  // Whether some term needs the row's connections to decide a process / remote row (so a
  // caller may skip gathering them when it does not).
  bool process_needs_connections() const;
  bool remote_needs_connections() const;
  bool needs_connections() const;  // either of the two
  // The text the filter was parsed from (empty for the default filter).
  const std::string& text() const;

  struct Program;  // the parsed terms (filter.cpp)

 private:
  // A bare word's hits over the packed text, narrowed from an earlier word's (bare_hits).
  static void word_hits(const std::string& needle, bool numbers, bool addresses,
                        const ConnectionText& text, std::vector<std::uint8_t>& hit);
  // A bare regex's hits over the packed text (bare_hits).
  static void regex_hits(const FastRegex& re, const ConnectionText& text,
                         std::vector<std::uint8_t>& hit);
  std::shared_ptr<const Program> program_;  // null: matches everything; shared: cheap copies
};

}  // namespace netscope::tui
