#pragma once
// Deep packet inspection: what the engine calls on its packet path, and what it reads
// back when it builds a snapshot.
//
//   dpi::Inspector inspector(config);              // one per packet thread (flow shard)
//   flow.dpi  : dpi::FlowState                     // per flow, 24 bytes, zero heap at first
//   inspector.inspect(flow.dpi, pkt, dir, result);  // every packet while wants_packets()
//   inspector.finish(flow.dpi, result);            // when the flow ends (flushes DNS)
//   dpi::Inspector::describe(flow.dpi, info);      // at snapshot time, when detected()
//
// Detection works on any port: a port only decides which recogniser is tried first.
// TLS is told by its record header, HTTP by its method token or status line, SSH by its
// banner, QUIC only by an Initial packet that decrypts, DNS by a message that parses
// (strictly when off port 53). A flow costs a heap object only once a protocol that
// keeps state (TLS, HTTP, SSH, QUIC, DNS) is recognised, or when its first TCP segments
// arrive out of order and must be held. Every buffer is bounded per flow direction
// (stream_cap) and per Inspector (total_cap), and truncation is counted.
//
// Inspection stops by itself once a flow's fields are known (wants_packets() turns
// false), except for DNS, which keeps matching queries to responses up to a per-flow cap.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip_address.hpp"
#include "core/timestamp.hpp"
#include "decode/packet_view.hpp"
#include "dpi/dns_answer.hpp"

namespace netscope::dpi {

enum class Protocol : std::uint8_t {
  unknown,
  http,
  tls,
  quic,
  dns,
  mdns,
  llmnr,
  nbns,
  ssh,
  ntp,
  dhcp,
  ssdp,
  stun,
};
// "HTTP", "TLS", "QUIC", "DNS", "mDNS", "LLMNR", "NBNS", "SSH", "NTP", "DHCP", "SSDP", "STUN";
// empty for unknown. This is the `app` value of the JSON outputs.
std::string_view protocol_name(Protocol p);

// Application-level connection state (the Conventions' `state` key when DPI knows
// better than the transport). QUIC rules are in quic_session.cpp, SSH rules (partly a
// heuristic) in ssh_session.cpp.
enum class AppState : std::uint8_t {
  none,
  quic_initial,
  quic_handshake,
  quic_connected,
  quic_draining,
  quic_closed,
  ssh_banner,
  ssh_keyexchange,
  ssh_authentication,
  ssh_established,
  dns_query,
  dns_response,
};
// "QUIC_INITIAL", ..., "SSH_BANNER", ..., "DNS_QUERY", "DNS_RESPONSE"; empty for none.
std::string_view state_name(AppState s);

// The fields a flow exposes (connection record keys of the Conventions). Empty strings
// and empty optionals are unknown (null in JSON).
struct DpiInfo {
  std::string app;
  std::string sni;
  std::string alpn;         // ALPN protocols offered, comma-separated: "h2,http/1.1"
  std::string tls_version;  // negotiated ("TLS 1.3"), from the ServerHello
  std::string tls_offered;  // highest version the ClientHello offers
  std::string tls_cipher;   // negotiated cipher suite ("TLS_AES_128_GCM_SHA256")
  std::string ja3;          // MD5, as tshark's tls.handshake.ja3
  std::string ja4;
  std::string http_host;
  std::string http_method;
  std::string http_path;
  std::string http_user_agent;
  std::optional<int> http_status;
  std::string ssh_client;  // identification strings: "SSH-2.0-OpenSSH_9.2p1 Debian-2"
  std::string ssh_server;
  std::string quic_version;      // "v1", "v2"
  std::string state;             // state_name()
  bool state_heuristic = false;  // `state` was inferred from packet sizes (SSH after NEWKEYS)
  // nDPI's label and category (build option NETSCOPE_NDPI, dpi/ndpi_labeller.hpp):
  // "TLS.YouTube", "Web"; empty when nDPI did not run or detected nothing.
  std::string ndpi_app;
  std::string ndpi_category;

  bool operator==(const DpiInfo&) const = default;
};

// A flow's DPI fields as a value that is cheap to keep and copy: an immutable DpiInfo,
// shared, or none when nothing was recognised. A snapshot's connection record or an
// analyze conversation without DPI data holds 16 bytes of it, not 20 empty strings, and
// copying or moving one (tick after tick, into a top-N heap) copies no string. Reading
// never needs a null check: `dpi->sni` is the empty string when there is none.
class DpiFields {
 public:
  DpiFields() = default;
  explicit DpiFields(std::shared_ptr<const DpiInfo> info) : info_(std::move(info)) {}

