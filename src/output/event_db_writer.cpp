#include "output/event_db_writer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/timestamp.hpp"

namespace netscope::output {

namespace {

// Connection columns in bind order. The first kKeyColumns identify the connection and
// are written once; the rest are written on insert and on every update. An update keeps
// a known value (COALESCE) rather than forget it when a later snapshot no longer has it.
struct Column {
  const char* name;
  bool keep_known;
};
constexpr Column kConnColumns[] = {
    {"proto", false},
    {"local_addr", false},
    {"local_port", false},
    {"remote_addr", false},
    {"remote_port", false},
    {"first_seen", false},
    {"first_seen_us", false},
    {"remote_host", true},
    {"interface", true},
    {"pid", true},
    {"process", true},
    {"cmdline", true},
    {"user", true},
    {"container", true},
    {"container_runtime", true},
    {"pod_uid", true},
    {"unit", true},
    {"attribution", false},
    {"app", true},
    {"sni", true},
    {"http_host", true},
    {"country", true},
    {"asn", true},
    {"asn_org", true},
    {"state", true},
    {"bytes_up", false},
    {"bytes_down", false},
    {"packets_up", false},
    {"packets_down", false},
    {"payload_bytes_up", false},
    {"payload_bytes_down", false},
    {"rtt_ms", true},
    {"last_seen", false},
    {"last_seen_us", false},
    {"close_reason", true},
    {"retransmissions_up", false},
    {"fast_retransmissions_up", false},
    {"spurious_retransmissions_up", false},
    {"out_of_order_up", false},
    {"dup_acks_up", false},
    {"dup_ack_events_up", false},
    {"zero_windows_up", false},
    {"rsts_up", false},
    {"retransmissions_down", false},
    {"fast_retransmissions_down", false},
    {"spurious_retransmissions_down", false},
    {"out_of_order_down", false},
    {"dup_acks_down", false},
    {"dup_ack_events_down", false},
    {"zero_windows_down", false},
    {"rsts_down", false},
    {"alert", true},
};
constexpr std::size_t kKeyColumns = 7;

std::string insert_connection_sql() {
  std::string cols;
  std::string vals;
  for (const Column& c : kConnColumns) {
    cols += cols.empty() ? "" : ", ";
    cols += c.name;
    vals += vals.empty() ? "?" : ", ?";
  }
  return fmt::format("INSERT INTO connections ({}) VALUES ({})", cols, vals);
}

std::string update_connection_sql() {
  std::string sets;
  for (std::size_t i = kKeyColumns; i < std::size(kConnColumns); ++i) {
    const char* n = kConnColumns[i].name;
    sets += sets.empty() ? "" : ", ";
    sets += kConnColumns[i].keep_known ? fmt::format("{0} = COALESCE(?, {0})", n)
                                       : fmt::format("{} = ?", n);
  }
  return fmt::format("UPDATE connections SET {} WHERE id = ?", sets);
}

// The update of a connection whose identity (process, DPI fields, enrichment) has not
// changed since its row was written: only the columns that move. It leaves the indexes on
// process, pid, remote address and SNI alone, which is most of the cost of an update.
constexpr const char* kUpdateCountersSql =
    "UPDATE connections SET state = COALESCE(?, state), bytes_up = ?, bytes_down = ?, "
    "packets_up = ?, packets_down = ?, payload_bytes_up = ?, payload_bytes_down = ?, "
    "rtt_ms = COALESCE(?, rtt_ms), last_seen = ?, last_seen_us = ?, "
    "close_reason = COALESCE(?, close_reason), retransmissions_up = ?, "
    "fast_retransmissions_up = ?, spurious_retransmissions_up = ?, out_of_order_up = ?, "
    "dup_acks_up = ?, dup_ack_events_up = ?, zero_windows_up = ?, rsts_up = ?, "
    "retransmissions_down = ?, fast_retransmissions_down = ?, spurious_retransmissions_down = ?, "
    "out_of_order_down = ?, dup_acks_down = ?, dup_ack_events_down = ?, zero_windows_down = ?, "
    "rsts_down = ? WHERE id = ?";

std::int64_t i64(std::uint64_t v) {
  return v > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(v);
}

// Binds consecutive parameters.
class Binder {
 public:
  explicit Binder(sqlite::Statement& st) : st_(st) {}
  Binder& text(std::string_view v) {
    st_.bind_text(++i_, v);
    return *this;
  }
  Binder& num(std::int64_t v) {
    st_.bind(++i_, v);
    return *this;
  }
  Binder& num(std::uint64_t v) { return num(i64(v)); }
  Binder& opt(const std::optional<std::int64_t>& v) {
    st_.bind(++i_, v);
    return *this;
  }
  Binder& opt(const std::optional<double>& v) {
    st_.bind(++i_, v);
    return *this;
  }
  Binder& time(core::Timestamp t) { return text(core::to_rfc3339(t)).num(t.micros()); }
  Binder& health(const monitor::TcpHealthRecord& h) {
    return num(h.retransmissions)
        .num(h.fast_retransmissions)
        .num(h.spurious_retransmissions)
        .num(h.out_of_order)
        .num(h.dup_acks)
        .num(h.dup_ack_events)
        .num(h.zero_windows)
        .num(h.rsts);
  }
  int index() const { return i_; }

