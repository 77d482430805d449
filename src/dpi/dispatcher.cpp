// The Inspector: recognises a flow's protocol from its first payload packets and hands
// later packets to that protocol's session. Recognisers are tables (STYLE.md §3): a port
// hint only orders the tries; each recogniser checks content, so every protocol works
// on any port (DNS off port 53 only when the message parses strictly, NTP only on its
// port because its header is too weak to tell on its own).
//
// TCP: the first payload segment of each direction is probed in place. When a segment
// arrives before the stream's first one (a reordered capture, seen as a gap after the
// SYN), a ProbeSession buffers the directions until the start is there, then probes
// that and passes the buffered streams on to the recognised protocol's session.

#include <algorithm>
#include <array>
#include <tuple>

#include "dpi/dns.hpp"
#include "dpi/http.hpp"
#include "dpi/ndpi_labeller.hpp"
#include "dpi/others.hpp"
#include "dpi/quic.hpp"
#include "dpi/session.hpp"
#include "dpi/ssh.hpp"
#include "dpi/tls.hpp"

namespace netscope::dpi {

static_assert(sizeof(FlowState) <= 24, "FlowState is stored in every flow: keep it small");

namespace {

namespace flag {
inline constexpr std::uint8_t done = FlowState::kDone;
constexpr std::uint8_t seq_known(int dir) {
  return static_cast<std::uint8_t>(0x02 << dir);
}
constexpr std::uint8_t data_seen(int dir) {
  return static_cast<std::uint8_t>(0x08 << dir);
}
}  // namespace flag

enum class Verdict : std::uint8_t { no, maybe, yes };

Verdict from(bool yes, bool partial) {
  return yes ? Verdict::yes : (partial ? Verdict::maybe : Verdict::no);
}

// The probes' parse target, reused so that probing does not allocate once warm (one
// Inspector per packet thread; the probes are plain functions).
dns::Message& probe_message() {
  thread_local dns::Message m;
  return m;
}

// ---- TCP recognisers: the first bytes of a direction.

Verdict probe_tls(Bytes d, bool) {
  bool partial = false;
  if (!tls::looks_like_handshake_record(d, partial)) return from(false, partial);
  if (d.size() < 6) return Verdict::maybe;
  return from(d[5] == tls::kClientHello || d[5] == tls::kServerHello, false);
}

Verdict probe_http(Bytes d, bool) {
  bool partial_method = false;
  bool partial_status = false;
  const std::string_view text = as_text(d);
  const bool yes = http::starts_with_method(text, partial_method) ||
                   http::starts_with_status_line(text, partial_status);
  return from(yes, partial_method || partial_status);
}

Verdict probe_ssh(Bytes d, bool) {
  bool partial = false;
  // Sequenced: `partial` is set by the call (function arguments are unsequenced).
  const bool yes = ssh::starts_with_banner(as_text(d), partial);
  return from(yes, partial);
}

// DNS over TCP (RFC 7766): a 2-byte length, then a message with one question. Only on
// the DNS port: a length and a header are too easy to match by chance.
Verdict probe_dns_tcp(Bytes d, bool port_hint) {
  if (!port_hint) return Verdict::no;
  if (d.size() < 2 + 12) return Verdict::maybe;
  const std::size_t len = core::load_be16(d.data());
  if (len < 12) return Verdict::no;
  if (d.size() >= 2 + len) {
    return from(dns::parse_message(d.subspan(2, len), probe_message()), false);
  }
  return from(core::load_be16(d.data() + 2 + 4) == 1, false);  // qdcount
}

using TcpProbe = Verdict (*)(Bytes, bool port_hint);
using TcpFactory = std::unique_ptr<TcpSession> (*)(Shared&);

struct TcpRecogniser {
  Protocol proto;
  std::array<std::uint16_t, 4> ports;  // hints; 0 = unused
  TcpProbe probe;
  TcpFactory make;
};

constexpr std::array<TcpRecogniser, 4> kTcp{{
    {Protocol::tls, {443, 853, 993, 995}, probe_tls, make_tls_session},
    {Protocol::http, {80, 8080, 8000, 3128}, probe_http, make_http_session},
    {Protocol::ssh, {22, 2222, 0, 0}, probe_ssh, make_ssh_session},
    {Protocol::dns, {53, 0, 0, 0}, probe_dns_tcp, make_dns_tcp_session},
}};

// ---- UDP recognisers: one datagram.

Verdict probe_dns_udp(Bytes d, bool port_hint) {
  dns::Message& m = probe_message();
  return from(port_hint ? dns::parse_message(d, m) && m.qdcount <= 1 : dns::strict_parse(d, m),
              false);
}
Verdict probe_dns_port_only(Bytes d, bool port_hint) {
  return from(port_hint && dns::parse_message(d, probe_message()), false);
}
// A long header Initial of QUIC v1/v2: a candidate, proven only by decryption.
Verdict probe_quic(Bytes d, bool) {
  quic::LongHeader h;
  if (d.empty() || !quic::is_long_header(d[0])) return Verdict::no;
  const bool parsed = quic::parse_long_header(d, h);
  const bool initial = h.type == quic::PacketType::initial && quic::supported_version(h.version);
  return from(initial && (parsed || !h.dcid.empty()), false);
}
Verdict probe_ntp(Bytes d, bool port_hint) {
  return from(port_hint && others::is_ntp(d), false);
}
Verdict probe_dhcp(Bytes d, bool) {
  return from(others::is_dhcp(d), false);
}
Verdict probe_ssdp(Bytes d, bool) {
  return from(others::is_ssdp(d), false);
}
Verdict probe_stun(Bytes d, bool) {
  return from(others::is_stun(d), false);
}

using UdpProbe = Verdict (*)(Bytes, bool port_hint);

struct UdpRecogniser {
  Protocol proto;
  std::array<std::uint16_t, 4> ports;
  UdpProbe probe;
};

// DNS off port 53 is tried in the second pass without the hint: a strict parse.
// mDNS, LLMNR and NetBIOS name service (RFC 1002 §4.2) use the DNS message format on
// their own ports; they are named, not matched as lookups.
constexpr std::array<UdpRecogniser, 9> kUdp{{
    {Protocol::dns, {53, 0, 0, 0}, probe_dns_udp},
    {Protocol::mdns, {5353, 0, 0, 0}, probe_dns_port_only},
    {Protocol::llmnr, {5355, 0, 0, 0}, probe_dns_port_only},
    {Protocol::nbns, {137, 0, 0, 0}, probe_dns_port_only},
    {Protocol::dhcp, {67, 68, 0, 0}, probe_dhcp},
    {Protocol::stun, {3478, 5349, 19302, 0}, probe_stun},
    {Protocol::ssdp, {1900, 0, 0, 0}, probe_ssdp},
    {Protocol::ntp, {123, 0, 0, 0}, probe_ntp},
    {Protocol::quic, {443, 80, 8443, 0}, probe_quic},
}};

// Which recognisers of a table a port hints at, as a bit mask (bit i: table[i]), for
// every port at once: one lookup per packet end instead of comparing both ports with
// every recogniser's list in both passes. Built on first use; only the pages of the
// hinted ports are ever written.
template <typename Table>
class PortHints {
 public:
  explicit PortHints(const Table& table) {
    static_assert(std::tuple_size_v<Table> <= 16, "one bit per recogniser");
    for (std::size_t i = 0; i < table.size(); ++i) {
      for (const std::uint16_t p : table[i].ports) {
        if (p != 0) mask_[p] = static_cast<std::uint16_t>(mask_[p] | (1u << i));
      }
    }
  }
  unsigned of(const decode::PacketView& pkt) const { return mask_[pkt.sport] | mask_[pkt.dport]; }

