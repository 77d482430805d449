#pragma once
// JSON records for the live outputs (--json-lines, the snapshot document and anything
// later that speaks JSON), one builder per record kind, with exactly the keys of
// ARCHITECTURE.md "Records and their keys". Unknown values are null, never 0 or "";
// times are RFC 3339 UTC with microseconds; durations carry their unit in the key.
//
// Keys beyond the Conventions' lists, all always present:
// - connection: `interface`, `close_reason`, `timeout_s` (idle timeout of the current
//   state), `health_up` / `health_down` (TCP health per direction; null for non-TCP),
//   `service` (the server port's name from /etc/services, null when it has none) and
//   `state_heuristic` (true when `state` was inferred from packet sizes, as SSH's
//   states after the key exchange are). The DPI keys are null when not learnt.
// - process: `packets_up`, `packets_down`, `unknown_reason` (the reason of an
//   "<UNKNOWN>" group, else null), `history` ([[up, down], ...] bytes/s per tick,
//   oldest first) and `dns_history` (its latest DNS events, oldest first).
// - dns event: `rcode_code`; `answers` is null when no response was seen.
// - totals: `dns_events` (seen since the start) and `dns_dropped` (lost to a bound).
// - interface: `up` and `error` (why capture stopped on it; null while fine).
//
// Records use ordered_json so that keys come out in the documented order. Serialise
// with dump_json() below: names, command lines and DNS names are not always valid UTF-8,
// and nlohmann's default dump throws on those.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/snapshot.hpp"
#include "output/ranking.hpp"

namespace netscope::output {

using Json = nlohmann::ordered_json;

// `now`: the snapshot's time, for `staleness` (monitor::staleness).
Json connection_json(const monitor::ConnectionRecord& c, core::Timestamp now);
Json process_json(const monitor::ProcessRecord& p);
Json remote_json(const monitor::RemoteRecord& r);
Json interface_json(const monitor::InterfaceRecord& i);
Json dns_json(const monitor::DnsEventRecord& d);
Json totals_json(const monitor::Totals& t);
Json tcp_health_json(const monitor::TcpHealthRecord& h);

// Compact when indent < 0, else pretty with `indent` spaces. Invalid UTF-8 is replaced
// with U+FFFD instead of throwing.
std::string dump_json(const Json& j, int indent = -1);

// Writes one JSON object a member (or an array element) at a time, as dump_json() of the
// whole object would print it, so that a table of records never exists as one Json tree:
// 100,000 connections take ~290 MB as a tree, ~165 MB as text and one record at a time
// here. Text is appended to `text`; with a `sink`, it moves to the sink whenever it
// exceeds kChunk bytes, and at end(). Members are written in call order.
class JsonObjectWriter {
 public:
  static constexpr std::size_t kChunk = 64 * 1024;
  JsonObjectWriter(std::string& text, int indent, std::ostream* sink = nullptr);

  void member(std::string_view key, const Json& value);
  // An array member: begin_array(), element()s, end_array().
  void begin_array(std::string_view key);
  void element(const Json& value);
  void end_array();
  // Closes the object, appends `trailer` and hands everything left to the sink.
  void end(std::string_view trailer = {});

  // An array member of build(r) for every record r, in order.
  template <typename Record, typename Build>
  void array(std::string_view key, const std::vector<Record>& records, Build build) {
    begin_array(key);
    for (const Record& r : records) element(build(r));
    end_array();
  }
  // The same, in the order (and at most the number) rank() gives (ranking.hpp).
  template <typename Record, typename Build>
  void ranked_array(std::string_view key, const std::vector<Record>& records,
                    const RankOptions& opt, Build build) {
    begin_array(key);
    for (const Record* r : rank(pointers_to(records), opt)) element(build(*r));
    end_array();
  }

 private:
  void open_member(std::string_view key);
  // `value` dumped, its lines indented for `depth` levels of nesting.
  void put(const Json& value, int depth);
  void spaces(int depth);
  void spill(bool all);

  std::string& text_;
  int indent_;
  std::ostream* sink_;
  std::size_t members_ = 0;
  std::size_t elements_ = 0;
};

}  // namespace netscope::output
