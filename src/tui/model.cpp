#include "tui/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <compare>
#include <cstring>
#include <map>
#include <span>
#include <type_traits>
#include <unordered_map>

#include "enrich/services.hpp"
#include "tui/intern.hpp"

namespace netscope::tui {

namespace {

using monitor::ConnectionRecord;
using monitor::ProcessRecord;
using monitor::RemoteRecord;

// id, title, min, ideal, grow, drop_rank, right_align, descending_default
const std::vector<ColumnSpec> kProcessColumns = {
    {ColumnId::pid, "PID", 7, 7, 0, 3, true, false},
    {ColumnId::user, "USER", 6, 9, 0, 7, false, false},
    {ColumnId::process_name, "PROCESS", 8, 16, 2, 0, false, false},
    {ColumnId::container, "CONTAINER", 8, 14, 1, 9, false, false},
    {ColumnId::down, "DOWN", 10, 10, 0, 1, true, true},
    {ColumnId::up, "UP", 10, 10, 0, 2, true, true},
    {ColumnId::total, "TOTAL", 9, 9, 0, 6, true, true},
    {ColumnId::conns, "CONNS", 5, 5, 0, 5, true, true},
    {ColumnId::sparkline, "LAST 60 S", 9, 20, 1, 8, false, true},
};

const std::vector<ColumnSpec> kConnectionColumns = {
    {ColumnId::proto, "PROTO", 6, 6, 0, 6, false, false},
    {ColumnId::local, "LOCAL", 12, 21, 1, 7, false, false},
    {ColumnId::remote, "REMOTE", 12, 24, 3, 0, false, false},
    {ColumnId::state, "STATE", 7, 13, 0, 5, false, false},
    {ColumnId::service, "SERVICE", 7, 8, 0, 9, false, false},
    {ColumnId::app_host, "APP/HOST", 8, 18, 2, 8, false, false},
    {ColumnId::down, "DOWN", 10, 10, 0, 1, true, true},
    {ColumnId::up, "UP", 10, 10, 0, 2, true, true},
    {ColumnId::process, "PROCESS", 8, 14, 1, 3, false, false},
    {ColumnId::rtt, "RTT", 7, 8, 0, 4, true, true},
};

const std::vector<ColumnSpec> kRemoteColumns = {
    {ColumnId::remote_addr, "REMOTE", 12, 28, 3, 0, false, false},
    {ColumnId::country, "COUNTRY", 7, 8, 0, 5, false, false},
    {ColumnId::asn, "ASN", 8, 20, 1, 4, false, false},
    {ColumnId::conns, "CONNS", 5, 5, 0, 3, true, true},
    {ColumnId::down, "DOWN", 10, 10, 0, 1, true, true},
    {ColumnId::up, "UP", 10, 10, 0, 2, true, true},
};

std::size_t index_of(Table t, ColumnId id) {
  const auto& cols = columns(t);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].id == id) return i;
  }
  return 0;
}

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

// ---- comparisons -------------------------------------------------------------------------

template <typename T>
int cmp3(const T& a, const T& b) {
  if (a < b) return -1;
  if (b < a) return 1;
  return 0;
}

int cmp_double(double a, double b) {
  if (std::isnan(a)) a = 0;
  if (std::isnan(b)) b = 0;
  return cmp3(a, b);
}

// Text compares case-insensitively (ASCII), then bytewise, so "Firefox" sits by "firefox".
int cmp_text(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto ca = static_cast<unsigned char>(a[i]);
    auto cb = static_cast<unsigned char>(b[i]);
    if (ca >= 'A' && ca <= 'Z') ca = static_cast<unsigned char>(ca + 32);
    if (cb >= 'A' && cb <= 'Z') cb = static_cast<unsigned char>(cb + 32);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return cmp3(a, b);
}

// Empty text sorts last in either direction is not needed: blank cells are rare and a
// stable place (first when ascending) is what users of btop expect.

int cmp_identity(const ConnectionRecord& a, const ConnectionRecord& b) {
  if (int c = cmp3(a.proto, b.proto)) return c;
  if (int c = cmp3(a.local_addr, b.local_addr)) return c;
  if (int c = cmp3(a.local_port, b.local_port)) return c;
  if (int c = cmp3(a.remote_addr, b.remote_addr)) return c;
  return cmp3(a.remote_port, b.remote_port);
}

int cmp_identity(const ProcessRecord& a, const ProcessRecord& b) {
  // The "<UNKNOWN>" row (no pid) after every process.
  if (a.pid.has_value() != b.pid.has_value()) return a.pid.has_value() ? -1 : 1;
  if (int c = cmp_text(a.name, b.name)) return c;
  return cmp3(a.pid.value_or(0), b.pid.value_or(0));
}

int cmp_identity(const RemoteRecord& a, const RemoteRecord& b) {
  return cmp3(a.addr, b.addr);
}

template <typename R>
double rate_or_total(const R& r, bool up, bool totals) {
  if (totals) return static_cast<double>(up ? r.bytes_up : r.bytes_down);
  return up ? r.rate_up : r.rate_down;
}

int cmp_column(ColumnId col, const ProcessRecord& a, const ProcessRecord& b,
               const ModelOptions& opt) {
  switch (col) {
    case ColumnId::pid:
      return cmp3(a.pid.value_or(-1), b.pid.value_or(-1));
    case ColumnId::user:
      return cmp_text(a.user, b.user);
    case ColumnId::process_name:
      // "<UNKNOWN>" sorts after every name, not among the punctuation.
      if (a.pid.has_value() != b.pid.has_value()) return a.pid.has_value() ? -1 : 1;
      return cmp_text(a.name, b.name);
    case ColumnId::container:
      return cmp_text(a.container, b.container);
    case ColumnId::down:
      return cmp_double(rate_or_total(a, false, opt.totals), rate_or_total(b, false, opt.totals));
    case ColumnId::up:
      return cmp_double(rate_or_total(a, true, opt.totals), rate_or_total(b, true, opt.totals));
    case ColumnId::total:
      return cmp3(a.bytes_up + a.bytes_down, b.bytes_up + b.bytes_down);
    case ColumnId::conns:
      return cmp3(a.connections, b.connections);
    case ColumnId::sparkline: {
      // The activity of the last 60 s: the sum of the history points.
      double sa = 0;
      double sb = 0;
      for (const auto& p : a.history) sa += p.up + p.down;
      for (const auto& p : b.history) sb += p.up + p.down;
      return cmp_double(sa, sb);
    }
    default:
      return 0;
  }
}

// The remote column sorts host names A-Z first, then bare addresses in numeric order.
int cmp_remote(const ConnectionRecord& a, const ConnectionRecord& b, bool resolve) {
  const bool ha = resolve && !a.remote_host.empty();
  const bool hb = resolve && !b.remote_host.empty();
  if (ha != hb) return ha ? -1 : 1;
  if (ha) {
    if (int c = cmp_text(a.remote_host, b.remote_host)) return c;
  }
  if (int c = cmp3(a.remote_addr, b.remote_addr)) return c;
  return cmp3(a.remote_port, b.remote_port);
}

