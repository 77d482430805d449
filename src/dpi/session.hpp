#pragma once
// Internal to dpi/: the per-flow heap object of a recognised protocol, and what the
// dispatcher hands it with each packet. Parsers (http.cpp, tls.cpp, ...) are pure
// functions over spans; sessions (*_session.cpp) hold what must survive between packets
// (reassembly, transaction tables, state machines) and fill DpiInfo.

#include <array>
#include <memory>
#include <vector>

#include "dpi/dns.hpp"
#include "dpi/inspector.hpp"
#include "dpi/tcp_stream.hpp"
#include "dpi/tls.hpp"

namespace netscope::dpi {

// Per-Inspector resources shared by its sessions (one packet thread: no locking).
struct Shared {
  InspectorConfig config;
  DpiCounters counters;
  std::shared_ptr<ReassemblyBudget> budget;
  // Scratch buffers reused across packets so that steady state does not allocate.
  std::vector<std::uint8_t> scratch;
  std::vector<std::uint8_t> plaintext;
  std::vector<std::uint8_t> header;
  tls::ClientHello client_hello;  // parsed by TLS and QUIC sessions, one at a time
  dns::Message dns_message;       // parsed by DNS sessions, one at a time
};

struct SessionContext {
  const decode::PacketView& pkt;
  int dir;  // 0: client -> server
  InspectResult& out;
  Shared& shared;
  // The packet's DNS message when the recogniser already parsed it (the first datagram
  // of a DNS flow), so that it is not parsed twice; null otherwise.
  const dns::Message* dns_parsed = nullptr;
};

class Session {
 public:
  explicit Session(Protocol p) : protocol(p) {}
  virtual ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  virtual void on_packet(SessionContext& c) = 0;
  // The flow ends: report what is still open (DNS queries).
  virtual void on_finish(Shared& /*shared*/, InspectResult& /*out*/) {}
  // Frees reassembly buffers; the fields stay for describe().
  virtual void release() {}

  // The fields found so far, to write (app and state are added by Inspector::describe()
  // and take()). Allocated on the first write: most sessions (DNS) write none, and a
  // session without them is 600 bytes smaller.
  DpiInfo& info() {
    if (!info_) info_ = std::make_shared<DpiInfo>();
    return *info_;
  }
  // Null until a field was written.
  const DpiInfo* found() const { return info_.get(); }
  // The fields, for good: take() hands them to the ended flow's record without copying.
  std::shared_ptr<DpiInfo> take_info() { return std::move(info_); }

  Protocol protocol;  // unknown while a candidate (QUIC before a decrypted Initial)
  AppState state = AppState::none;
  bool state_heuristic = false;
  bool done = false;     // no more packets needed
  bool gave_up = false;  // a candidate that turned out not to be its protocol

 private:
  std::shared_ptr<DpiInfo> info_;
};

// A session over both directions of a TCP connection. Sessions read each direction as a
// stream (TcpStream) and return how many bytes they used; the rest waits for more.
class TcpSession : public Session {
 public:
  TcpSession(Protocol p, Shared& shared);

  void on_packet(SessionContext& c) final;
  void release() override {
    streams_[0].close();
    streams_[1].close();
  }
  // Takes over streams that buffered the start of the connection before it was
  // recognised, and parses what they hold.
  void adopt(std::array<TcpStream, 2>&& streams, SessionContext& c);
  // The stream starts right after this SYN sequence number (known to the dispatcher).
  void set_syn(int dir, std::uint32_t syn_seq) { streams_[dir].set_syn(syn_seq); }
  std::array<TcpStream, 2>& streams() { return streams_; }

 protected:
  // New in-order bytes of direction `dir` (all unread bytes, from the first unused one).
  // Returns how many were used; more than data.size() skips that far ahead in the stream
  // (over the rest of a message whose content does not matter).
  virtual std::size_t on_data(SessionContext& c, int dir, Bytes data) = 0;
  // Every segment with payload, before stream handling (for counting after parsing stops).
  virtual void on_segment(SessionContext& /*c*/) {}
  // Stops reading direction `dir`: releases its buffer.
  void close(int dir) { streams_[dir].close(); }
  // For sessions that read one message per direction: closes `dir`, and the session is
  // done once both directions ended.
  void end_direction(int dir) {
    close(dir);
    ended_[dir] = true;
    if (ended_[0] && ended_[1]) done = true;
  }
  // For a parser that needs more than it has: true (and counted as a truncated stream)
  // when no more can come because the buffer is at its cap.
  static bool at_cap(Bytes data, Shared& shared);
  // Payload segments after which the session gives up (done) whatever it still misses.
  std::uint32_t segment_budget_ = 64;

 private:
  void deliver(SessionContext& c, int dir, Bytes data);
  std::array<TcpStream, 2> streams_;
  std::array<bool, 2> ended_{};
  std::uint32_t segments_ = 0;
};

// Session factories (one per protocol file).
std::unique_ptr<TcpSession> make_tls_session(Shared& shared);
std::unique_ptr<TcpSession> make_http_session(Shared& shared);
std::unique_ptr<TcpSession> make_ssh_session(Shared& shared);
std::unique_ptr<TcpSession> make_dns_tcp_session(Shared& shared);
std::unique_ptr<Session> make_dns_udp_session();
std::unique_ptr<Session> make_quic_session();

// The fields of a ClientHello (SNI, ALPN, offered version, and with `fingerprints` JA3
// and JA4 with `transport` 't' or 'q') and of a ServerHello (negotiated version and
// cipher), for TLS and QUIC alike.
void describe_client_hello(const tls::ClientHello& hello, char transport, bool fingerprints,
                           DpiInfo& info);
void describe_server_hello(const tls::ServerHello& hello, DpiInfo& info);

// Copies text from the wire for display: at most `max` bytes, bytes outside visible
// ASCII replaced by '?', so a hostile value cannot carry terminal escapes.
std::string display_text(std::string_view s, std::size_t max);

}  // namespace netscope::dpi