 private:
  sqlite::Statement& st_;
  int i_ = 0;
};

template <typename T>
std::optional<std::int64_t> opt_i64(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

// address, cidr or domain: what kind of blacklist entry `entry` is.
std::string entry_kind(const std::string& entry) {
  if (entry.find('/') != std::string::npos) return "cidr";
  if (core::IpAddress::parse(entry)) return "address";
  return "domain";
}

// `name` is `domain` or one of its subdomains (case-insensitive, trailing dot ignored).
bool in_domain(std::string_view name, std::string_view domain) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.size() < domain.size()) return false;
  const std::string_view tail = name.substr(name.size() - domain.size());
  for (std::size_t i = 0; i < tail.size(); ++i) {
    char c = tail[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != domain[i]) return false;
  }
  return name.size() == domain.size() || name[name.size() - domain.size() - 1] == '.';
}

std::string who(const std::optional<pid_t>& pid, const std::string& process) {
  if (!pid) return process.empty() ? "an unknown process" : process;
  return fmt::format("{}[{}]", process.empty() ? "?" : process, *pid);
}

// The finalizer of splitmix64: a strong, cheap mix of a 64-bit word.
std::uint64_t mix64(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

// Folds fields into a 64-bit fingerprint: each 8-byte word is multiplied in, and the
// lengths of strings go in too, so that "ab" + "c" and "a" + "bc" differ.
class Fingerprint {
 public:
  void add(std::uint64_t v) {
    h_ = (h_ ^ v) * 0x9E3779B97F4A7C15ull;
    h_ ^= h_ >> 32;
  }
  void add(std::string_view s) {
    add(std::uint64_t{s.size()});
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      add(w);
    }
    if (i < s.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, s.size() - i);
      add(w);
    }
  }
  std::uint64_t value() const { return mix64(h_); }

 private:
  std::uint64_t h_ = 0x243F6A8885A308D3ull;
};

}  // namespace

std::uint64_t EventWriter::hash_of(const ConnKey& k) {
  std::uint64_t w[4];
  std::memcpy(&w[0], k.local.bytes().data(), 8);
  std::memcpy(&w[1], k.local.bytes().data() + 8, 8);
  std::memcpy(&w[2], k.remote.bytes().data(), 8);
  std::memcpy(&w[3], k.remote.bytes().data() + 8, 8);
  std::uint64_t h =
      std::uint64_t{k.proto} << 32 | std::uint64_t{k.local_port} << 16 | k.remote_port;
  for (std::uint64_t v : w) h = mix64(h ^ v);
  return mix64(h ^ static_cast<std::uint64_t>(k.first_seen_ns));
}