int cmp_column(ColumnId col, const ConnectionRecord& a, const ConnectionRecord& b,
               const ModelOptions& opt) {
  switch (col) {
    case ColumnId::proto:
      return cmp_text(a.proto_name, b.proto_name);
    case ColumnId::local:
      if (int c = cmp3(a.local_addr, b.local_addr)) return c;
      return cmp3(a.local_port, b.local_port);
    case ColumnId::remote:
      return cmp_remote(a, b, opt.resolve);
    case ColumnId::state:
      return cmp_text(a.state, b.state);
    case ColumnId::service:
      return cmp_text(a.service, b.service);
    case ColumnId::app_host:
      return cmp_text(app_host(a), app_host(b));
    case ColumnId::down:
      return cmp_double(rate_or_total(a, false, opt.totals), rate_or_total(b, false, opt.totals));
    case ColumnId::up:
      return cmp_double(rate_or_total(a, true, opt.totals), rate_or_total(b, true, opt.totals));
    case ColumnId::process:
      if (a.pid.has_value() != b.pid.has_value()) return a.pid.has_value() ? -1 : 1;
      if (int c = cmp_text(a.process, b.process)) return c;
      return cmp3(a.pid.value_or(0), b.pid.value_or(0));
    case ColumnId::rtt:
      // Unknown RTT sorts below every measured one.
      if (a.rtt_ms.has_value() != b.rtt_ms.has_value()) return a.rtt_ms.has_value() ? 1 : -1;
      return cmp_double(a.rtt_ms.value_or(0), b.rtt_ms.value_or(0));
    default:
      return 0;
  }
}

int cmp_column(ColumnId col, const RemoteRecord& a, const RemoteRecord& b,
               const ModelOptions& opt) {
  switch (col) {
    case ColumnId::remote_addr: {
      const bool ha = opt.resolve && !a.host.empty();
      const bool hb = opt.resolve && !b.host.empty();
      if (ha != hb) return ha ? -1 : 1;
      if (ha) {
        if (int c = cmp_text(a.host, b.host)) return c;
      }
      return cmp3(a.addr, b.addr);
    }
    case ColumnId::country:
      return cmp_text(a.country, b.country);
    case ColumnId::asn:
      if (a.asn.has_value() != b.asn.has_value()) return a.asn.has_value() ? -1 : 1;
      return cmp3(a.asn.value_or(0), b.asn.value_or(0));
    case ColumnId::conns:
      return cmp3(a.connections, b.connections);
    case ColumnId::down:
      return cmp_double(rate_or_total(a, false, opt.totals), rate_or_total(b, false, opt.totals));
    case ColumnId::up:
      return cmp_double(rate_or_total(a, true, opt.totals), rate_or_total(b, true, opt.totals));
    default:
      return 0;
  }
}

// ---- the connections' sort, keyed ----
// Sorting 100,000 pointers with a comparator that reads two ~700-byte records per
// comparison spends its time on cache misses. For the connections table the sort column
// is first reduced to a 64-bit key that orders exactly like the column (a rate's IEEE bits
// made monotonic; a text's rank among the column's distinct values; an address's rank and
// the port), and ties to a 64-bit digest of the 5-tuple, so that comparisons touch only a
// compact array. Equal keys and digests fall back to the identity comparison.

std::uint64_t order_bits(double v) {
  if (std::isnan(v)) v = 0;
  if (v == 0) v = 0;  // -0.0 sorts with 0.0
  const auto b = std::bit_cast<std::uint64_t>(v);
  return (b >> 63) != 0 ? ~b : (b | (std::uint64_t{1} << 63));
}

std::uint64_t identity_digest(std::uint8_t proto, const core::IpAddress& local,
                              std::uint16_t local_port, const core::IpAddress& remote,
                              std::uint16_t remote_port) {
  const auto& r = remote.bytes();
  const auto& l = local.bytes();
  return (std::uint64_t{proto} << 56) | (std::uint64_t{local_port} << 40) |
         (std::uint64_t{remote_port} << 24) | (std::uint64_t{r[15]} << 16) |
         (std::uint64_t{r[14]} << 8) | (std::uint64_t{l[15]});
}

std::uint64_t identity_digest(const ConnectionRecord& c) {
  return identity_digest(c.proto, c.local_addr, c.local_port, c.remote_addr, c.remote_port);
}

constexpr std::size_t kAhead = 12;

// Asks for the cache lines of a record that the index's pass reads: the records are ~700
// bytes apart, and without this each row waits for its own misses.
inline void prefetch(const ConnectionRecord& c) {
  __builtin_prefetch(&c.proto_name);
  __builtin_prefetch(&c.remote_host);
  __builtin_prefetch(&c.process);
  __builtin_prefetch(&c.rate_up);
  __builtin_prefetch(&c.rtt_ms);
  __builtin_prefetch(&c.service);
  __builtin_prefetch(&c.dpi);  // the record's pointer; the fields are shared, elsewhere
}

// rank[id]: the place of values[id] among the distinct values in `less` order.
template <typename V, typename Less>
std::vector<std::uint64_t> ranks(const std::vector<V>& values, Less less) {
  std::vector<std::uint32_t> order(values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return less(values[a], values[b]); });
  std::vector<std::uint64_t> rank(values.size());
  for (std::size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  return rank;
}

std::vector<std::uint64_t> text_ranks(const FieldValues& fv) {
  return ranks(fv.values,
               [](std::string_view a, std::string_view b) { return cmp_text(a, b) < 0; });
}

}  // namespace

// The keyed rows of the connections table and how far they are sorted (Frame::lazy).
struct LazyOrder {
  struct Keyed {
    std::uint64_t key;
    std::uint64_t tie;
    const ConnectionRecord* row;
  };
  std::vector<Keyed> keyed;
  // Segments of `keyed`, by first position: each holds exactly the rows whose ranks are its
  // positions (nth_element cut it there), in order when its flag is set. Starts as one
  // unsorted segment; a window asked for (the screen around the selection, wherever it
  // landed in the new order) is cut out and sorted, not everything before it.
  std::map<std::size_t, bool> segments{{0, false}};
  ColumnId col = ColumnId::down;
  bool desc = true;
  bool exact = true;
  ModelOptions opt;

