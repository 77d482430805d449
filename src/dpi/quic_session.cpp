// QUIC v1/v2 over UDP, on any port. A flow is a candidate while its long-header packets
// look like Initials of a version we know; it becomes QUIC only when one of them opens
// with the Initial keys (the AEAD tag is the proof, RFC 9001 §5.3), after which short
// header packets count too. CRYPTO frames of the client's (and server's) Initials are
// reassembled by offset across packets (Chrome splits and reorders its ClientHello), and
// the TLS parser reads the ClientHello (SNI, ALPN, JA3, JA4 "q") and ServerHello from
// them.
//
// Keys: Initial keys derive from the Destination Connection ID of the client's first
// Initial (RFC 9001 §5.2) and protect both sides' Initials; they stay when the client
// moves to the CID the server chose, and change after a Retry (RFC 9000 §17.2.5.2). So
// an Initial is tried with the keys in hand first, and only one they do not open has
// keys derived from its own DCID. A client Initial cut short by the snaplen cannot be
// opened, but its header still tells the DCID.
//
// State rules (only what an observer can see; Handshake and 1-RTT packets are opaque):
//   QUIC_INITIAL    an Initial packet opened;
//   QUIC_HANDSHAKE  a Handshake packet was seen from either side, or a server Initial
//                   carrying CRYPTO data (its ServerHello) opened;
//   QUIC_CONNECTED  the client sent a short-header (1-RTT) packet: it only has 1-RTT
//                   keys once it has processed the server's handshake (RFC 9001 §4.1.4);
//   QUIC_DRAINING   a CONNECTION_CLOSE frame was seen in an Initial packet (RFC 9000
//                   §10.2). A close inside encrypted packets is invisible: the engine's
//                   idle timeouts end such flows;
//   QUIC_CLOSED     both sides sent a visible CONNECTION_CLOSE. The engine also moves a
//                   draining flow to closed when its draining timeout expires.

#include <algorithm>
#include <optional>

#include "dpi/quic.hpp"
#include "dpi/session.hpp"
#include "dpi/tls.hpp"

namespace netscope::dpi {
namespace {

// Datagrams looked at once the flow is QUIC: enough for any handshake. A candidate that
// has not proven itself within kMaxCandidateDatagrams (its Initials were not captured,
// or it is not QUIC) is given up.
constexpr std::uint32_t kMaxDatagrams = 64;
constexpr std::uint32_t kMaxCandidateDatagrams = 16;
// Coalesced packets per datagram (RFC 9000 §12.2: at most one per packet type, in practice).
constexpr int kMaxCoalesced = 8;

class QuicSession final : public Session {
 public:
  QuicSession() : Session(Protocol::unknown) {}

  void release() override {
    for (auto& buf : crypto_) {
      if (buf) buf->close();
    }
  }

  void on_packet(SessionContext& c) override {
    const Bytes d = c.pkt.payload;
    if (d.empty()) return;
    ++datagrams_;
    if (protocol == Protocol::quic && datagrams_ > kMaxDatagrams) done = true;
    if (protocol == Protocol::unknown && datagrams_ > kMaxCandidateDatagrams) {
      gave_up = true;
      return;
    }
    std::size_t off = 0;
    for (int n = 0; n < kMaxCoalesced && off < d.size() && !done; ++n) {
      const Bytes rest = d.subspan(off);
      if (!quic::is_long_header(rest[0])) {
        // A short header can only come first; later bytes are padding or garbage.
        if (off == 0 && (rest[0] & 0x40) != 0) on_short_header(c);
        return;
      }
      quic::LongHeader h;
      if (!quic::parse_long_header(rest, h)) {
        const bool truncated = c.pkt.payload.size() < c.pkt.payload_len;
        if (truncated && h.type == quic::PacketType::initial && !h.dcid.empty() && !have_dcid_) {
          remember_dcid(h, c.dir);  // the snaplen cut it: keep what the header says
        }
        return;
      }
      on_long_header(c, h, rest.first(h.packet_size));
      off += h.packet_size;
    }
  }

 private:
  void on_long_header(SessionContext& c, const quic::LongHeader& h, Bytes packet) {
    switch (h.type) {
      case quic::PacketType::initial:
        on_initial(c, h, packet);
        break;
      case quic::PacketType::handshake:
        if (protocol == Protocol::quic) advance(AppState::quic_handshake, c);
        break;
      default:  // 0-RTT, Retry, Version Negotiation, unknown versions: nothing to read
        break;
    }
  }

  void on_short_header(SessionContext& c) {
    if (protocol != Protocol::quic) return;  // never on its own: random UDP looks like this
    if (client_dir_ == c.dir) {
      advance(AppState::quic_connected, c);
      done = have_client_hello_;  // nothing more becomes visible
    }
  }

  void remember_dcid(const quic::LongHeader& h, int dir) {
    if (!quic::derive_initial_keys(h.version, h.dcid, keys_)) return;
    dcid_.assign(h.dcid.begin(), h.dcid.end());
    have_dcid_ = true;
    client_dir_ = dir;
  }

