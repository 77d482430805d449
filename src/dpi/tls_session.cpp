// TLS over TCP: the first handshake message of each direction, reassembled across
// segments and records (ClientHellos with post-quantum key shares exceed one MTU). The
// ClientHello gives SNI, ALPN, the offered version, JA3 and JA4; the ServerHello (or a
// HelloRetryRequest, which also fixes version and cipher: RFC 8446 §4.1.4) gives the
// negotiated version and cipher. Roles come from the message type, not the direction,
// so a capture that starts mid-connection with the client guessed wrong still works.

#include "dpi/session.hpp"
#include "dpi/tls.hpp"
#include "dpi/tls_fingerprint.hpp"

namespace netscope::dpi {
namespace {

// A handshake message longer than this is not a hello: the extensions block of a
// ClientHello is at most 2^16 - 1 bytes (RFC 8446 §4.1.2). Shorter ones that exceed the
// stream cap are counted as truncated (post-quantum key shares and ECH make ClientHellos
// of a few KiB common; the default cap of 16 KiB holds them).
constexpr std::size_t kMaxHello = 1u << 17;

class TlsSession final : public TcpSession {
 public:
  explicit TlsSession(Shared& shared) : TcpSession(Protocol::tls, shared) { segment_budget_ = 32; }

 private:
  std::size_t on_data(SessionContext& c, int dir, Bytes data) override {
    std::uint8_t type = 0;
    Bytes body;
    const auto status = tls::first_handshake_message(data, kMaxHello, c.shared.scratch, type, body);
    if (status == tls::Status::need_more) {
      if (at_cap(data, c.shared)) end_direction(dir);
      return 0;
    }
    if (status == tls::Status::ok && type == tls::kClientHello && !have_client_) {
      tls::ClientHello& hello = c.shared.client_hello;
      if (tls::parse_client_hello(body, hello)) {
        have_client_ = true;
        describe_client_hello(hello, 't', c.shared.config.fingerprints, info());
        c.out.changed = true;
      } else {
        ++c.shared.counters.malformed_tls;
      }
    } else if (status == tls::Status::ok && type == tls::kServerHello && !have_server_) {
      tls::ServerHello hello;
      if (tls::parse_server_hello(body, hello)) {
        have_server_ = true;
        describe_server_hello(hello, info());
        c.out.changed = true;
      } else {
        ++c.shared.counters.malformed_tls;
      }
    } else if (status == tls::Status::malformed) {
      ++c.shared.counters.malformed_tls;
    }
    end_direction(dir);
    return 0;
  }

  bool have_client_ = false;
  bool have_server_ = false;
};

}  // namespace

void describe_client_hello(const tls::ClientHello& hello, char transport, bool fingerprints,
                           DpiInfo& info) {
  info.sni = display_text(hello.sni, 255);
  info.alpn.clear();
  for (const std::string& p : hello.alpn) {
    if (!info.alpn.empty()) info.alpn += ',';
    info.alpn += display_text(p, 64);
  }
  info.tls_offered = tls::version_name(hello.max_version());
  if (!fingerprints) return;
  info.ja3 = tls::ja3_hash(hello);
  info.ja4 = tls::ja4(hello, transport);
}

void describe_server_hello(const tls::ServerHello& hello, DpiInfo& info) {
  info.tls_version = tls::version_name(hello.version());
  info.tls_cipher = tls::cipher_name(hello.cipher_suite);
}

std::unique_ptr<TcpSession> make_tls_session(Shared& shared) {
  return std::make_unique<TlsSession>(shared);
}

}  // namespace netscope::dpi