  bool less(const Keyed& a, const Keyed& b) const {
    if (a.key != b.key) return a.key < b.key;
    if (!exact) {
      int c = cmp_column(col, *a.row, *b.row, opt);
      if (desc) c = -c;
      if (c != 0) return c < 0;
    }
    if (a.tie != b.tie) return a.tie < b.tie;
    return cmp_identity(*a.row, *b.row) < 0;
  }
  // Puts the rows of [first, end) that belong in [first, mid) there (in any order), the
  // others after them. nth_element over 100,000 rows moves them all a few times; with few
  // rows wanted, a key threshold estimated from a sample first splits off a small set of
  // candidates (one pass), and nth_element runs on those.
  template <typename It, typename Cmp>
  void select(It first, It mid, It end, Cmp cmp) {
    const auto n = static_cast<std::size_t>(end - first);
    const auto k = static_cast<std::size_t>(mid - first);
    constexpr std::size_t kSample = 1024;
    if (n < 8 * kSample || k * 8 > n) {
      std::nth_element(first, mid, end, cmp);
      return;
    }
    std::vector<std::uint64_t> sample(kSample);
    for (std::size_t i = 0; i < kSample; ++i) sample[i] = first[(i * n) / kSample + i % 7].key;
    std::sort(sample.begin(), sample.end());
    // Twice the expected share, plus a margin: the candidates hold the k smallest rows
    // unless the sample was very unlucky (then the rest is selected too, still exactly).
    const std::size_t at = std::min(kSample - 1, 2 * k * kSample / n + 16);
    const std::uint64_t threshold = sample[at];
    const auto split =
        std::partition(first, end, [threshold](const Keyed& r) { return r.key <= threshold; });
    // Every row before `split` has a smaller key than every row after it.
    if (split >= mid) {
      std::nth_element(first, mid, split, cmp);
    } else {
      std::nth_element(split, mid, end, cmp);
    }
  }
  // Whether position i holds its row in the final order.
  bool final_at(std::size_t i) const {
    auto it = segments.upper_bound(i);
    return (--it)->second;
  }
  bool all_sorted() const {
    return std::all_of(segments.begin(), segments.end(), [](const auto& s) { return s.second; });
  }
  // Puts [from, upto) in the final order: the segments it touches are cut at its ends
  // (select) and the part inside sorted; a small segment is sorted whole.
  void sort_range(std::size_t from, std::size_t upto, std::vector<const ConnectionRecord*>& rows) {
    constexpr std::size_t kWhole = 2048;
    constexpr std::size_t kSortAhead = 512;
    upto = std::min(upto, keyed.size());
    if (from >= upto) return;
    auto cmp = [this](const Keyed& a, const Keyed& b) { return less(a, b); };
    const auto at = [this](std::size_t i) {
      return keyed.begin() + static_cast<std::ptrdiff_t>(i);
    };
    auto it = std::prev(segments.upper_bound(from));
    while (it != segments.end() && it->first < upto) {
      const std::size_t a = it->first;
      const auto next = std::next(it);
      const std::size_t b = next == segments.end() ? keyed.size() : next->first;
      if (it->second) {
        it = next;
        continue;
      }
      std::size_t x = a;
      std::size_t y = b;
      if (b - a > kWhole) {
        // A screenful ahead too (scrolling on), and no sliver left unsorted at either end.
        const std::size_t lo = std::max(a, from);
        x = lo - a < kSortAhead ? a : lo;
        y = std::min(b, std::max(upto, x + kSortAhead));
        if (b - y < kSortAhead) y = b;
        if (x > a) {
          select(at(a), at(x), at(b), cmp);  // [a, x) stays an unsorted segment
          segments[x] = false;
        }
        if (y < b) {
          select(at(x), at(y), at(b), cmp);
          segments[y] = false;
        }
      }
      std::sort(at(x), at(y), cmp);
      segments[x] = true;
      for (std::size_t i = a; i < b; ++i) rows[i] = keyed[i].row;
      it = segments.find(y);
    }
  }
  void extend(std::size_t upto, std::vector<const ConnectionRecord*>& rows) {
    sort_range(0, upto, rows);
  }
};

namespace {

// Rows a frame sorts up front: a screenful with room to move; the rest on demand.
constexpr std::size_t kEagerRows = 512;
// Below this many rows a full sort is cheap enough to do at once.
constexpr std::size_t kLazyThreshold = 8192;

// Returns false when the column has no fast key (the caller sorts the plain way). Sorts
// the first kEagerRows; `lazy` keeps what is needed to sort further.
bool sort_connections_keyed(std::vector<const ConnectionRecord*>& rows, ColumnId col, bool desc,
                            const ModelOptions& opt, std::shared_ptr<LazyOrder>& lazy,
                            const SnapshotIndex& index) {
  if (rows.empty()) return true;
  const bool rate = col == ColumnId::down || col == ColumnId::up;
  if (!rate && col != ColumnId::proto && col != ColumnId::local && col != ColumnId::remote &&
      col != ColumnId::state && col != ColumnId::service && col != ColumnId::app_host &&
      col != ColumnId::process && col != ColumnId::rtt) {
    return false;
  }
  auto order = std::make_shared<LazyOrder>();
  order->col = col;
  order->desc = desc;
  order->opt = opt;
  order->exact = true;
  order->keyed.resize(rows.size());
  const ConnectionRecord* base = index.snapshot()->connections.data();
  const auto& keys = index.keys();
  if (rate) {
    // The rate columns (the default sort) from the index's compact keys: no record read.
    const bool up = col == ColumnId::up;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const SnapshotIndex::ConnectionKeys& k = keys[static_cast<std::size_t>(rows[i] - base)];
      const double v = opt.totals ? static_cast<double>(up ? k.bytes_up : k.bytes_down)
                                  : (up ? k.rate_up : k.rate_down);
      const std::uint64_t key = order_bits(v);
      order->keyed[i] = {desc ? ~key : key, k.tie, rows[i]};
    }
  } else {
    const std::vector<std::uint64_t>& ck = index.column_keys(col, opt);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto j = static_cast<std::size_t>(rows[i] - base);
      order->keyed[i] = {desc ? ~ck[j] : ck[j], keys[j].tie, rows[i]};
    }
  }
  if (rows.size() <= kLazyThreshold || opt.top > 0) {  // --top cuts the sorted rows
    order->extend(rows.size(), rows);
    return true;
  }
  order->extend(kEagerRows, rows);
  lazy = std::move(order);
  return true;
}

template <typename R>
void sort_rows(std::vector<const R*>& rows, Table t, const SortSpec& s, const ModelOptions& opt,
               std::shared_ptr<LazyOrder>* lazy = nullptr, const SnapshotIndex* index = nullptr) {
  const auto& cols = columns(t);
  const ColumnId col = cols[std::min(s.column, cols.size() - 1)].id;
  const bool desc = s.descending;
  if constexpr (std::is_same_v<R, ConnectionRecord>) {
    if (sort_connections_keyed(rows, col, desc, opt, *lazy, *index)) {
      if (opt.top > 0 && rows.size() > opt.top) rows.resize(opt.top);
      return;
    }
  }
  std::sort(rows.begin(), rows.end(), [&](const R* a, const R* b) {
    int c = cmp_column(col, *a, *b, opt);
    if (desc) c = -c;
    if (c != 0) return c < 0;
    return cmp_identity(*a, *b) < 0;  // ties keep a fixed order
  });
  if (opt.top > 0 && rows.size() > opt.top) rows.resize(opt.top);
}

// Connections grouped by owner row: row i's are flat[offsets[i], offsets[i + 1]).
struct ConnectionGroups {
  std::vector<const ConnectionRecord*> flat;
  std::vector<std::size_t> offsets;
  std::span<const ConnectionRecord* const> of(std::size_t i) const {
    return {flat.data() + offsets[i], offsets[i + 1] - offsets[i]};
  }
};

// owner[j] = the row of connection j, or `rows` for none.
ConnectionGroups group(const std::vector<ConnectionRecord>& conns,
                       const std::vector<std::uint32_t>& owner, std::size_t rows) {
  ConnectionGroups g;
  g.offsets.assign(rows + 2, 0);
  for (std::uint32_t o : owner) ++g.offsets[o + 1];
  for (std::size_t i = 1; i < g.offsets.size(); ++i) g.offsets[i] += g.offsets[i - 1];
  g.flat.resize(conns.size());
  std::vector<std::size_t> next(g.offsets.begin(), g.offsets.end() - 1);
  for (std::size_t j = 0; j < conns.size(); ++j) g.flat[next[owner[j]]++] = &conns[j];
  return g;
}

ConnectionGroups group_by_process(const std::vector<ConnectionRecord>& conns,
                                  const std::vector<const ProcessRecord*>& procs) {
  std::unordered_map<pid_t, std::uint32_t> row_of;
  auto unknown_row = static_cast<std::uint32_t>(procs.size());
  for (std::size_t i = 0; i < procs.size(); ++i) {
    if (procs[i]->pid) {
      row_of.emplace(*procs[i]->pid, static_cast<std::uint32_t>(i));
    } else {
      unknown_row = static_cast<std::uint32_t>(i);  // the folded "<UNKNOWN>" row
    }
  }
  std::vector<std::uint32_t> owner(conns.size(), static_cast<std::uint32_t>(procs.size()));
  for (std::size_t j = 0; j < conns.size(); ++j) {
    if (!conns[j].pid) {
      owner[j] = unknown_row;
    } else if (auto it = row_of.find(*conns[j].pid); it != row_of.end()) {
      owner[j] = it->second;
    }
  }
  return group(conns, owner, procs.size());
}