 private:
  std::array<std::uint16_t, 65536> mask_{};
};

// Cheap early rejection for TCP: the first bytes each recogniser can start with, with
// and without its port hint, found by asking it about every one-byte stream. A TCP
// recogniser reads the start of a stream, so a stream it would accept starts with a byte
// it calls "maybe" (too short to tell) or "yes" on its own. Most payloads of unknown
// flows (a later segment, an encrypted or binary protocol) fail here with one lookup.
struct FirstBytes {
  std::array<std::array<std::array<bool, 256>, 2>, kTcp.size()> ok{};  // [recogniser][hint][byte]
  FirstBytes() {
    for (std::size_t i = 0; i < kTcp.size(); ++i) {
      for (int hint = 0; hint < 2; ++hint) {
        for (int b = 0; b < 256; ++b) {
          const std::uint8_t byte = static_cast<std::uint8_t>(b);
          ok[i][static_cast<std::size_t>(hint)][static_cast<std::size_t>(b)] =
              kTcp[i].probe(Bytes(&byte, 1), hint != 0) != Verdict::no;
        }
      }
    }
  }
};

bool may_start(const std::array<TcpRecogniser, kTcp.size()>&, std::size_t i, bool hint,
               Bytes data) {
  static const FirstBytes kFirst;
  return data.empty() || kFirst.ok[i][hint ? 1 : 0][data[0]];
}
template <typename Table>
bool may_start(const Table&, std::size_t, bool, Bytes) {
  return true;  // UDP recognisers read whole datagrams: no prefix rule
}

// Tries the recognisers whose port matches first, then all of them. Returns the index
// of the first "yes", or -1; `maybe` is set when one could still say yes with more bytes.
template <typename Table>
int recognise(const Table& table, const decode::PacketView& pkt, Bytes data, bool& maybe) {
  static const PortHints<Table> kHints(table);
  const unsigned hints = kHints.of(pkt);
  maybe = false;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < table.size(); ++i) {
      const bool hint = (hints >> i & 1u) != 0;
      if ((pass == 0) != hint) continue;
      if (!may_start(table, i, hint, data)) continue;
      const Verdict v = table[i].probe(data, hint);
      if (v == Verdict::yes) return static_cast<int>(i);
      if (v == Verdict::maybe) maybe = true;
    }
  }
  return -1;
}

