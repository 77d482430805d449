#include "output/prometheus_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <utility>

namespace netscope::output {

namespace {

using GroupKey = std::tuple<std::string, std::string, std::string>;  // process, user, container

constexpr std::string_view kOther = "other";

// RTT and DNS latency buckets, in seconds: 0.5 ms to 5 s.
constexpr std::array<double, 13> kLatencyBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5};

struct Histogram {
  std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};  // non-cumulative
  std::uint64_t count = 0;
  double sum = 0;

  void observe(double seconds) {
    if (!(seconds >= 0) || !std::isfinite(seconds)) return;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      if (seconds <= kLatencyBuckets[i]) {
        ++buckets[i];
        break;
      }
    }
    ++count;
    sum += seconds;
  }
};

// The TCP health counters exported, per direction.
struct Health {
  std::uint64_t retransmissions = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t zero_windows = 0;
};

Health health_of(const monitor::TcpHealthRecord& h) {
  return Health{h.retransmissions, h.out_of_order, h.zero_windows};
}

// Adds to `total` what `now` grew beyond `high`, and raises `high`.
void add_growth(std::uint64_t now, std::uint64_t& high, std::uint64_t& total) {
  if (now > high) {
    total += now - high;
    high = now;
  }
}

void add_health(const Health& now, Health& high, Health& total) {
  add_growth(now.retransmissions, high.retransmissions, total.retransmissions);
  add_growth(now.out_of_order, high.out_of_order, total.out_of_order);
  add_growth(now.zero_windows, high.zero_windows, total.zero_windows);
}

void add_counters(TrafficCounters& to, const TrafficCounters& d) {
  to.bytes_up += d.bytes_up;
  to.bytes_down += d.bytes_down;
  to.packets_up += d.packets_up;
  to.packets_down += d.packets_down;
}

struct SourceKey {
  std::int64_t pid = -1;  // -1: the <UNKNOWN> group
  std::int64_t start_ns = 0;
  bool operator==(const SourceKey&) const = default;
};

struct SourceKeyHash {
  std::size_t operator()(const SourceKey& k) const {
    return std::hash<std::int64_t>{}(k.pid * 1'000'003 ^ k.start_ns);
  }
};

struct Source {
  TrafficCounters high;
  std::uint64_t last_tick = 0;
  bool exited = false;
};

struct Group {
  TrafficCounters exposed;  // the series' value while a member
  TrafficCounters pending;  // this tick's growth, before membership is settled
  double score = 0;         // decayed bytes
  bool member = false;
  std::uint64_t last_tick = 0;
};

struct ConnKey {
  std::uint8_t proto = 0;
  core::IpAddress local;
  std::uint16_t local_port = 0;
  core::IpAddress remote;
  std::uint16_t remote_port = 0;
  std::int64_t first_seen_ns = 0;
  bool operator==(const ConnKey&) const = default;
};

struct ConnKeyHash {
  std::size_t operator()(const ConnKey& k) const {
    // FNV-1a over the fields.
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const std::uint8_t* p, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
      }
    };
    mix(k.local.bytes().data(), 16);
    mix(k.remote.bytes().data(), 16);
    const std::array<std::uint8_t, 5> small{k.proto, static_cast<std::uint8_t>(k.local_port >> 8),
                                            static_cast<std::uint8_t>(k.local_port),
                                            static_cast<std::uint8_t>(k.remote_port >> 8),
                                            static_cast<std::uint8_t>(k.remote_port)};
    mix(small.data(), small.size());
    const auto t = static_cast<std::uint64_t>(k.first_seen_ns);
    return static_cast<std::size_t>(h ^ (t * 0x9e3779b97f4a7c15ull));
  }
};

struct ConnState {
  Health up;
  Health down;
  std::uint64_t bytes = 0;  // up + down at the last tick (an RTT sample needs traffic)
  std::uint64_t last_tick = 0;
};

struct Iface {
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t packets = 0;
  std::uint64_t drops = 0;
  bool up = true;
  std::uint64_t last_tick = 0;
};

constexpr std::size_t kMaxInterfaces = 1024;
constexpr std::uint64_t kConnGraceTicks = 10;  // a connection absent this long is forgotten

bool is_other_key(const GroupKey& k) {
  return std::get<0>(k) == kOther && std::get<1>(k).empty() && std::get<2>(k).empty();
}

void raise(std::uint64_t& v, std::uint64_t now) {
  v = std::max(v, now);
}

}  // namespace