ConnectionGroups group_by_remote(const std::vector<ConnectionRecord>& conns,
                                 const std::vector<RemoteRecord>& remotes) {
  std::unordered_map<core::IpAddress, std::uint32_t, intern::IpHash> row_of;
  row_of.reserve(remotes.size());
  for (std::size_t i = 0; i < remotes.size(); ++i) {
    row_of.emplace(remotes[i].addr, static_cast<std::uint32_t>(i));
  }
  std::vector<std::uint32_t> owner(conns.size(), static_cast<std::uint32_t>(remotes.size()));
  for (std::size_t j = 0; j < conns.size(); ++j) {
    if (auto it = row_of.find(conns[j].remote_addr); it != row_of.end()) owner[j] = it->second;
  }
  return group(conns, owner, remotes.size());
}

std::string rate_cell(double rate, std::uint64_t total, const ModelOptions& opt) {
  if (opt.totals) return format_total(total, opt.units);
  return format_rate(rate, opt.units);
}

}  // namespace

std::string_view table_name(Table t) {
  switch (t) {
    case Table::processes:
      return "processes";
    case Table::connections:
      return "connections";
    case Table::remotes:
      return "remotes";
  }
  return "processes";
}

std::string_view table_title(Table t) {
  switch (t) {
    case Table::processes:
      return "Processes";
    case Table::connections:
      return "Connections";
    case Table::remotes:
      return "Remotes";
  }
  return "Processes";
}

const std::vector<ColumnSpec>& columns(Table t) {
  switch (t) {
    case Table::processes:
      return kProcessColumns;
    case Table::connections:
      return kConnectionColumns;
    case Table::remotes:
      return kRemoteColumns;
  }
  return kProcessColumns;
}

std::vector<ColumnPlacement> layout_columns(Table t, int width) {
  const auto& cols = columns(t);
  std::vector<ColumnPlacement> out;
  if (width <= 0) return out;
  std::vector<bool> keep(cols.size(), true);
  auto need = [&] {
    int sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (!keep[i]) continue;
      sum += cols[i].min_width;
      ++n;
    }
    return sum + std::max(0, n - 1);
  };
  while (need() > width) {
    // Drop the kept column with the highest drop_rank, but never the last one.
    std::size_t victim = cols.size();
    int kept = 0;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (!keep[i]) continue;
      ++kept;
      if (victim == cols.size() || cols[i].drop_rank > cols[victim].drop_rank) victim = i;
    }
    if (kept <= 1) break;
    keep[victim] = false;
  }
  std::vector<int> w(cols.size(), 0);
  int used = 0;
  int n = 0;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (!keep[i]) continue;
    w[i] = cols[i].min_width;
    used += w[i];
    ++n;
  }
  used += std::max(0, n - 1);
  if (used > width) {
    // A single column wider than the table: cut it.
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (keep[i]) w[i] = width;
    }
    used = width;
  }
  // Up to the ideal widths, in order of importance.
  std::vector<std::size_t> by_rank;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (keep[i]) by_rank.push_back(i);
  }
  std::stable_sort(by_rank.begin(), by_rank.end(), [&](std::size_t a, std::size_t b) {
    return cols[a].drop_rank < cols[b].drop_rank;
  });
  for (std::size_t i : by_rank) {
    const int extra = std::min(cols[i].ideal_width - w[i], width - used);
    if (extra > 0) {
      w[i] += extra;
      used += extra;
    }
  }
  // What is left goes to the growing columns, by their shares.
  int shares = 0;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (keep[i]) shares += cols[i].grow;
  }
  const int spare = width - used;
  if (spare > 0 && shares > 0) {
    int given = 0;
    std::size_t last_grower = cols.size();
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (!keep[i] || cols[i].grow == 0) continue;
      const int add = spare * cols[i].grow / shares;
      w[i] += add;
      given += add;
      last_grower = i;
    }
    if (last_grower < cols.size()) w[last_grower] += spare - given;
  }
  int x = 0;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (!keep[i]) continue;
    out.push_back({i, x, w[i]});
    x += w[i] + 1;
  }
  return out;
}

SortSpec default_sort(Table t) {
  // Busiest first, as bandwhich and nethogs list: by the down rate.
  const std::size_t i = index_of(t, ColumnId::down);
  return {i, true};
}

SortSpec next_sort(Table t, const SortSpec& s) {
  const auto& cols = columns(t);
  const std::size_t i = (s.column + 1) % cols.size();
  return {i, cols[i].descending_default};
}

RowKey key_of(const ConnectionRecord& c) {
  RowKey k;
  k.valid = true;
  k.proto = c.proto;
  k.local_addr = c.local_addr;
  k.local_port = c.local_port;
  k.remote_addr = c.remote_addr;
  k.remote_port = c.remote_port;
  return k;
}

RowKey key_of(const ProcessRecord& p) {
  RowKey k;
  k.valid = true;
  k.pid = p.pid;
  return k;
}

RowKey key_of(const RemoteRecord& r) {
  RowKey k;
  k.valid = true;
  k.remote_addr = r.addr;
  return k;
}

void Frame::ensure_sorted(std::size_t upto) const {
  ensure_sorted(0, upto);
}

void Frame::ensure_sorted(std::size_t from, std::size_t upto) const {
  if (!lazy) return;
  lazy->sort_range(from, upto, connections);
  if (lazy->all_sorted()) lazy.reset();
}

std::size_t Frame::rows(Table t) const {
  switch (t) {
    case Table::processes:
      return processes.size();
    case Table::connections:
      return connections.size();
    case Table::remotes:
      return remotes.size();
  }
  return 0;
}

RowKey Frame::key_at(Table t, std::size_t i) const {
  if (i >= rows(t)) return {};
  switch (t) {
    case Table::processes:
      return key_of(*processes[i]);
    case Table::connections:
      ensure_sorted(i, i + 1);
      return key_of(*connections[i]);
    case Table::remotes:
      return key_of(*remotes[i]);
  }
  return {};
}

std::optional<std::size_t> Frame::find(Table t, const RowKey& key) const {
  if (!key.valid) return std::nullopt;
  const std::size_t n = rows(t);
  for (std::size_t i = 0; i < n; ++i) {
    switch (t) {
      case Table::processes:
        if (processes[i]->pid == key.pid) return i;
        break;
      case Table::connections: {
        if (index && i == 0) {
          // Find the record through the compact digests (in memory order), then its
          // pointer among the rows: no walk over 100,000 records in sorted order.
          const auto& conns = index->snapshot()->connections;
          const auto& keys = index->keys();
          const std::uint64_t tie = identity_digest(key.proto, key.local_addr, key.local_port,
                                                    key.remote_addr, key.remote_port);
          const ConnectionRecord* target = nullptr;
          for (std::size_t j = 0; j < keys.size() && target == nullptr; ++j) {
            if (keys[j].tie == tie && key_of(conns[j]) == key) target = &conns[j];
          }
          if (target == nullptr) return std::nullopt;
          const auto it = std::find(connections.begin(), connections.end(), target);
          if (it == connections.end()) return std::nullopt;  // filtered out
          i = static_cast<std::size_t>(it - connections.begin());
        }
        const ConnectionRecord& c = *connections[i];
        if (c.remote_port == key.remote_port && c.local_port == key.local_port &&
            c.proto == key.proto && c.remote_addr == key.remote_addr &&
            c.local_addr == key.local_addr) {
          if (!lazy || lazy->final_at(i)) return i;
          // Not in place yet: its rank is the number of rows that sort before it. Only the
          // rows around it are put in order (the screen shows them), not all before it.
          const LazyOrder::Keyed& me = lazy->keyed[i];
          std::size_t rank = 0;
          for (const auto& k : lazy->keyed) rank += lazy->less(k, me) ? 1 : 0;
          ensure_sorted(rank - std::min(rank, kEagerRows / 2), rank + kEagerRows / 2);
          return rank;
        }
        break;
      }
      case Table::remotes:
        if (remotes[i]->addr == key.remote_addr) return i;
        break;
    }
  }
  return std::nullopt;
}