namespace {

constexpr std::size_t kPrefetchAhead = 4;

void prefetch_identity(const monitor::ConnectionRecord& c) {
  for (const void* p : {static_cast<const void*>(&c), static_cast<const void*>(&c.pid),
                        static_cast<const void*>(&c.dpi), static_cast<const void*>(&c.country),
                        static_cast<const void*>(&c.alert)}) {
    __builtin_prefetch(p);
  }
}

}  // namespace

std::uint64_t EventWriter::identity_of(const monitor::ConnectionRecord& c) {
  Fingerprint f;
  f.add(c.pid ? std::uint64_t{1} << 32 | static_cast<std::uint32_t>(*c.pid) : 0);
  f.add(c.asn ? std::uint64_t{1} << 32 | *c.asn : 0);
  for (const std::string* s : {&c.process, &c.dpi->app, &c.dpi->sni, &c.dpi->http_host,
                               &c.remote_host, &c.country, &c.alert}) {
    f.add(std::string_view(*s));
  }
  return f.value();
}

EventWriter::EventWriter(sqlite::Database& db, const EventDbOptions& options)
    : db_(db), options_(options) {
  insert_conn_ = db_.prepare(insert_connection_sql());
  update_conn_ = db_.prepare(update_connection_sql());
  update_counters_ = db_.prepare(kUpdateCountersSql);
  vanish_conn_ = db_.prepare(
      "UPDATE connections SET close_reason = 'vanished', last_seen = COALESCE(last_seen, ?), "
      "last_seen_us = COALESCE(last_seen_us, ?) WHERE id = ? AND close_reason IS NULL");
  insert_dns_ = db_.prepare(
      "INSERT INTO dns_queries (time, time_us, pid, process, server, query, type, rcode, "
      "rcode_code, answers, latency_ms, alert) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert_alert_ = db_.prepare(
      "INSERT INTO alerts (time, time_us, kind, severity, subject, details, entry, pid, "
      "process, connection_id, dns_query_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
}

void EventWriter::begin() {
  db_.exec("BEGIN IMMEDIATE");
  in_tx_ = true;
  ++tx_number_;
  tx_ = EventDbStats{};
  undo_.clear();
}

EventDbStats EventWriter::commit() {
  db_.exec("COMMIT");
  in_tx_ = false;
  undo_.clear();
  EventDbStats done = tx_;
  done.commits = 1;
  tx_ = EventDbStats{};
  return done;
}

void EventWriter::rollback() {
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  in_tx_ = false;
  // In reverse, so that each key ends with the state it had before its first change.
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->before) {
      conns_.assign(it->key, it->hash, *it->before);
    } else {
      conns_.erase(it->key, it->hash);
    }
  }
  undo_.clear();
  tx_ = EventDbStats{};
}

void EventWriter::journal(Conns::Entry& e) {
  if (e.value.journaled == tx_number_) return;
  undo_.push_back(Undo{e.key, e.hash, e.value});
  e.value.journaled = tx_number_;
}

void EventWriter::journal_absent(const ConnKey& key, std::uint64_t hash) {
  undo_.push_back(Undo{key, hash, std::nullopt});
}

EventWriter::ConnKey EventWriter::key_of(const monitor::ConnectionRecord& c) {
  return ConnKey{c.proto,       c.local_addr,  c.local_port,
                 c.remote_addr, c.remote_port, c.first_seen.ns};
}

const monitor::ProcessRecord* EventWriter::process_of(const monitor::Snapshot& s,
                                                      const monitor::ConnectionRecord& c) {
  if (!c.pid) return nullptr;
  if (procs_of_ != &s || procs_tick_ != s.tick || procs_data_ != s.processes.data()) {
    procs_.clear();
    for (const monitor::ProcessRecord& p : s.processes) {
      if (p.pid) procs_.emplace(*p.pid, &p);
    }
    procs_of_ = &s;
    procs_tick_ = s.tick;
    procs_data_ = s.processes.data();
  }
  const auto it = procs_.find(*c.pid);
  return it == procs_.end() ? nullptr : it->second;
}