struct PrometheusMetrics::State {
  PrometheusOptions opt;
  std::uint64_t ticks = 0;
  double last_time_s = 0;
  double decay = 1;

  std::unordered_map<SourceKey, Source, SourceKeyHash> sources;
  std::map<GroupKey, Group> groups;
  std::size_t members = 0;
  TrafficCounters other;

  std::unordered_map<ConnKey, ConnState, ConnKeyHash> conns;
  Health health_up;
  Health health_down;
  Histogram rtt;

  std::map<std::string, std::uint64_t> connections_now;  // "proto\0state" -> open connections
  std::map<std::string, std::uint64_t> dns_by_rcode;
  Histogram dns_latency;

  std::map<std::string, Iface> ifaces;

  monitor::Totals totals;  // monotonic fields raised to their maximum
  std::uint64_t flows = 0;

  void update_processes(const monitor::Snapshot& snap);
  void settle_membership();
  void forget_groups();
  void forget_sources();
  void update_connections(const monitor::Snapshot& snap);
  void update_interfaces(const monitor::Snapshot& snap);
  void update_dns(const monitor::Snapshot& snap);
};

void PrometheusMetrics::State::update_processes(const monitor::Snapshot& snap) {
  for (auto& [k, g] : groups) g.score *= decay;
  for (const monitor::ProcessRecord& p : snap.processes) {
    SourceKey sk;
    if (p.pid) {
      sk.pid = *p.pid;
      sk.start_ns = p.start_time ? p.start_time->ns : 0;
    }
    Source& src = sources[sk];
    src.last_tick = ticks;
    src.exited = p.exited;
    TrafficCounters d;
    add_growth(p.bytes_up, src.high.bytes_up, d.bytes_up);
    add_growth(p.bytes_down, src.high.bytes_down, d.bytes_down);
    add_growth(p.packets_up, src.high.packets_up, d.packets_up);
    add_growth(p.packets_down, src.high.packets_down, d.packets_down);
    GroupKey gk{p.name, p.user, p.container};
    Group& g = groups[std::move(gk)];
    g.last_tick = ticks;
    add_counters(g.pending, d);
    g.score += static_cast<double>(d.bytes_up + d.bytes_down);
  }
  settle_membership();
  for (auto& [k, g] : groups) {
    add_counters(g.member ? g.exposed : other, g.pending);
    g.pending = {};
  }
  forget_groups();
  forget_sources();
}

void PrometheusMetrics::State::settle_membership() {
  std::vector<std::map<GroupKey, Group>::iterator> candidates;
  std::vector<std::map<GroupKey, Group>::iterator> weakest;
  for (auto it = groups.begin(); it != groups.end(); ++it) {
    if (it->second.member) {
      weakest.push_back(it);
    } else if (it->second.score > 0 && !is_other_key(it->first)) {
      candidates.push_back(it);
    }
  }
  if (candidates.empty()) return;
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return a->second.score > b->second.score; });
  std::sort(weakest.begin(), weakest.end(),
            [](const auto& a, const auto& b) { return a->second.score < b->second.score; });
  std::size_t w = 0;
  for (auto& c : candidates) {
    if (members < opt.top) {
      c->second.member = true;  // starts at zero: its earlier traffic is in "other"
      c->second.exposed = {};
      ++members;
      continue;
    }
    if (w >= weakest.size() || !(c->second.score > 1.5 * weakest[w]->second.score)) break;
    Group& out = weakest[w++]->second;
    add_counters(other, out.exposed);  // the whole count moves: sum over series is kept
    out.exposed = {};
    out.member = false;
    c->second.member = true;
    c->second.exposed = {};
  }
}

void PrometheusMetrics::State::forget_groups() {
  if (groups.size() <= kMaxGroups) return;
  // Non-members least recently seen first; their counts are already in "other".
  std::vector<std::pair<std::uint64_t, std::map<GroupKey, Group>::iterator>> idle;
  for (auto it = groups.begin(); it != groups.end(); ++it) {
    if (!it->second.member) idle.emplace_back(it->second.last_tick, it);
  }
  const std::size_t excess = groups.size() - kMaxGroups + kMaxGroups / 8;
  const std::size_t n = std::min(excess, idle.size());
  std::nth_element(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(n), idle.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < n; ++i) groups.erase(idle[i].second);
}