const ProcessRecord* Frame::process(const RowKey& key) const {
  if (!key.valid || !snapshot) return nullptr;
  if (!key.pid) return unknown.get();
  for (const ProcessRecord& p : snapshot->processes) {
    if (p.pid == key.pid) return &p;
  }
  return nullptr;
}

const ConnectionRecord* Frame::connection(const RowKey& key) const {
  if (!key.valid || !snapshot) return nullptr;
  if (index) return index->find_connection(key);
  for (const ConnectionRecord& c : snapshot->connections) {
    if (key_of(c) == key) return &c;
  }
  return nullptr;
}

const RemoteRecord* Frame::remote(const RowKey& key) const {
  if (!key.valid || !snapshot) return nullptr;
  for (const RemoteRecord& r : snapshot->remotes) {
    if (r.addr == key.remote_addr) return &r;
  }
  return nullptr;
}

std::vector<const ConnectionRecord*> Frame::connections_of(const ProcessRecord& p) const {
  std::vector<const ConnectionRecord*> out;
  if (!snapshot) return out;
  if (index) return index->connections_of(p.pid);
  for (const ConnectionRecord& c : snapshot->connections) {
    if (c.pid == p.pid) out.push_back(&c);
  }
  return out;
}

std::vector<const ConnectionRecord*> Frame::connections_to(const core::IpAddress& a) const {
  std::vector<const ConnectionRecord*> out;
  if (!snapshot) return out;
  if (index) return index->connections_to(a);
  for (const ConnectionRecord& c : snapshot->connections) {
    if (c.remote_addr == a) out.push_back(&c);
  }
  return out;
}

SnapshotIndex::SnapshotIndex(std::shared_ptr<const monitor::Snapshot> snap)
    : snap_(std::move(snap)) {
  if (!snap_) return;
  // One pass over the records (~710 bytes each) for every compact column the frames read:
  // the sort keys of each column, the numbers the filter tests, and the text fields the
  // sort and the common keywords read, as ids into their distinct values.
  const auto& conns = snap_->connections;
  const std::size_t n = conns.size();
  keys_.resize(n);
  rtt_keys_.resize(n);
  pid_.resize(n);
  local_id_.resize(n);
  remote_id_.resize(n);
  auto numbers = std::make_unique<ConnectionNumbers>();
  numbers->local_port.resize(n);
  numbers->remote_port.resize(n);
  numbers->proto.resize(n);
  numbers->pid.resize(n);
  using F = FieldValues;
  constexpr F::Field kEager[] = {F::proto_name, F::state,   F::service,
                                 F::app_host,   F::process, F::remote_host};
  intern::Interner<std::string_view, intern::TextHash> text[std::size(kEager)];
  std::unique_ptr<FieldValues> eager[std::size(kEager)];
  for (auto& e : eager) {
    e = std::make_unique<FieldValues>();
    e->ids.resize(n);
  }
  intern::Interner<core::IpAddress, intern::IpHash> local;
  intern::Interner<core::IpAddress, intern::IpHash> remote;
  for (std::size_t j = 0; j < n; ++j) {
    if (j + kAhead < n) prefetch(conns[j + kAhead]);
    const ConnectionRecord& c = conns[j];
    keys_[j] = {c.rate_down, c.rate_up, c.bytes_down, c.bytes_up, identity_digest(c)};
    // Unknown RTT below every measured one (0 is below every order_bits()).
    rtt_keys_[j] = c.rtt_ms ? order_bits(*c.rtt_ms) : 0;
    pid_[j] = c.pid ? *c.pid : kNoPid;
    numbers->local_port[j] = c.local_port;
    numbers->remote_port[j] = c.remote_port;
    numbers->proto[j] = c.proto;
    numbers->pid[j] = c.pid && *c.pid >= 0 ? *c.pid : -1;
    for (std::size_t f = 0; f < std::size(kEager); ++f) {
      eager[f]->ids[j] = text[f].add(FieldValues::of(c, kEager[f]));
    }
    local_id_[j] = local.add(c.local_addr);
    remote_id_[j] = remote.add(c.remote_addr);
  }
  for (std::size_t f = 0; f < std::size(kEager); ++f) {
    eager[f]->values = std::move(text[f].values());
    fields_[kEager[f]] = std::move(eager[f]);
  }
  local_addrs_ = std::move(local.values());
  remote_addrs_ = std::move(remote.values());
  numbers_ = std::move(numbers);
}

const std::vector<std::uint64_t>& SnapshotIndex::column_keys(ColumnId col,
                                                             const ModelOptions& opt) const {
  if (col == ColumnId::rtt) return rtt_keys_;
  auto& slot = column_keys_[std::min<std::size_t>(static_cast<std::size_t>(col), kColumnIds - 1)]
                           [col == ColumnId::remote && opt.resolve ? 1 : 0];
  if (slot) return *slot;
  slot = std::make_unique<std::vector<std::uint64_t>>(keys_.size(), 0);
  std::vector<std::uint64_t>& keys = *slot;
  const auto text_keys = [&](FieldValues::Field f) {
    const FieldValues& fv = field(f);
    const std::vector<std::uint64_t> rank = text_ranks(fv);
    for (std::size_t j = 0; j < keys.size(); ++j) keys[j] = rank[fv.ids[j]];
  };
  const ConnectionNumbers& num = numbers();
  switch (col) {
    case ColumnId::proto:
      text_keys(FieldValues::proto_name);
      break;
    case ColumnId::state:
      text_keys(FieldValues::state);
      break;
    case ColumnId::service:
      text_keys(FieldValues::service);
      break;
    case ColumnId::app_host:
      text_keys(FieldValues::app_host);
      break;
    case ColumnId::process:
      // Attributed rows first, then by name, then by pid (cmp_column).
      text_keys(FieldValues::process);
      for (std::size_t j = 0; j < keys.size(); ++j) {
        const bool has = pid_[j] != kNoPid;
        const auto pid = static_cast<std::uint32_t>(has ? pid_[j] : 0) ^ 0x80000000u;
        keys[j] = (has ? 0 : std::uint64_t{1} << 63) | (keys[j] << 32) | pid;
      }
      break;
    case ColumnId::local: {
      const auto rank = ranks(local_addrs_, std::less<core::IpAddress>{});
      for (std::size_t j = 0; j < keys.size(); ++j) {
        keys[j] = (rank[local_id_[j]] << 16) | num.local_port[j];
      }
      break;
    }
    case ColumnId::remote: {
      // The host name when one is shown (names first, A-Z), then the address, then the
      // port (cmp_remote): rank the distinct (name, address) pairs.
      const FieldValues& host = field(FieldValues::remote_host);
      std::uint32_t empty_host = 0xFFFFFFFF;
      for (std::size_t v = 0; v < host.values.size(); ++v) {
        if (host.values[v].empty()) empty_host = static_cast<std::uint32_t>(v);
      }
      const auto host_of = [&](std::size_t j) {
        const std::uint32_t h = host.ids[j];
        return !opt.resolve || h == empty_host ? 0xFFFFFFFF : h;
      };
      intern::Interner<std::uint64_t, intern::U64Hash> pairs;
      std::vector<std::uint32_t> pair_id(keys.size());
      for (std::size_t j = 0; j < keys.size(); ++j) {
        pair_id[j] = pairs.add((std::uint64_t{host_of(j)} << 32) | remote_id_[j]);
      }
      const auto rank = ranks(pairs.values(), [&](std::uint64_t a, std::uint64_t b) {
        const auto ha = static_cast<std::uint32_t>(a >> 32);
        const auto hb = static_cast<std::uint32_t>(b >> 32);
        if ((ha == 0xFFFFFFFF) != (hb == 0xFFFFFFFF)) return hb == 0xFFFFFFFF;  // names first
        if (ha != 0xFFFFFFFF && ha != hb) {
          if (int c = cmp_text(host.values[ha], host.values[hb])) return c < 0;
        }
        return remote_addrs_[a & 0xFFFFFFFF] < remote_addrs_[b & 0xFFFFFFFF];
      });
      for (std::size_t j = 0; j < keys.size(); ++j) {
        keys[j] = (rank[pair_id[j]] << 16) | num.remote_port[j];
      }
      break;
    }
    default:
      break;
  }
  return keys;
}