template <typename B>
void EventWriter::bind_counters(B& b, const monitor::ConnectionRecord& c,
                                const char* close_reason) {
  b.text(c.state)
      .num(c.bytes_up)
      .num(c.bytes_down)
      .num(c.packets_up)
      .num(c.packets_down)
      .num(c.payload_bytes_up)
      .num(c.payload_bytes_down)
      .opt(c.rtt_ms)
      .time(c.last_seen)
      .text(close_reason != nullptr ? close_reason : "")
      .health(c.health_up)
      .health(c.health_down);
}

void EventWriter::bind_connection(sqlite::Statement& st, const monitor::ConnectionRecord& c,
                                  const monitor::ProcessRecord* p, bool with_key,
                                  const char* close_reason) {
  Binder b(st);
  if (with_key) {
    b.text(c.proto_name.empty() ? std::to_string(c.proto) : c.proto_name)
        .text(c.local_addr.to_string())
        .num(std::int64_t{c.local_port})
        .text(c.remote_addr.to_string())
        .num(std::int64_t{c.remote_port})
        .time(c.first_seen);
  }
  b.text(c.remote_host)
      .text(c.interface)
      .opt(opt_i64(c.pid))
      .text(c.process)
      .text(p != nullptr ? std::string_view(p->cmdline) : std::string_view())
      .text(p != nullptr ? std::string_view(p->user) : std::string_view())
      .text(p != nullptr ? std::string_view(p->container) : std::string_view())
      .text(p != nullptr ? std::string_view(p->container_runtime) : std::string_view())
      .text(p != nullptr ? std::string_view(p->pod_uid) : std::string_view())
      .text(p != nullptr ? std::string_view(p->unit) : std::string_view())
      .text(c.attribution)
      .text(c.dpi->app)
      .text(c.dpi->sni)
      .text(c.dpi->http_host)
      .text(c.country)
      .opt(opt_i64(c.asn))
      .text(c.asn_org);
  bind_counters(b, c, close_reason);
  b.text(c.alert);
}

std::int64_t EventWriter::insert_connection(const monitor::Snapshot& s,
                                            const monitor::ConnectionRecord& c) {
  const char* reason =
      c.closed ? (c.close_reason.empty() ? "closed" : c.close_reason.c_str()) : nullptr;
  bind_connection(insert_conn_, c, process_of(s, c), true, reason);
  insert_conn_.step();
  insert_conn_.reset();
  ++tx_.connections_inserted;
  return db_.last_insert_rowid();
}

void EventWriter::update_connection(const monitor::Snapshot& s, const monitor::ConnectionRecord& c,
                                    std::int64_t rowid, const char* close_reason) {
  bind_connection(update_conn_, c, process_of(s, c), false, close_reason);
  update_conn_.bind(static_cast<int>(std::size(kConnColumns) - kKeyColumns) + 1, rowid);
  update_conn_.step();
  update_conn_.reset();
  ++tx_.connections_updated;
}

void EventWriter::update_counters(const monitor::ConnectionRecord& c, std::int64_t rowid,
                                  const char* close_reason) {
  Binder b(update_counters_);
  bind_counters(b, c, close_reason);
  b.num(rowid);
  update_counters_.step();
  update_counters_.reset();
  ++tx_.connections_updated;
}

void EventWriter::mark_vanished(std::int64_t rowid, core::Timestamp when) {
  Binder(vanish_conn_).time(when).num(rowid);
  vanish_conn_.step();
  vanish_conn_.reset();
  ++tx_.connections_updated;
}