void PrometheusMetrics::State::forget_sources() {
  // An exited process that left the snapshot does not come back.
  std::erase_if(
      sources, [this](const auto& kv) { return kv.second.exited && kv.second.last_tick != ticks; });
  if (sources.size() <= kMaxSources) return;
  std::vector<std::pair<std::uint64_t, SourceKey>> byage;
  byage.reserve(sources.size());
  for (const auto& [k, s] : sources) byage.emplace_back(s.last_tick, k);
  const std::size_t n = sources.size() - kMaxSources + kMaxSources / 8;
  std::nth_element(byage.begin(), byage.begin() + static_cast<std::ptrdiff_t>(n), byage.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < n; ++i) sources.erase(byage[i].second);
}

void PrometheusMetrics::State::update_connections(const monitor::Snapshot& snap) {
  connections_now.clear();
  for (const monitor::ConnectionRecord& c : snap.connections) {
    if (!c.closed) {
      std::string combo = c.proto_name + '\0' + c.state;
      if (connections_now.size() >= kMaxLabelCombos && !connections_now.contains(combo)) {
        combo = c.proto_name + '\0' + std::string(kOther);
      }
      ++connections_now[combo];
    }
    if (c.proto != 6) continue;
    const ConnKey key{c.proto,       c.local_addr,  c.local_port,
                      c.remote_addr, c.remote_port, c.first_seen.ns};
    auto it = conns.find(key);
    if (it == conns.end()) {
      if (conns.size() >= kMaxConnectionStates) continue;
      it = conns.emplace(key, ConnState{}).first;
    }
    ConnState& st = it->second;
    st.last_tick = ticks;
    add_health(health_of(c.health_up), st.up, health_up);
    add_health(health_of(c.health_down), st.down, health_down);
    const std::uint64_t bytes = c.bytes_up + c.bytes_down;
    // One RTT observation per connection per tick in which it moved bytes.
    if (bytes > st.bytes && c.rtt_ms) rtt.observe(*c.rtt_ms / 1000.0);
    st.bytes = std::max(st.bytes, bytes);
  }
  std::erase_if(conns,
                [this](const auto& kv) { return kv.second.last_tick + kConnGraceTicks < ticks; });
}

void PrometheusMetrics::State::update_interfaces(const monitor::Snapshot& snap) {
  for (const monitor::InterfaceRecord& r : snap.interfaces) {
    auto it = ifaces.find(r.name);
    if (it == ifaces.end()) {
      if (ifaces.size() >= kMaxInterfaces) {
        auto oldest = std::min_element(
            ifaces.begin(), ifaces.end(),
            [](const auto& a, const auto& b) { return a.second.last_tick < b.second.last_tick; });
        ifaces.erase(oldest);
      }
      it = ifaces.emplace(r.name, Iface{}).first;
    }
    Iface& f = it->second;
    raise(f.bytes_up, r.bytes_up);
    raise(f.bytes_down, r.bytes_down);
    raise(f.packets, r.packets);
    raise(f.drops, r.drops);
    f.up = r.up;
    f.last_tick = ticks;
  }
}

void PrometheusMetrics::State::update_dns(const monitor::Snapshot& snap) {
  for (const monitor::DnsEventRecord& e : snap.dns) {
    std::string rcode = e.rcode ? *e.rcode : std::string("no_response");
    if (dns_by_rcode.size() >= kMaxLabelCombos && !dns_by_rcode.contains(rcode)) {
      rcode = std::string(kOther);
    }
    ++dns_by_rcode[rcode];
    if (e.latency_ms) dns_latency.observe(*e.latency_ms / 1000.0);
  }
}

PrometheusMetrics::PrometheusMetrics(PrometheusOptions options) : s_(std::make_unique<State>()) {
  s_->opt = std::move(options);
}
PrometheusMetrics::~PrometheusMetrics() = default;
PrometheusMetrics::PrometheusMetrics(PrometheusMetrics&&) noexcept = default;
PrometheusMetrics& PrometheusMetrics::operator=(PrometheusMetrics&&) noexcept = default;

void PrometheusMetrics::update(const monitor::Snapshot& snap) {
  State& s = *s_;
  ++s.ticks;
  const double now = snap.time.seconds();
  const double dt = s.ticks == 1 ? snap.refresh_s : std::max(0.0, now - s.last_time_s);
  s.decay = s.opt.half_life_s > 0 ? std::exp2(-dt / s.opt.half_life_s) : 0;
  s.last_time_s = now;
  s.update_processes(snap);
  s.update_connections(snap);
  s.update_interfaces(snap);
  s.update_dns(snap);
  const monitor::Totals& t = snap.totals;
  raise(s.totals.packets, t.packets);
  raise(s.totals.kernel_drops, t.kernel_drops);
  raise(s.totals.flows_evicted, t.flows_evicted);
  raise(s.totals.attribution_overflow, t.attribution_overflow);
  raise(s.totals.dns_dropped, t.dns_dropped);
  s.flows = t.flows;
}