// Buffers a TCP connection whose first segments arrived out of order, then recognises
// its start. `found` is set once a recogniser says yes.
class ProbeSession final : public TcpSession {
 public:
  explicit ProbeSession(Shared& shared) : TcpSession(Protocol::unknown, shared) {}
  int found = -1;
  std::array<bool, 2> failed{};

 private:
  std::size_t on_data(SessionContext& c, int dir, Bytes data) override {
    bool maybe = false;
    found = recognise(kTcp, c.pkt, data, maybe);
    if (found < 0 && !maybe) {
      failed[dir] = true;
      close(dir);
    }
    return 0;
  }
};

}  // namespace

// ---- FlowState

FlowState::FlowState() = default;
FlowState::~FlowState() = default;
FlowState::FlowState(FlowState&&) noexcept = default;
FlowState& FlowState::operator=(FlowState&&) noexcept = default;

// ---- Inspector

struct Inspector::Impl {
  Shared shared;
#if NETSCOPE_NDPI
  // nDPI labels (ndpi_labeller.hpp): fed every TCP/UDP packet until it is done.
  std::unique_ptr<NdpiLabeller> ndpi;
#endif

  void inspect(FlowState& flow, const decode::PacketView& pkt, int dir, InspectResult& out);
  void start_tcp(FlowState& flow, std::size_t index, SessionContext& c);
  void on_probe_session(FlowState& flow, ProbeSession& probe, SessionContext& c);
  void after_session(FlowState& flow);
  void recognise_udp(FlowState& flow, SessionContext& c);
};