std::int64_t EventWriter::insert_dns(const monitor::DnsEventRecord& d) {
  nlohmann::json answers = nlohmann::json::array();
  for (const std::string& a : d.answers) answers.push_back(a);
  Binder(insert_dns_)
      .time(d.time)
      .opt(opt_i64(d.pid))
      .text(d.process)
      .text(d.server.is_unspecified() ? std::string() : d.server.to_string())
      .text(d.query)
      .text(d.qtype)
      .text(d.rcode ? std::string_view(*d.rcode) : std::string_view())
      .opt(opt_i64(d.rcode_code))
      // No response seen: the answers are unknown (NULL), which is not the same as none.
      .text(d.rcode || d.rcode_code
                ? answers.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                : std::string())
      .opt(d.latency_ms)
      .text(d.alert);
  insert_dns_.step();
  insert_dns_.reset();
  ++tx_.dns_inserted;
  return db_.last_insert_rowid();
}

void EventWriter::insert_alert(core::Timestamp t, const std::string& entry,
                               const std::string& subject, const std::string& details,
                               const std::optional<pid_t>& pid, const std::string& process,
                               std::optional<std::int64_t> connection_id,
                               std::optional<std::int64_t> dns_id) {
  Binder(insert_alert_)
      .time(t)
      .text(entry_kind(entry))
      .text("HIGH")
      .text(subject)
      .text(details)
      .text(entry)
      .opt(opt_i64(pid))
      .text(process)
      .opt(connection_id)
      .opt(dns_id);
  insert_alert_.step();
  insert_alert_.reset();
  ++tx_.alerts_inserted;
}

void EventWriter::insert_connection_alert(const monitor::Snapshot& s,
                                          const monitor::ConnectionRecord& c, std::int64_t rowid) {
  const std::string kind = entry_kind(c.alert);
  std::string field = "remote address";
  std::string subject = c.remote_addr.to_string();
  if (kind == "domain") {
    if (in_domain(c.dpi->sni, c.alert)) {
      field = "sni";
      subject = c.dpi->sni;
    } else if (in_domain(c.dpi->http_host, c.alert)) {
      field = "http_host";
      subject = c.dpi->http_host;
    } else {
      field = "name";
      subject = c.remote_host.empty() ? c.alert : c.remote_host;
    }
  }
  const std::string details = fmt::format(
      "{} {} matched {} {}; {} {}:{} -> {}:{} by {}", field, subject, kind, c.alert,
      c.proto_name.empty() ? std::to_string(c.proto) : c.proto_name, c.local_addr.to_string(),
      c.local_port, c.remote_addr.to_string(), c.remote_port, who(c.pid, c.process));
  insert_alert(s.time, c.alert, subject, details, c.pid, c.process, rowid, std::nullopt);
}

void EventWriter::insert_dns_alert(const monitor::DnsEventRecord& d, std::int64_t rowid) {
  const std::string kind = entry_kind(d.alert);
  std::string field = "query";
  std::string subject = d.query;
  if (kind != "domain" || !in_domain(d.query, d.alert)) {
    field = "answer";
    for (const std::string& a : d.answers) {
      const bool hit = kind == "domain"    ? in_domain(a, d.alert)
                       : kind == "address" ? a == d.alert
                                           : core::IpAddress::parse(a).has_value();
      if (hit) {
        subject = a;
        break;
      }
    }
  }
  const std::string details =
      fmt::format("{} {} matched {} {}; DNS {} {} asked by {}{}", field, subject, kind, d.alert,
                  d.qtype.empty() ? "query" : d.qtype, d.query, who(d.pid, d.process),
                  d.server.is_unspecified() ? "" : " of " + d.server.to_string());
  insert_alert(d.time, d.alert, subject, details, d.pid, d.process, std::nullopt, rowid);
}

