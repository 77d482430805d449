// DNS over UDP and TCP: every message of the flow is parsed (up to dns_max_messages),
// queries wait in a bounded table until the response with the same ID and question
// arrives (RFC 5452 §4.1: a resolver matches on ID, question and addresses; the flow
// already fixes the addresses), and each pair becomes a DnsEvent with its latency.
// A query with no response is reported when it times out, is pushed out of the table,
// or the flow ends.
//
// Flow state: DNS_QUERY while a query is unanswered, DNS_RESPONSE once all are answered.
// Retransmitted queries (same ID and question) keep the first one's time, so latency is
// what the client waited.

#include <algorithm>
#include <limits>

#include "dpi/dns.hpp"
#include "dpi/session.hpp"

namespace netscope::dpi {
namespace {

struct PendingQuery {
  std::uint16_t id = 0;
  std::uint16_t qtype = 0;
  std::string qname;
  core::Timestamp time;
  core::IpAddress client;
  core::IpAddress server;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
};

bool same_question(const PendingQuery& q, const dns::Message& m) {
  if (!m.has_question) return true;  // responses may omit the question (RFC 1035 §4.1.2 allows it)
  return q.qtype == m.qtype && iequals(q.qname, m.qname);
}

class DnsTransactions {
 public:
  explicit DnsTransactions(bool tcp) : tcp_(tcp) {}

  void on_message(const dns::Message& m, SessionContext& c) {
    expire(c);
    if (m.response) {
      on_response(m, c);
    } else if (m.opcode == 0) {  // QUERY; NOTIFY/UPDATE are not lookups
      on_query(m, c);
    }
  }

  void expire(SessionContext& c) {
    const std::int64_t timeout = c.shared.config.dns_query_timeout_ns;
    while (!pending_.empty() && c.pkt.ts.ns - pending_.front().time.ns > timeout) {
      report_unanswered(pending_.front(), c.shared, c.out);
      pending_.erase(pending_.begin());
    }
  }

  void flush(Shared& shared, InspectResult& out) {
    for (const PendingQuery& q : pending_) report_unanswered(q, shared, out);
    pending_.clear();
  }

  bool idle() const { return pending_.empty(); }

 private:
  void on_query(const dns::Message& m, SessionContext& c) {
    for (const PendingQuery& q : pending_) {
      if (q.id == m.id && same_question(q, m)) return;  // a retransmission
    }
    if (pending_.size() >= c.shared.config.dns_max_pending) {
      ++c.shared.counters.dns_pending_overflow;
      report_unanswered(pending_.front(), c.shared, c.out);
      pending_.erase(pending_.begin());
    }
    PendingQuery q;
    q.id = m.id;
    q.qtype = m.qtype;
    q.qname = m.qname;
    q.time = c.pkt.ts;
    q.client = c.pkt.src;
    q.client_port = c.pkt.sport;
    q.server = c.pkt.dst;
    q.server_port = c.pkt.dport;
    pending_.push_back(std::move(q));
  }

  void on_response(const dns::Message& m, SessionContext& c) {
    DnsEvent e;
    const auto it = std::find_if(pending_.begin(), pending_.end(), [&](const PendingQuery& q) {
      return q.id == m.id && same_question(q, m);
    });
    if (it != pending_.end()) {
      fill_from_query(*it, e);
      e.query = std::move(it->qname);  // the entry goes: its name need not be copied
      e.latency_ms = core::millis_between(it->time, c.pkt.ts);
      pending_.erase(it);
    } else {
      ++c.shared.counters.dns_unmatched_responses;
      e.time = c.pkt.ts;
      e.client = c.pkt.dst;
      e.client_port = c.pkt.dport;
      e.server = c.pkt.src;
      e.server_port = c.pkt.sport;
      e.id = m.id;
      e.query = m.qname;
      e.qtype_code = m.qtype;
      e.qtype = dns::qtype_name(m.qtype);
    }
    e.tcp = tcp_;
    e.rcode = dns::rcode_name(m.rcode);
    e.rcode_code = m.rcode;
    for (const dns::Record& r : m.records) {
      if (r.section != dns::Section::answer) continue;
      e.answers.push_back(r.answer);
    }
    c.out.dns.push_back(std::move(e));
  }