  void on_initial(SessionContext& c, const quic::LongHeader& h, Bytes packet) {
    // First with the keys already derived, the packet's own side first: they stay the
    // connection's Initial keys when the client moves to the CID the server chose, and
    // protect the server's Initials too (RFC 9001 §5.2), so most Initials cost no key
    // derivation (nine HMACs).
    if (have_dcid_) {
      const int side = c.dir == client_dir_ ? 0 : 1;
      for (const int s : {side, 1 - side}) {
        if (try_open(c, h, packet, s == 0 ? keys_.client : keys_.server, s)) {
          if (s == 0) client_dir_ = c.dir;
          return;
        }
      }
    }
    // Then as a client Initial with the keys of its own DCID: the flow's first, or one
    // sent after a Retry (RFC 9000 §17.2.5.2).
    if (!have_dcid_ || !std::equal(dcid_.begin(), dcid_.end(), h.dcid.begin(), h.dcid.end())) {
      quic::InitialKeys keys;
      if (quic::derive_initial_keys(h.version, h.dcid, keys) &&
          try_open(c, h, packet, keys.client, 0)) {
        keys_ = keys;
        dcid_.assign(h.dcid.begin(), h.dcid.end());
        have_dcid_ = true;
        client_dir_ = c.dir;
        return;
      }
    }
    ++c.shared.counters.quic_decrypt_failures;
    if (protocol == Protocol::unknown && ++failed_ >= c.shared.config.quic_max_attempts) {
      gave_up = true;
    }
  }

  // `side`: 0 client, 1 server.
  bool try_open(SessionContext& c, const quic::LongHeader& h, Bytes packet,
                const quic::PacketKeys& keys, int side) {
    std::uint64_t pn = 0;
    if (!quic::open_packet(packet, h, keys, next_pn_[side], c.shared.header, c.shared.plaintext,
                           pn)) {
      return false;
    }
    next_pn_[side] = std::max(next_pn_[side], pn + 1);
    if (protocol != Protocol::quic) {
      protocol = Protocol::quic;
      info().quic_version = h.version == quic::kVersion2 ? "v2" : "v1";
      advance(AppState::quic_initial, c);
    }
    quic::InitialFrames frames;
    if (!quic::walk_initial_frames(c.shared.plaintext, frames)) ++c.shared.counters.malformed_quic;
    for (std::size_t i = 0; i < frames.crypto_count; ++i) add_crypto(side, frames.crypto[i], c);
    if (frames.connection_close) {
      closed_[side] = true;
      advance(closed_[0] && closed_[1] ? AppState::quic_closed : AppState::quic_draining, c);
    } else if (side == 1 && frames.crypto_count > 0) {
      advance(AppState::quic_handshake, c);
    }
    return true;
  }

  void add_crypto(int side, const quic::CryptoChunk& chunk, SessionContext& c) {
    if (side == 0 ? have_client_hello_ : have_server_hello_) return;
    std::optional<StreamBuffer>& buf = crypto_[side];
    if (!buf) buf.emplace(c.shared.config.stream_cap, c.shared.budget);
    if (!buf->insert(chunk.offset, chunk.data))
      c.shared.counters.truncated_bytes += chunk.data.size();
    // The CRYPTO stream holds bare handshake messages (RFC 9001 §4): type, 24-bit length.
    const Bytes data = buf->contiguous();
    if (data.size() < 4) return;
    const std::size_t len = (std::size_t{data[1]} << 16) | (std::size_t{data[2]} << 8) | data[3];
    if (4 + len > data.size()) {
      if (4 + len > buf->cap()) {
        ++c.shared.counters.truncated_streams;
        buf->close();
      }
      return;
    }
    const Bytes body = data.subspan(4, len);
    if (side == 0 && data[0] == tls::kClientHello) {
      tls::ClientHello& hello = c.shared.client_hello;
      if (tls::parse_client_hello(body, hello)) {
        describe_client_hello(hello, 'q', c.shared.config.fingerprints, info());
        c.out.changed = true;
      } else {
        ++c.shared.counters.malformed_tls;
      }
      have_client_hello_ = true;
    } else if (side == 1 && data[0] == tls::kServerHello) {
      tls::ServerHello hello;
      if (tls::parse_server_hello(body, hello)) {
        describe_server_hello(hello, info());
        c.out.changed = true;
      } else {
        ++c.shared.counters.malformed_tls;
      }
      have_server_hello_ = true;
    }
    buf->close();
  }

  // States only move forward.
  void advance(AppState s, SessionContext& c) {
    if (s <= state) return;
    state = s;
    c.out.changed = true;
  }

  quic::InitialKeys keys_;
  std::vector<std::uint8_t> dcid_;
  bool have_dcid_ = false;
  int client_dir_ = 0;
  std::array<std::uint64_t, 2> next_pn_{};
  std::array<std::optional<StreamBuffer>, 2> crypto_;
  std::array<bool, 2> closed_{};
  bool have_client_hello_ = false;
  bool have_server_hello_ = false;
  std::uint8_t failed_ = 0;
  std::uint32_t datagrams_ = 0;
};

}  // namespace

std::unique_ptr<Session> make_quic_session() {
  return std::make_unique<QuicSession>();
}

}  // namespace netscope::dpi