std::vector<const ConnectionRecord*> SnapshotIndex::connections_of(std::optional<pid_t> pid) const {
  std::vector<const ConnectionRecord*> out;
  if (!snap_) return out;
  const std::int64_t want = pid ? *pid : kNoPid;
  for (std::size_t j = 0; j < pid_.size(); ++j) {
    if (pid_[j] == want) out.push_back(&snap_->connections[j]);
  }
  return out;
}

std::vector<const ConnectionRecord*> SnapshotIndex::connections_to(const core::IpAddress& a) const {
  std::vector<const ConnectionRecord*> out;
  if (!snap_) return out;
  const auto it = std::find(remote_addrs_.begin(), remote_addrs_.end(), a);
  if (it == remote_addrs_.end()) return out;
  const auto id = static_cast<std::uint32_t>(it - remote_addrs_.begin());
  for (std::size_t j = 0; j < remote_id_.size(); ++j) {
    if (remote_id_[j] == id) out.push_back(&snap_->connections[j]);
  }
  return out;
}

const ConnectionRecord* SnapshotIndex::find_connection(const RowKey& key) const {
  if (!snap_ || !key.valid) return nullptr;
  const std::uint64_t tie =
      identity_digest(key.proto, key.local_addr, key.local_port, key.remote_addr, key.remote_port);
  for (std::size_t j = 0; j < keys_.size(); ++j) {
    if (keys_[j].tie == tie && key_of(snap_->connections[j]) == key) return &snap_->connections[j];
  }
  return nullptr;
}

const ConnectionText& SnapshotIndex::text() const {
  if (!text_) {
    text_ = snap_ ? std::make_unique<ConnectionText>(snap_->connections)
                  : std::make_unique<ConnectionText>();
  }
  return *text_;
}

const FieldValues& SnapshotIndex::field(FieldValues::Field f) const {
  auto& slot = fields_[f];
  if (!slot) {
    slot = snap_ ? std::make_unique<FieldValues>(snap_->connections, f)
                 : std::make_unique<FieldValues>();
  }
  return *slot;
}

const ConnectionNumbers& SnapshotIndex::numbers() const {
  if (!numbers_) {
    numbers_ = snap_ ? std::make_unique<ConnectionNumbers>(snap_->connections)
                     : std::make_unique<ConnectionNumbers>();
  }
  return *numbers_;
}

void SnapshotIndex::build_owners() const {
  if (owners_built_) return;
  owners_built_ = true;
  if (!snap_) return;
  // From the compact columns (pids, remote address ids): no record is read.
  const monitor::Snapshot& s = *snap_;
  std::unordered_map<pid_t, std::uint32_t> proc_of_pid;
  proc_of_pid.reserve(s.processes.size());
  for (std::size_t i = 0; i < s.processes.size(); ++i) {
    if (s.processes[i].pid) proc_of_pid.emplace(*s.processes[i].pid, static_cast<std::uint32_t>(i));
  }
  std::unordered_map<core::IpAddress, std::uint32_t, intern::IpHash> remote_of_addr;
  remote_of_addr.reserve(s.remotes.size());
  for (std::size_t i = 0; i < s.remotes.size(); ++i) {
    remote_of_addr.emplace(s.remotes[i].addr, static_cast<std::uint32_t>(i));
  }
  std::vector<std::uint32_t> remote_row(remote_addrs_.size(), kNoRow);
  for (std::size_t a = 0; a < remote_addrs_.size(); ++a) {
    if (auto it = remote_of_addr.find(remote_addrs_[a]); it != remote_of_addr.end()) {
      remote_row[a] = it->second;
    }
  }
  process_of_.assign(pid_.size(), kNoRow);
  remote_of_.resize(pid_.size());
  std::int64_t last_pid = kNoPid;
  std::uint32_t last_row = kUnattributed;
  for (std::size_t j = 0; j < pid_.size(); ++j) {
    const std::int64_t pid = pid_[j];
    if (pid != last_pid) {
      last_pid = pid;
      last_row = kNoRow;
      if (pid == kNoPid) {
        last_row = kUnattributed;
      } else if (auto it = proc_of_pid.find(static_cast<pid_t>(pid)); it != proc_of_pid.end()) {
        last_row = it->second;
      }
    }
    process_of_[j] = last_row;
    remote_of_[j] = remote_row[remote_id_[j]];
  }
}

const std::vector<std::uint32_t>& SnapshotIndex::process_of() const {
  build_owners();
  return process_of_;
}

const std::vector<std::uint32_t>& SnapshotIndex::remote_of() const {
  build_owners();
  return remote_of_;
}

namespace {
// The terms decided for every row at once from the index (bare words, string keywords).
Filter::BareHits row_hits(const Filter& filter, const SnapshotIndex& idx) {
  Filter::BareHits hits = filter.uses_text() ? filter.bare_hits(idx.text()) : Filter::BareHits{};
  if (filter.fields_used() != 0 || filter.uses_numbers()) filter.field_hits(idx, hits);
  return hits;
}

bool filter_gathers(const Filter& filter, const ModelOptions& opt) {
  return (opt.tables[0] && filter.process_needs_connections()) ||
         (opt.tables[2] && filter.remote_needs_connections());
}
}  // namespace