std::uint64_t PrometheusMetrics::ticks() const {
  return s_->ticks;
}

std::map<std::tuple<std::string, std::string, std::string>, TrafficCounters>
PrometheusMetrics::process_series() const {
  std::map<GroupKey, TrafficCounters> out;
  for (const auto& [k, g] : s_->groups) {
    if (g.member) out[k] = g.exposed;
  }
  out[GroupKey{std::string(kOther), "", ""}] = s_->other;
  return out;
}

// ---- rendering ----

void append_label_value(std::string& out, std::string_view v) {
  std::size_t i = 0;
  while (i < v.size()) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x80) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // UTF-8 (RFC 3629): the length from the lead byte, continuation bytes 10xxxxxx, no
    // overlong forms, no surrogates, nothing above U+10FFFF.
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07u;
    }
    bool ok = len > 0 && i + len <= v.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(v[i + k]);
      if ((cc & 0xc0u) != 0x80u) ok = false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))) {
      ok = false;
    }
    if (ok) {
      out.append(v.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
    }
  }
}

void append_help_text(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_help_text(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(end - p));
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

// name{k1="v1",k2="v2"} value
struct Labels {
  std::initializer_list<std::pair<std::string_view, std::string_view>> items;
};

void sample(std::string& out, std::string_view name, Labels labels, std::uint64_t value) {
  out += name;
  if (labels.items.size() > 0) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : labels.items) {
      if (!first) out += ',';
      first = false;
      out += k;
      out += "=\"";
      append_label_value(out, v);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_uint(out, value);
  out += '\n';
}

void histogram(std::string& out, std::string_view name, std::string_view help, const Histogram& h) {
  header(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += h.buckets[i];
    out += name;
    out += "_bucket{le=\"";
    append_double(out, kLatencyBuckets[i]);
    out += "\"} ";
    append_uint(out, cumulative);
    out += '\n';
  }
  out += name;
  out += "_bucket{le=\"+Inf\"} ";
  append_uint(out, h.count);
  out += '\n';
  out += name;
  out += "_sum ";
  append_double(out, h.sum);
  out += '\n';
  out += name;
  out += "_count ";
  append_uint(out, h.count);
  out += '\n';
}

}  // namespace