void EventWriter::write(const std::shared_ptr<const monitor::Snapshot>& snap) {
  const monitor::Snapshot& s = *snap;
  ++sequence_;
  const std::int64_t update_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.update_interval).count();
  const std::size_t n = s.connections.size();
  for (std::size_t i = 0; i < n; ++i) {
    const monitor::ConnectionRecord& c = s.connections[i];
    // A record is about 1 KB and identity_of() reads fields spread over all of it: ask
    // for a later record's lines now, so that the loop does not wait on memory for each.
    if (i + kPrefetchAhead < n) prefetch_identity(s.connections[i + kPrefetchAhead]);
    const ConnKey key = key_of(c);
    const std::uint64_t hash = hash_of(key);
    const std::uint64_t identity = identity_of(c);
    Conns::Entry* e = conns_.find(key, hash);
    if (e == nullptr) {
      journal_absent(key, hash);
      ConnState st;
      st.rowid = insert_connection(s, c);
      st.closed = c.closed;
      st.updated_ns = s.time.ns;
      st.identity = identity;
      st.journaled = tx_number_;
      if (!c.alert.empty()) {
        insert_connection_alert(s, c, st.rowid);
        st.alerted = true;
      }
      st.seen = sequence_;
      conns_.insert(key, hash, st);
      continue;
    }
    ConnState& st = e->value;
    const bool closing = c.closed && !st.closed;
    const bool due = !st.closed && s.time.ns - st.updated_ns >= update_ns;
    const bool changed = identity != st.identity;
    const bool alert = !st.alerted && !c.alert.empty();
    // The common case (nothing to write, seen in the snapshot before) touches only `seen`.
    if (st.seen != sequence_ - 1 || closing || due || changed || alert) journal(*e);
    st.seen = sequence_;
    if (closing || due || changed) {
      const char* reason =
          c.closed ? (c.close_reason.empty() ? "closed" : c.close_reason.c_str()) : nullptr;
      if (changed) {
        update_connection(s, c, st.rowid, reason);
      } else {
        update_counters(c, st.rowid, reason);
      }
      st.closed = c.closed;
      st.updated_ns = s.time.ns;
      st.identity = identity;
    }
    if (alert) {
      insert_connection_alert(s, c, st.rowid);
      st.alerted = true;
    }
  }
  // Connections that left the snapshot: a closed one has aged out of the rate window; one
  // that was still open vanished without an end (a bound dropped it).
  auto& entries = conns_.entries();
  for (std::size_t i = 0; i < entries.size();) {
    Conns::Entry& e = entries[i];
    if (e.value.seen == sequence_) {
      ++i;
      continue;
    }
    journal(e);
    if (!e.value.closed) mark_vanished(e.value.rowid, s.time);
    conns_.erase_at(i);  // the last entry moves to i
  }
  for (const monitor::DnsEventRecord& d : s.dns) {
    const std::int64_t id = insert_dns(d);
    if (!d.alert.empty()) insert_dns_alert(d, id);
  }
  last_ = snap;
}

void EventWriter::write_final() {
  if (!last_) return;
  const monitor::Snapshot& s = *last_;
  for (const monitor::ConnectionRecord& c : s.connections) {
    const ConnKey key = key_of(c);
    Conns::Entry* e = conns_.find(key, hash_of(key));
    if (e == nullptr || e->value.closed) continue;
    journal(*e);
    const std::uint64_t identity = identity_of(c);
    if (identity != e->value.identity) {
      update_connection(s, c, e->value.rowid, nullptr);
    } else {
      update_counters(c, e->value.rowid, nullptr);
    }
    e->value.updated_ns = s.time.ns;
    e->value.identity = identity;
  }
}

void EventWriter::prune_if_due() {
  if (!options_.retention_days || !last_) return;
  const std::int64_t now = last_->time.ns;
  const std::int64_t every =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.prune_interval).count();
  if (last_prune_ns_ != 0 && now - last_prune_ns_ < every) return;
  last_prune_ns_ = now;
  const double keep_us = *options_.retention_days * 86400.0 * 1e6;
  const std::int64_t cutoff = now / 1000 - static_cast<std::int64_t>(keep_us);
  for (const char* sql :
       {"DELETE FROM connections WHERE last_seen_us < ?",
        "DELETE FROM dns_queries WHERE time_us < ?", "DELETE FROM alerts WHERE time_us < ?"}) {
    sqlite::Statement st = db_.prepare(sql);
    st.bind(1, cutoff);
    st.step();
    tx_.rows_pruned += static_cast<std::uint64_t>(db_.changes());
  }
}

}  // namespace netscope::output