Inspector::Inspector(const InspectorConfig& config) : impl_(std::make_unique<Impl>()) {
  impl_->shared.config = config;
  impl_->shared.dns_message.keep_records = config.dns_answers;
  impl_->shared.budget = std::make_shared<ReassemblyBudget>();
  impl_->shared.budget->limit = config.total_cap;
#if NETSCOPE_NDPI
  impl_->ndpi = std::make_unique<NdpiLabeller>(NdpiConfig{}, impl_->shared.counters);
#endif
}

Inspector::~Inspector() = default;

void Inspector::inspect(FlowState& flow, const decode::PacketView& pkt, int dir,
                        InspectResult& out) {
  impl_->inspect(flow, pkt, dir & 1, out);
}

void Inspector::Impl::inspect(FlowState& flow, const decode::PacketView& pkt, int dir,
                              InspectResult& out) {
#if NETSCOPE_NDPI
  if ((flow.flags & FlowState::kNdpiDone) == 0 && (pkt.is_tcp() || pkt.is_udp())) {
    ndpi->feed(flow, pkt, dir, out.changed);
  }
#endif
  if ((flow.flags & flag::done) != 0 || !(pkt.is_tcp() || pkt.is_udp())) return;
  SessionContext c{pkt, dir, out, shared, nullptr};
  if (flow.session) {
    flow.session->on_packet(c);
    if (pkt.is_tcp() && flow.proto == Protocol::unknown) {
      // The only TCP session without a protocol is the one holding a late start.
      on_probe_session(flow, static_cast<ProbeSession&>(*flow.session), c);
    } else {
      after_session(flow);
    }
    return;
  }
  if (pkt.is_udp()) {
    recognise_udp(flow, c);
    return;
  }
  // TCP, not recognised yet: follow the sequence numbers to spot a late first segment.
  const bool syn = (pkt.tcp_flags & decode::tcp_flag::syn) != 0;
  const std::uint32_t seq = syn ? pkt.seq + 1 : pkt.seq;
  if (syn) {
    flow.next_seq[dir] = seq;
    flow.flags |= flag::seq_known(dir);
  }
  if (pkt.payload.empty()) return;
  const bool first_data = (flow.flags & flag::data_seen(dir)) == 0;
  if (first_data && (flow.flags & flag::seq_known(dir)) != 0 &&
      static_cast<std::int32_t>(seq - flow.next_seq[dir]) > 0) {
    // Bytes are missing before this segment: hold it until the start arrives.
    ++shared.counters.out_of_order_starts;
    ++shared.counters.sessions;
    auto probe = std::make_unique<ProbeSession>(shared);
    for (int d = 0; d < 2; ++d) {
      if ((flow.flags & flag::seq_known(d)) != 0) probe->set_syn(d, flow.next_seq[d] - 1);
    }
    flow.session = std::move(probe);
    flow.session->on_packet(c);
    on_probe_session(flow, static_cast<ProbeSession&>(*flow.session), c);
    return;
  }
  bool maybe = false;
  const int found = recognise(kTcp, pkt, pkt.payload, maybe);
  if (found >= 0) {
    start_tcp(flow, static_cast<std::size_t>(found), c);
    return;
  }
  flow.flags |= flag::data_seen(dir) | flag::seq_known(dir);
  flow.next_seq[dir] = seq + pkt.payload_len;
  if (++flow.probes >= shared.config.max_probe_packets) flow.flags |= flag::done;
}

void Inspector::Impl::start_tcp(FlowState& flow, std::size_t index, SessionContext& c) {
  std::unique_ptr<TcpSession> s = kTcp[index].make(shared);
  for (int d = 0; d < 2; ++d) {
    // A direction with no data yet starts after its SYN; one that already carried data
    // (STARTTLS after a plaintext exchange) starts at the segment that is recognised.
    const std::uint8_t known = flag::seq_known(d) | flag::data_seen(d);
    if ((flow.flags & known) == flag::seq_known(d)) s->set_syn(d, flow.next_seq[d] - 1);
  }
  ++shared.counters.sessions;
  flow.proto = kTcp[index].proto;
  c.out.changed = true;
  flow.session = std::move(s);
  flow.session->on_packet(c);
  after_session(flow);
}