BuiltParts build_parts(std::shared_ptr<const monitor::Snapshot> snap, IndexParts which) {
  BuiltParts out;
  out.snapshot = std::move(snap);
  if (!out.snapshot) return out;
  const auto& conns = out.snapshot->connections;
  if (which.text) out.text = std::make_unique<ConnectionText>(conns);
  if (which.fields == 0) return out;
  // Every field asked for in one pass over the records.
  std::vector<FieldValues::Field> fs;
  for (std::uint32_t f = 0; f < FieldValues::kCount; ++f) {
    if ((which.fields >> f) & 1) fs.push_back(static_cast<FieldValues::Field>(f));
  }
  std::vector<intern::Interner<std::string_view, intern::TextHash>> in(fs.size());
  for (FieldValues::Field f : fs) {
    out.fields[f] = std::make_unique<FieldValues>();
    out.fields[f]->ids.resize(conns.size());
  }
  for (std::size_t j = 0; j < conns.size(); ++j) {
    if (j + kAhead < conns.size()) {
      __builtin_prefetch(&conns[j + kAhead].kernel_state);
      __builtin_prefetch(&conns[j + kAhead].dpi);
      __builtin_prefetch(&conns[j + kAhead].country);
    }
    for (std::size_t k = 0; k < fs.size(); ++k) {
      out.fields[fs[k]]->ids[j] = in[k].add(FieldValues::of(conns[j], fs[k]));
    }
  }
  for (std::size_t k = 0; k < fs.size(); ++k) out.fields[fs[k]]->values = std::move(in[k].values());
  return out;
}

IndexParts SnapshotIndex::missing(const Filter& filter, bool everything) const {
  IndexParts p;
  if (!snap_) return p;
  p.text = !text_ && (everything || filter.uses_text());
  const std::uint32_t want =
      everything ? (std::uint32_t{1} << FieldValues::kCount) - 1 : filter.fields_used();
  for (std::uint32_t f = 0; f < FieldValues::kCount; ++f) {
    if (((want >> f) & 1) != 0 && !fields_[f]) p.fields |= std::uint32_t{1} << f;
  }
  return p;
}

void SnapshotIndex::adopt(BuiltParts&& parts) const {
  if (parts.snapshot != snap_) return;
  if (parts.text && !text_) text_ = std::move(parts.text);
  for (std::uint32_t f = 0; f < FieldValues::kCount; ++f) {
    if (parts.fields[f] && !fields_[f]) fields_[f] = std::move(parts.fields[f]);
  }
}

void SnapshotIndex::prepare(const Filter& filter, const ModelOptions& opt, bool everything) const {
  if (filter.empty() && !everything) return;
  const IndexParts want = missing(filter, everything);
  if (!want.empty()) adopt(build_parts(snap_, want));
  if (filter_gathers(filter, opt) && filter.term_bits_supported()) build_owners();
}

Frame build_frame(std::shared_ptr<const monitor::Snapshot> snap, const Filter& filter,
                  const SortSpec (&sorts)[kTables], const ModelOptions& opt,
                  const std::vector<monitor::DnsEventRecord>& unattributed_dns) {
  return build_frame(std::make_shared<const SnapshotIndex>(std::move(snap)), filter, sorts, opt,
                     unattributed_dns);
}

Frame build_frame(std::shared_ptr<const SnapshotIndex> index, const Filter& filter,
                  const SortSpec (&sorts)[kTables], const ModelOptions& opt,
                  const std::vector<monitor::DnsEventRecord>& unattributed_dns) {
  Frame f;
  if (!index || !index->snapshot()) return f;
  f.index = std::move(index);
  f.snapshot = f.index->snapshot();
  const monitor::Snapshot& s = *f.snapshot;

  // The "<UNKNOWN>" row: every unattributed group summed.
  std::vector<const ProcessRecord*> procs;
  procs.reserve(s.processes.size());
  for (const ProcessRecord& p : s.processes) {
    if (p.pid) {
      procs.push_back(&p);
    } else {
      f.unknown_groups.push_back(&p);
    }
  }
  if (!f.unknown_groups.empty()) {
    f.unknown = std::make_unique<ProcessRecord>();
    ProcessRecord& u = *f.unknown;
    u.name = std::string(kUnknownProcess);
    for (const ProcessRecord* g : f.unknown_groups) {
      u.bytes_up += g->bytes_up;
      u.bytes_down += g->bytes_down;
      u.packets_up += g->packets_up;
      u.packets_down += g->packets_down;
      u.rate_up += g->rate_up;
      u.rate_down += g->rate_down;
      u.connections += g->connections;
      if (!u.unknown_reason.empty()) u.unknown_reason += ",";
      u.unknown_reason += g->unknown_reason;
      if (u.history.size() < g->history.size()) u.history.resize(g->history.size());
      // Histories end at the same tick: add them aligned on their newest point.
      const std::size_t off = u.history.size() - g->history.size();
      for (std::size_t i = 0; i < g->history.size(); ++i) {
        u.history[off + i].up += g->history[i].up;
        u.history[off + i].down += g->history[i].down;
      }
    }
    for (const ProcessRecord* g : f.unknown_groups) {
      u.dns_history.insert(u.dns_history.end(), g->dns_history.begin(), g->dns_history.end());
    }
    for (const monitor::DnsEventRecord& d : unattributed_dns) {
      const bool dup = std::any_of(u.dns_history.begin(), u.dns_history.end(), [&](const auto& e) {
        return e.time == d.time && e.query == d.query && e.qtype == d.qtype;
      });
      if (!dup) u.dns_history.push_back(d);
    }
    std::stable_sort(u.dns_history.begin(), u.dns_history.end(),
                     [](const auto& a, const auto& b) { return a.time < b.time; });
    procs.push_back(f.unknown.get());
  }
  f.total_rows[0] = procs.size();
  f.total_rows[1] = s.connections.size();
  f.total_rows[2] = s.remotes.size();

  const bool want_p = opt.tables[0];
  const bool want_c = opt.tables[1];
  const bool want_r = opt.tables[2];
  for (std::size_t i = 0; i < kTables; ++i) f.built[i] = opt.tables[i];
  if (filter.empty()) {
    if (want_p) f.processes = std::move(procs);
    if (want_c) {
      f.connections.reserve(s.connections.size());
      for (const ConnectionRecord& c : s.connections) f.connections.push_back(&c);
    }
    if (want_r) {
      f.remotes.reserve(s.remotes.size());
      for (const RemoteRecord& r : s.remotes) f.remotes.push_back(&r);
    }
  } else if (filter_gathers(filter, opt) && filter.term_bits_supported()) {
    // Process and remote rows test the terms they lack against their connections: one
    // pass notes which terms each connection has positive, and a row ORs its
    // connections' bits (SnapshotIndex knows each connection's owner rows).
    const SnapshotIndex& idx = *f.index;
    idx.prepare(filter, opt);
    const Filter::BareHits hits = row_hits(filter, idx);
    // snapshot->processes index -> row of `procs` (the folded "<UNKNOWN>" row last).
    std::vector<std::uint32_t> row_of_process(s.processes.size(), SnapshotIndex::kNoRow);
    for (std::size_t i = 0; i < procs.size(); ++i) {
      if (procs[i] != f.unknown.get()) {
        row_of_process[static_cast<std::size_t>(procs[i] - s.processes.data())] =
            static_cast<std::uint32_t>(i);
      }
    }
    const std::size_t unknown_row = f.unknown ? procs.size() - 1 : procs.size();
    std::vector<std::uint64_t> proc_any(procs.size() + 1, 0);
    std::vector<std::uint64_t> remote_any(s.remotes.size() + 1, 0);
    const auto& process_of = idx.process_of();
    const auto& remote_of = idx.remote_of();
    if (want_c) f.connections.reserve(s.connections.size() / 4);
    for (std::size_t j = 0; j < s.connections.size(); ++j) {
      const ConnectionRecord& c = s.connections[j];
      const std::uint64_t bits = filter.term_bits(c, j, hits);
      if (want_c && filter.matches_bits(bits)) f.connections.push_back(&c);
      if (want_p) {
        const std::uint32_t p = process_of[j];
        const std::size_t row = p == SnapshotIndex::kUnattributed ? unknown_row
                                : p == SnapshotIndex::kNoRow      ? procs.size()
                                                                  : row_of_process[p];
        proc_any[std::min<std::size_t>(row, procs.size())] |= bits;
      }
      if (want_r) {
        const std::uint32_t r = remote_of[j];
        remote_any[r == SnapshotIndex::kNoRow ? s.remotes.size() : r] |= bits;
      }
    }
    if (want_p) {
      for (std::size_t i = 0; i < procs.size(); ++i) {
        if (filter.matches_bits(*procs[i], proc_any[i])) f.processes.push_back(procs[i]);
      }
    }
    if (want_r) {
      for (std::size_t i = 0; i < s.remotes.size(); ++i) {
        if (filter.matches_bits(s.remotes[i], remote_any[i])) f.remotes.push_back(&s.remotes[i]);
      }
    }
  } else {
    // Process and remote rows test the terms they lack against their connections.
    const bool gather = filter.needs_connections();
    if (want_c) {
      const SnapshotIndex& idx = *f.index;
      idx.prepare(filter, opt);
      const Filter::BareHits hits = row_hits(filter, idx);
      for (std::size_t j = 0; j < s.connections.size(); ++j) {
        if (filter.matches(s.connections[j], j, hits)) f.connections.push_back(&s.connections[j]);
      }
    }
    if (!gather) {
      for (const ProcessRecord* p : procs) {
        if (want_p && filter.matches(*p, {})) f.processes.push_back(p);
      }
      for (const RemoteRecord& r : s.remotes) {
        if (want_r && filter.matches(r, {})) f.remotes.push_back(&r);
      }
    } else {
      // Each row's connections as a slice of one flat array (a counting sort by owner), so
      // that 100,000 connections cost two small-table lookups each, not a vector apiece.
      if (want_p) {
        const ConnectionGroups by_proc = group_by_process(s.connections, procs);
        for (std::size_t i = 0; i < procs.size(); ++i) {
          if (filter.matches(*procs[i], by_proc.of(i))) f.processes.push_back(procs[i]);
        }
      }
      if (want_r) {
        const ConnectionGroups by_remote = group_by_remote(s.connections, s.remotes);
        for (std::size_t i = 0; i < s.remotes.size(); ++i) {
          if (filter.matches(s.remotes[i], by_remote.of(i))) f.remotes.push_back(&s.remotes[i]);
        }
      }
    }
  }
  sort_rows(f.processes, Table::processes, sorts[0], opt);
  sort_rows(f.connections, Table::connections, sorts[1], opt, &f.lazy, f.index.get());
  sort_rows(f.remotes, Table::remotes, sorts[2], opt);
  return f;
}