  // Every field the query gives but its name (copied or moved by the caller).
  void fill_from_query(const PendingQuery& q, DnsEvent& e) const {
    e.time = q.time;
    e.client = q.client;
    e.client_port = q.client_port;
    e.server = q.server;
    e.server_port = q.server_port;
    e.tcp = tcp_;
    e.id = q.id;
    e.qtype_code = q.qtype;
    e.qtype = dns::qtype_name(q.qtype);
  }

  void report_unanswered(const PendingQuery& q, Shared& shared, InspectResult& out) const {
    ++shared.counters.dns_unanswered;
    DnsEvent e;
    fill_from_query(q, e);
    e.query = q.qname;
    out.dns.push_back(std::move(e));
  }

  bool tcp_;
  std::vector<PendingQuery> pending_;  // oldest first, at most dns_max_pending
};

// Shared by both transports: one parsed message.
void handle_message(Session& s, DnsTransactions& tx, std::uint32_t& messages, Bytes msg,
                    SessionContext& c) {
  if (++messages > c.shared.config.dns_max_messages) {
    if (!s.done) ++c.shared.counters.dns_message_cap;
    s.done = true;
    return;
  }
  const dns::Message* parsed = c.dns_parsed;
  if (parsed == nullptr) {
    dns::Message& m = c.shared.dns_message;
    if (!dns::parse_message(msg, m)) {
      ++c.shared.counters.malformed_dns;
      return;
    }
    parsed = &m;
  }
  tx.on_message(*parsed, c);
  const AppState next = tx.idle() ? AppState::dns_response : AppState::dns_query;
  if (next != s.state) {
    s.state = next;
    c.out.changed = true;
  }
}

class DnsUdpSession final : public Session {
 public:
  DnsUdpSession() : Session(Protocol::dns), tx_(false) {}

  void on_packet(SessionContext& c) override {
    if (c.pkt.payload.empty()) return;
    handle_message(*this, tx_, messages_, c.pkt.payload, c);
  }
  void on_finish(Shared& shared, InspectResult& out) override { tx_.flush(shared, out); }

 private:
  DnsTransactions tx_;
  std::uint32_t messages_ = 0;
};

class DnsTcpSession final : public TcpSession {
 public:
  explicit DnsTcpSession(Shared& shared) : TcpSession(Protocol::dns, shared), tx_(true) {
    // The message cap bounds a DNS stream (a message may span many segments, and one
    // segment carry many messages); a segment budget would pre-empt it uncounted.
    segment_budget_ = std::numeric_limits<std::uint32_t>::max();
  }
  void on_finish(Shared& shared, InspectResult& out) override { tx_.flush(shared, out); }

 private:
  std::size_t on_data(SessionContext& c, int dir, Bytes data) override {
    std::size_t used = 0;
    Bytes msg;
    std::size_t n = 0;
    while (!done && dns::next_tcp_message(data.subspan(used), msg, n)) {
      handle_message(*this, tx_, messages_, msg, c);
      used += n;
    }
    // A message that cannot fit: this direction ends (both ended: the session is done).
    if (!done && used < data.size() && at_cap(data.subspan(used), c.shared)) end_direction(dir);
    return used;
  }

  DnsTransactions tx_;
  std::uint32_t messages_ = 0;
};

}  // namespace

std::unique_ptr<Session> make_dns_udp_session() {
  return std::make_unique<DnsUdpSession>();
}

std::unique_ptr<TcpSession> make_dns_tcp_session(Shared& shared) {
  return std::make_unique<DnsTcpSession>(shared);
}

}  // namespace netscope::dpi