void Inspector::Impl::on_probe_session(FlowState& flow, ProbeSession& probe, SessionContext& c) {
  if (probe.found >= 0) {
    const auto index = static_cast<std::size_t>(probe.found);
    std::unique_ptr<TcpSession> s = kTcp[index].make(shared);
    flow.proto = kTcp[index].proto;
    c.out.changed = true;
    std::array<TcpStream, 2> streams = std::move(probe.streams());
    flow.session = std::move(s);  // destroys the probe
    static_cast<TcpSession&>(*flow.session).adopt(std::move(streams), c);
    after_session(flow);
    return;
  }
  if ((probe.failed[0] && probe.failed[1]) || probe.done) {
    flow.session.reset();
    flow.flags |= flag::done;
  }
}

void Inspector::Impl::after_session(FlowState& flow) {
  Session& s = *flow.session;
  if (s.gave_up) {
    flow.session.reset();  // a QUIC candidate that never decrypted
    flow.proto = Protocol::unknown;
    flow.flags |= flag::done;
    return;
  }
  if (s.protocol != Protocol::unknown) flow.proto = s.protocol;
  if (s.done) flow.flags |= flag::done;
}

void Inspector::Impl::recognise_udp(FlowState& flow, SessionContext& c) {
  const decode::PacketView& pkt = c.pkt;
  if (pkt.payload.empty()) return;
  bool maybe = false;
  probe_message().keep_records = shared.config.dns_answers;  // the DNS session may reuse it
  const int found = recognise(kUdp, pkt, pkt.payload, maybe);
  if (found < 0) {
    if (++flow.probes >= shared.config.max_probe_packets) flow.flags |= flag::done;
    return;
  }
  const Protocol proto = kUdp[static_cast<std::size_t>(found)].proto;
  if (proto == Protocol::quic) {
    ++shared.counters.sessions;
    flow.session = make_quic_session();
    flow.session->on_packet(c);
    after_session(flow);
    if (flow.proto == Protocol::quic) c.out.changed = true;
    return;
  }
  flow.proto = proto;
  c.out.changed = true;
  if (proto == Protocol::dns) {
    ++shared.counters.sessions;
    flow.session = make_dns_udp_session();
    c.dns_parsed = &probe_message();  // the recogniser's parse of this datagram
    flow.session->on_packet(c);
    c.dns_parsed = nullptr;
    after_session(flow);
    return;
  }
  flow.flags |= flag::done;  // named, nothing more to read
}

void Inspector::finish(FlowState& flow, InspectResult& out) {
  if (flow.session) {
    flow.session->on_finish(impl_->shared, out);
    flow.session->release();
  }
#if NETSCOPE_NDPI
  impl_->ndpi->release(flow);
#endif
  flow.flags |= flag::done;
}

AppState app_state(const FlowState& flow) {
  return flow.session ? flow.session->state : AppState::none;
}

namespace {

// What describe() and take() add to the session's fields: the app, the state, nDPI's
// label. `out` holds the session's fields already, or is empty without a session.
void add_flow_fields(const FlowState& flow, DpiInfo& out) {
  if (flow.session) {
    out.state = std::string(state_name(flow.session->state));
    out.state_heuristic = flow.session->state_heuristic;
  }
  out.app = std::string(protocol_name(flow.proto));
#if NETSCOPE_NDPI
  ndpi_names(flow, out.ndpi_app, out.ndpi_category);
#endif
}

}  // namespace

void Inspector::describe(const FlowState& flow, DpiInfo& out) {
  const DpiInfo* found = flow.session ? flow.session->found() : nullptr;
  if (found != nullptr) {
    out = *found;
  } else {
    out = DpiInfo{};
  }
  add_flow_fields(flow, out);
}