  const DpiInfo* operator->() const { return info_ ? info_.get() : &none(); }
  const DpiInfo& operator*() const { return *operator->(); }
  const std::shared_ptr<const DpiInfo>& shared() const { return info_; }
  void reset(std::shared_ptr<const DpiInfo> info = nullptr) { info_ = std::move(info); }
  // The fields to write (values made by hand: tests, benchmarks, fuzz targets). Copies
  // them first, so that others sharing them do not change.
  DpiInfo& edit() {
    auto mine = std::make_shared<DpiInfo>(**this);
    info_ = mine;
    return *mine;
  }
  // Field by field (the same fields whether shared or not).
  bool operator==(const DpiFields& o) const { return info_ == o.info_ || **this == *o; }

 private:
  static const DpiInfo& none() {
    static const DpiInfo kNone;
    return kNone;
  }
  std::shared_ptr<const DpiInfo> info_;
};

// One DNS transaction (Conventions "dns event"; the engine adds pid and process).
struct DnsEvent {
  core::Timestamp time;  // of the query; of the response when the query was not seen
  core::IpAddress client;
  std::uint16_t client_port = 0;
  core::IpAddress server;
  std::uint16_t server_port = 0;
  bool tcp = false;
  std::uint16_t id = 0;
  std::string query;                 // question name ("." for the root)
  std::uint16_t qtype_code = 0;      // RR type number
  std::string qtype;                 // "A", "AAAA", "TYPE65534"
  std::optional<std::string> rcode;  // "NOERROR", "NXDOMAIN", ...; empty: no response seen
  std::optional<int> rcode_code;
  // The answer section's A, AAAA and CNAME records in message order; text() gives the
  // Conventions' string for each, the addresses feed an IP -> name map.
  std::vector<DnsAnswer> answers;
  std::optional<double> latency_ms;  // query -> response
};

// What one inspect() call produced. The caller owns it and clears it (capacity is kept,
// so the packet path does not allocate once warm).
struct InspectResult {
  bool changed = false;       // the flow's DpiInfo changed: describe() it again
  std::vector<DnsEvent> dns;  // transactions completed or given up by this call
  void clear() {
    changed = false;
    dns.clear();
  }
};

struct InspectorConfig {
  std::size_t stream_cap = 16 * 1024;        // bytes buffered per flow direction
  std::size_t total_cap = 64 * 1024 * 1024;  // bytes buffered by all flows of this Inspector
  std::uint8_t max_probe_packets = 8;        // payload packets tried before giving up
  std::size_t dns_max_pending = 32;          // unanswered queries kept per flow
  std::uint32_t dns_max_messages = 4096;     // DNS messages parsed per flow
  std::int64_t dns_query_timeout_ns = 10'000'000'000;  // an unanswered query is reported after this
  std::uint8_t quic_max_attempts = 8;  // Initial packets tried before a flow is "not QUIC"
  // JA3 and JA4 of ClientHellos. A digest per hello: worth computing only when an output
  // shows them (analyze's human report does not).
  bool fingerprints = true;
  // The answers (A, AAAA, CNAME) of DNS responses in DnsEvent::answers. The live monitor
  // shows them and maps addresses to names with them; analyze reports none, and without
  // them a response's CNAME targets are only checked, not decoded, and nothing is copied.
  bool dns_answers = true;
};

// Anomaly and cap counters (STYLE.md §4: malformed input is data, counted by name).
struct DpiCounters {
  std::uint64_t sessions = 0;             // flows that got a heap session
  std::uint64_t truncated_streams = 0;    // a parser needed more than stream_cap bytes
  std::uint64_t truncated_bytes = 0;      // bytes dropped at the per-flow cap
  std::uint64_t budget_refusals = 0;      // buffering refused: total_cap reached
  std::uint64_t out_of_order_starts = 0;  // flows whose first segment arrived late
  std::uint64_t malformed_tls = 0;
  std::uint64_t malformed_http = 0;
  std::uint64_t malformed_ssh = 0;
  std::uint64_t malformed_dns = 0;
  std::uint64_t malformed_quic = 0;         // decrypted Initial with a bad frame
  std::uint64_t quic_decrypt_failures = 0;  // Initial-looking packets that did not open
  std::uint64_t dns_unanswered = 0;         // queries reported without a response
  std::uint64_t dns_unmatched_responses = 0;
  std::uint64_t dns_pending_overflow = 0;  // queries pushed out by dns_max_pending
  std::uint64_t dns_message_cap = 0;       // flows that hit dns_max_messages
  // nDPI labelling (0 without NETSCOPE_NDPI): flows given an nDPI state, flows labelled,
  // flows skipped because every state slot was busy, stale slots reclaimed.
  std::uint64_t ndpi_flows = 0;
  std::uint64_t ndpi_labelled = 0;
  std::uint64_t ndpi_skipped = 0;
  std::uint64_t ndpi_reclaimed = 0;