void PrometheusMetrics::render(std::string& out) const {
  const State& s = *s_;
  out.reserve(out.size() + 256 + (s.members + 1) * 4 * 110 + s.ifaces.size() * 300);

  header(out, "netscope_build_info", "gauge", "netscope's version; the value is always 1.");
  sample(out, "netscope_build_info", {{{"version", s.opt.version}}}, 1);
  header(out, "netscope_ticks_total", "counter", "Snapshots the exporter has received.");
  sample(out, "netscope_ticks_total", {}, s.ticks);
  header(out, "netscope_last_tick_timestamp_seconds", "gauge",
         "Time of the latest snapshot (packet time for a --read replay).");
  out += "netscope_last_tick_timestamp_seconds ";
  append_double(out, s.last_time_s);
  out += '\n';

  // Per process group: bytes and packets, the top N groups and "other".
  const auto each_series = [&s](auto&& fn) {
    for (const auto& [k, g] : s.groups) {
      if (g.member) fn(std::get<0>(k), std::get<1>(k), std::get<2>(k), g.exposed);
    }
    fn(kOther, std::string_view(), std::string_view(), s.other);
  };
  header(out, "netscope_process_bytes_total", "counter",
         "IP bytes sent (up) and received (down) by processes, by name, user and container. "
         "Groups outside the top --prometheus-top are summed into process=\"other\".");
  each_series([&out](std::string_view p, std::string_view u, std::string_view c,
                     const TrafficCounters& t) {
    sample(out, "netscope_process_bytes_total",
           {{{"process", p}, {"user", u}, {"container", c}, {"direction", "up"}}}, t.bytes_up);
    sample(out, "netscope_process_bytes_total",
           {{{"process", p}, {"user", u}, {"container", c}, {"direction", "down"}}}, t.bytes_down);
  });
  header(out, "netscope_process_packets_total", "counter",
         "Packets sent (up) and received (down) by processes, grouped as "
         "netscope_process_bytes_total.");
  each_series([&out](std::string_view p, std::string_view u, std::string_view c,
                     const TrafficCounters& t) {
    sample(out, "netscope_process_packets_total",
           {{{"process", p}, {"user", u}, {"container", c}, {"direction", "up"}}}, t.packets_up);
    sample(out, "netscope_process_packets_total",
           {{{"process", p}, {"user", u}, {"container", c}, {"direction", "down"}}},
           t.packets_down);
  });

  header(out, "netscope_interface_bytes_total", "counter",
         "IP bytes of the connections seen on each capture interface, up and down.");
  for (const auto& [name, f] : s.ifaces) {
    sample(out, "netscope_interface_bytes_total", {{{"interface", name}, {"direction", "up"}}},
           f.bytes_up);
    sample(out, "netscope_interface_bytes_total", {{{"interface", name}, {"direction", "down"}}},
           f.bytes_down);
  }
  header(out, "netscope_interface_packets_total", "counter",
         "Packets of the connections seen on each capture interface.");
  for (const auto& [name, f] : s.ifaces) {
    sample(out, "netscope_interface_packets_total", {{{"interface", name}}}, f.packets);
  }
  header(out, "netscope_interface_drops_total", "counter",
         "Packets the kernel dropped before netscope read them, per capture interface.");
  for (const auto& [name, f] : s.ifaces) {
    sample(out, "netscope_interface_drops_total", {{{"interface", name}}}, f.drops);
  }
  header(out, "netscope_interface_up", "gauge", "1 while capture on the interface runs, else 0.");
  for (const auto& [name, f] : s.ifaces) {
    sample(out, "netscope_interface_up", {{{"interface", name}}}, f.up ? 1 : 0);
  }

  header(out, "netscope_packets_total", "counter", "Packets captured.");
  sample(out, "netscope_packets_total", {}, s.totals.packets);
  header(out, "netscope_kernel_drops_total", "counter",
         "Packets the kernel dropped before netscope read them, all interfaces.");
  sample(out, "netscope_kernel_drops_total", {}, s.totals.kernel_drops);
  header(out, "netscope_flows", "gauge", "Flows in the flow table.");
  sample(out, "netscope_flows", {}, s.flows);
  header(out, "netscope_flows_evicted_total", "counter",
         "Flows ended early because the flow table was full (--max-flows).");
  sample(out, "netscope_flows_evicted_total", {}, s.totals.flows_evicted);
  header(out, "netscope_attribution_overflow_total", "counter",
         "Process lookups dropped because their queue was full.");
  sample(out, "netscope_attribution_overflow_total", {}, s.totals.attribution_overflow);

  header(out, "netscope_connections", "gauge",
         "Connections open now (or active within the rate window), by protocol and state.");
  for (const auto& [combo, n] : s.connections_now) {
    const std::size_t nul = combo.find('\0');
    const std::string_view proto = std::string_view(combo).substr(0, nul);
    const std::string_view state = std::string_view(combo).substr(nul + 1);
    sample(out, "netscope_connections", {{{"proto", proto}, {"state", state}}}, n);
  }

  header(out, "netscope_dns_queries_total", "counter",
         "DNS transactions by response code (no_response: no answer was seen).");
  for (const auto& [rcode, n] : s.dns_by_rcode) {
    sample(out, "netscope_dns_queries_total", {{{"rcode", rcode}}}, n);
  }
  header(out, "netscope_dns_dropped_total", "counter",
         "DNS transactions lost because a bounded queue was full.");
  sample(out, "netscope_dns_dropped_total", {}, s.totals.dns_dropped);
  histogram(out, "netscope_dns_latency_seconds", "Time from a DNS query to its response.",
            s.dns_latency);

  const auto health = [&out, &s](std::string_view name, std::string_view help, auto field) {
    header(out, name, "counter", help);
    sample(out, name, {{{"direction", "up"}}}, s.health_up.*field);
    sample(out, name, {{{"direction", "down"}}}, s.health_down.*field);
  };
  health("netscope_tcp_retransmissions_total",
         "Retransmitted TCP segments (fast and spurious included, as tshark counts them); up: "
         "sent by the local side.",
         &Health::retransmissions);
  health("netscope_tcp_out_of_order_total", "TCP segments received out of order.",
         &Health::out_of_order);
  health("netscope_tcp_zero_windows_total", "TCP segments advertising a zero window.",
         &Health::zero_windows);
  histogram(out, "netscope_tcp_rtt_seconds",
            "Round-trip time of TCP connections: one observation per connection per refresh in "
            "which it carried traffic.",
            s.rtt);
}

}  // namespace netscope::output