DpiFields Inspector::take(const FlowState& flow) {
  // The session's own fields when it has some: no string is copied or moved.
  std::shared_ptr<DpiInfo> out = flow.session ? flow.session->take_info() : nullptr;
  if (!out) out = std::make_shared<DpiInfo>();
  add_flow_fields(flow, *out);
  return DpiFields(std::move(out));
}

const DpiCounters& Inspector::counters() const {
  impl_->shared.counters.budget_refusals = impl_->shared.budget->refused;
  return impl_->shared.counters;
}

std::span<const DpiCounters::Field> DpiCounters::fields() {
  static constexpr Field kFields[] = {
      {"sessions", &DpiCounters::sessions},
      {"truncated_streams", &DpiCounters::truncated_streams},
      {"truncated_bytes", &DpiCounters::truncated_bytes},
      {"budget_refusals", &DpiCounters::budget_refusals},
      {"out_of_order_starts", &DpiCounters::out_of_order_starts},
      {"malformed_tls", &DpiCounters::malformed_tls},
      {"malformed_http", &DpiCounters::malformed_http},
      {"malformed_ssh", &DpiCounters::malformed_ssh},
      {"malformed_dns", &DpiCounters::malformed_dns},
      {"malformed_quic", &DpiCounters::malformed_quic},
      {"quic_decrypt_failures", &DpiCounters::quic_decrypt_failures},
      {"dns_unanswered", &DpiCounters::dns_unanswered},
      {"dns_unmatched_responses", &DpiCounters::dns_unmatched_responses},
      {"dns_pending_overflow", &DpiCounters::dns_pending_overflow},
      {"dns_message_cap", &DpiCounters::dns_message_cap},
      {"ndpi_flows", &DpiCounters::ndpi_flows},
      {"ndpi_labelled", &DpiCounters::ndpi_labelled},
      {"ndpi_skipped", &DpiCounters::ndpi_skipped},
      {"ndpi_reclaimed", &DpiCounters::ndpi_reclaimed},
  };
  static_assert(sizeof(kFields) / sizeof(kFields[0]) * sizeof(std::uint64_t) == sizeof(DpiCounters),
                "every counter has a name");
  return kFields;
}

DpiCounters& DpiCounters::operator+=(const DpiCounters& o) {
  for (const Field& f : fields()) this->*f.member += o.*f.member;
  return *this;
}

std::size_t Inspector::buffered_bytes() const {
  return impl_->shared.budget->used;
}

std::string_view protocol_name(Protocol p) {
  // Indexed by Protocol.
  static constexpr std::array<std::string_view, 13> kNames{"",     "HTTP",  "TLS",  "QUIC", "DNS",
                                                           "mDNS", "LLMNR", "NBNS", "SSH",  "NTP",
                                                           "DHCP", "SSDP",  "STUN"};
  static_assert(static_cast<std::size_t>(Protocol::stun) + 1 == kNames.size());
  const auto i = static_cast<std::size_t>(p);
  return i < kNames.size() ? kNames[i] : std::string_view{};
}

std::string_view state_name(AppState s) {
  // Indexed by AppState.
  static constexpr std::array<std::string_view, 12> kNames{
      "",
      "QUIC_INITIAL",
      "QUIC_HANDSHAKE",
      "QUIC_CONNECTED",
      "QUIC_DRAINING",
      "QUIC_CLOSED",
      "SSH_BANNER",
      "SSH_KEYEXCHANGE",
      "SSH_AUTHENTICATION",
      "SSH_ESTABLISHED",
      "DNS_QUERY",
      "DNS_RESPONSE",
  };
  static_assert(static_cast<std::size_t>(AppState::dns_response) + 1 == kNames.size());
  const auto i = static_cast<std::size_t>(s);
  return i < kNames.size() ? kNames[i] : std::string_view{};
}

}  // namespace netscope::dpi