  // Every counter with its name (the JSON key of the analyze report's "dpi" totals).
  struct Field {
    std::string_view name;
    std::uint64_t DpiCounters::*member;
  };
  static std::span<const Field> fields();
  // Sums another Inspector's counters (one Inspector per flow shard).
  DpiCounters& operator+=(const DpiCounters& o);
};

class Session;  // internal: one per recognised flow (session.hpp)

// Per-flow state, stored in the flow table. Move-only. sizeof is 24 bytes on LP64
// (static_assert in dispatcher.cpp): the protocol, a few flag bits, the next expected
// TCP sequence number per direction (to tell a late first segment from a later one),
// and the session pointer, null for flows that need nothing buffered.
struct FlowState {
  Protocol proto = Protocol::unknown;
  std::uint8_t flags = 0;          // dispatcher.cpp: done, sequence known, data seen per direction
  std::uint8_t probes = 0;         // payload packets probed while unknown
  std::uint8_t ndpi_category = 0;  // nDPI labelling (ndpi_labeller.hpp); in padding
  std::array<std::uint32_t, 2> next_seq{};
  // nDPI labelling, in padding: its slot while detection runs (kNdpiActive), then the
  // detected protocol ids, master << 16 | app (kNdpiLabelled). 0 without NETSCOPE_NDPI.
  std::uint32_t ndpi = 0;
  std::unique_ptr<Session> session;

  FlowState();
  ~FlowState();
  FlowState(FlowState&&) noexcept;
  FlowState& operator=(FlowState&&) noexcept;

  // `flags` bit set once nothing more can be learnt (the rest are dispatcher.cpp's).
  static constexpr std::uint8_t kDone = 0x01;
  // `flags` bits of the nDPI labeller (never set without NETSCOPE_NDPI): it runs on the
  // flow, it has finished (labelled or not), it labelled the flow.
  static constexpr std::uint8_t kNdpiActive = 0x20;
  static constexpr std::uint8_t kNdpiDone = 0x40;
  static constexpr std::uint8_t kNdpiLabelled = 0x80;
  // False once nothing more can be learnt: the engine may stop calling inspect(). Inline:
  // the engine asks for every packet of every flow.
  bool wants_packets() const { return (flags & (kDone | kNdpiActive)) != kDone; }
  bool detected() const { return proto != Protocol::unknown || (flags & kNdpiLabelled) != 0; }
};

// The flow's application state (AppState::none without a session). Cheap: the flow
// table asks it for the protocol-aware timeouts.
AppState app_state(const FlowState& flow);

class Inspector {
 public:
  explicit Inspector(const InspectorConfig& config = {});
  ~Inspector();
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // One decoded packet of the flow. `dir` is 0 for client -> server, 1 for the reverse.
  // Packets without a TCP/UDP transport are ignored. Never throws.
  void inspect(FlowState& flow, const decode::PacketView& pkt, int dir, InspectResult& out);
  // The flow ends: reports DNS queries still unanswered, frees the session. The state
  // keeps its protocol, so describe() still works afterwards.
  void finish(FlowState& flow, InspectResult& out);

  // The flow's fields, for a snapshot. Cheap for flows without a session.
  static void describe(const FlowState& flow, DpiInfo& out);
  // describe() for a flow that has ended (the sink's on_flow_end, before finish()): hands
  // over the session's fields instead of copying them. Afterwards describe() gives only
  // the app and state; finish() does not read the fields.
  static DpiFields take(const FlowState& flow);

  const DpiCounters& counters() const;
  std::size_t buffered_bytes() const;  // bytes held by all reassembly buffers now

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::dpi