std::string endpoint_text(const core::IpAddress& a, std::uint16_t port, std::uint8_t proto,
                          bool port_numbers) {
  std::string addr = a.to_string();
  if (!a.is_v4()) addr = "[" + addr + "]";
  if (port == 0) return addr;
  if (!port_numbers) {
    const std::string_view name = enrich::service_name(port, proto);
    if (!name.empty()) return addr + ":" + std::string(name);
  }
  return fmt::format("{}:{}", addr, port);
}

std::string remote_text(const ConnectionRecord& c, const ModelOptions& opt) {
  if (opt.resolve && !c.remote_host.empty()) {
    std::string port;
    if (c.remote_port != 0) {
      const std::string_view name =
          opt.port_numbers ? std::string_view{} : enrich::service_name(c.remote_port, c.proto);
      port = name.empty() ? fmt::format(":{}", c.remote_port) : ":" + std::string(name);
    }
    return printable(c.remote_host) + port;
  }
  return endpoint_text(c.remote_addr, c.remote_port, c.proto, opt.port_numbers);
}

std::string_view app_host(const ConnectionRecord& c) {
  if (!c.dpi->sni.empty()) return c.dpi->sni;
  if (!c.dpi->http_host.empty()) return c.dpi->http_host;
  return c.dpi->app;
}

std::string process_cell(ColumnId col, const ProcessRecord& p, const ModelOptions& opt) {
  switch (col) {
    case ColumnId::pid:
      return p.pid ? std::to_string(*p.pid) : "";
    case ColumnId::user:
      if (!p.user.empty()) return printable(p.user);
      return p.uid ? std::to_string(*p.uid) : "";
    case ColumnId::process_name:
      return p.pid ? printable(p.name) : std::string(kUnknownProcess);
    case ColumnId::container:
      return printable(p.container);
    case ColumnId::down:
      return rate_cell(p.rate_down, p.bytes_down, opt);
    case ColumnId::up:
      return rate_cell(p.rate_up, p.bytes_up, opt);
    case ColumnId::total:
      return format_total(p.bytes_up + p.bytes_down, opt.units);
    case ColumnId::conns:
      return std::to_string(p.connections);
    default:
      return "";
  }
}

std::string connection_cell(ColumnId col, const ConnectionRecord& c, const ModelOptions& opt) {
  switch (col) {
    case ColumnId::proto:
      return c.proto_name.empty() ? std::to_string(c.proto) : c.proto_name;
    case ColumnId::local:
      return endpoint_text(c.local_addr, c.local_port, c.proto, opt.port_numbers);
    case ColumnId::remote:
      return remote_text(c, opt);
    case ColumnId::state:
      return printable(c.state);
    case ColumnId::service:
      return printable(c.service);
    case ColumnId::app_host:
      return printable(app_host(c));
    case ColumnId::down:
      return rate_cell(c.rate_down, c.bytes_down, opt);
    case ColumnId::up:
      return rate_cell(c.rate_up, c.bytes_up, opt);
    case ColumnId::process:
      if (!c.pid) return std::string(kUnknownProcess);
      return c.process.empty() ? std::to_string(*c.pid) : printable(c.process);
    case ColumnId::rtt:
      return c.rtt_ms ? fmt::format("{:.1f}ms", *c.rtt_ms) : "";
    default:
      return "";
  }
}

std::string remote_cell(ColumnId col, const RemoteRecord& r, const ModelOptions& opt) {
  switch (col) {
    case ColumnId::remote_addr:
      if (opt.resolve && !r.host.empty()) return printable(r.host);
      return r.addr.to_string();
    case ColumnId::country:
      return printable(r.country);
    case ColumnId::asn:
      if (!r.asn) return "";
      return r.asn_org.empty() ? fmt::format("AS{}", *r.asn)
                               : fmt::format("AS{} {}", *r.asn, printable(r.asn_org));
    case ColumnId::conns:
      return std::to_string(r.connections);
    case ColumnId::down:
      return rate_cell(r.rate_down, r.bytes_down, opt);
    case ColumnId::up:
      return rate_cell(r.rate_up, r.bytes_up, opt);
    default:
      return "";
  }
}

std::string cell_text(Table t, ColumnId col, const Frame& f, std::size_t row,
                      const ModelOptions& opt) {
  if (row >= f.rows(t)) return "";
  switch (t) {
    case Table::processes:
      return process_cell(col, *f.processes[row], opt);
    case Table::connections:
      f.ensure_sorted(row, row + 1);
      return connection_cell(col, *f.connections[row], opt);
    case Table::remotes:
      return remote_cell(col, *f.remotes[row], opt);
  }
  return "";
}

int staleness_level(const ConnectionRecord& c, core::Timestamp now) {
  const double s = monitor::staleness(c, now);
  return s >= 0.9 ? 2 : s >= 0.75 ? 1 : 0;
}

}  // namespace netscope::tui
