// SSH: identification strings, then the binary packets sent in the clear (RFC 4253 §6)
// until each side's NEWKEYS (§7.3), then a heuristic over encrypted packet sizes.
//
// State rules:
//   SSH_BANNER          an identification string was seen from either side;
//   SSH_KEYEXCHANGE     a KEXINIT (message 20) was seen;
//   SSH_AUTHENTICATION  both sides sent NEWKEYS (message 21). From here on everything is
//                       encrypted, so this and the next state are marked heuristic: the
//                       protocol requires the ssh-userauth service next (RFC 4252 §5),
//                       but we cannot see it;
//   SSH_ESTABLISHED     heuristic: the server sent an encrypted segment smaller than its
//                       first one. Its first encrypted message is SERVICE_ACCEPT
//                       ("ssh-userauth": 17 payload bytes, RFC 4253 §10); USERAUTH_FAILURE
//                       lists methods and is larger, USERAUTH_SUCCESS is a bare message
//                       number (1 byte, RFC 4252 §5.1), the smallest a server sends. With
//                       any cipher the padded packet of a shorter payload is not larger.
//                       Or: the server sent 16 KiB or more encrypted, which only a
//                       session (a shell, a transfer) does after authentication.
// Retransmitted segments are not counted (TcpStream::advances).

#include "dpi/session.hpp"
#include "dpi/ssh.hpp"

namespace netscope::dpi {
namespace {

constexpr std::uint64_t kBulkBytes = 16 * 1024;
// Encrypted server segments after which we stop guessing and leave the state as is.
constexpr std::uint32_t kMaxEncryptedSegments = 64;

class SshSession final : public TcpSession {
 public:
  explicit SshSession(Shared& shared) : TcpSession(Protocol::ssh, shared) { segment_budget_ = 512; }

 private:
  enum class Phase : std::uint8_t { banner, packets, encrypted };

  struct Side {
    Phase phase = Phase::banner;
    std::uint32_t encrypted_segments = 0;
    std::uint64_t encrypted_bytes = 0;
    std::size_t first_encrypted = 0;  // payload size of the first encrypted segment
  };

  void on_segment(SessionContext& c) override {
    Side& side = sides_[c.dir];
    const std::size_t len = c.pkt.payload_len;
    // Count each stream byte once, retransmissions aside.
    const bool fresh = streams()[c.dir].advances(c.pkt.seq, len);
    if (side.phase != Phase::encrypted || state != AppState::ssh_authentication || !fresh) return;
    ++side.encrypted_segments;
    side.encrypted_bytes += len;
    if (c.dir == 0) return;
    if (side.first_encrypted == 0) {
      side.first_encrypted = len;  // SERVICE_ACCEPT
    } else if (len < side.first_encrypted || side.encrypted_bytes >= kBulkBytes) {
      set_state(AppState::ssh_established, c);
      done = true;
    }
    if (side.encrypted_segments >= kMaxEncryptedSegments) done = true;
  }

  std::size_t on_data(SessionContext& c, int dir, Bytes data) override {
    Side& side = sides_[dir];
    std::size_t used = 0;
    if (side.phase == Phase::banner) {
      ssh::Banner banner;
      const ssh::Status st = ssh::parse_banner(as_text(data), banner, used);
      if (st == ssh::Status::need_more) return 0;
      if (st == ssh::Status::malformed) {
        ++c.shared.counters.malformed_ssh;
        close(dir);
        return 0;
      }
      DpiInfo& found = info();
      (dir == 0 ? found.ssh_client : found.ssh_server) = display_text(banner.line, ssh::kMaxBanner);
      side.phase = Phase::packets;
      c.out.changed = true;
      if (state == AppState::none) set_state(AppState::ssh_banner, c);
    }
    // Unencrypted binary packets: read each header, skip each body.
    while (side.phase == Phase::packets) {
      ssh::PacketHeader h;
      const ssh::Status st = ssh::parse_packet_header(data.subspan(used), h);
      if (st == ssh::Status::need_more) return used;
      if (st == ssh::Status::malformed) {
        ++c.shared.counters.malformed_ssh;
        close(dir);
        return used;
      }
      used += h.total();
      if (h.message == ssh::kMsgKexInit && state < AppState::ssh_keyexchange) {
        set_state(AppState::ssh_keyexchange, c);
      } else if (h.message == ssh::kMsgNewKeys) {
        side.phase = Phase::encrypted;
        close(dir);  // the rest of this direction is ciphertext: stop buffering it
        if (sides_[1 - dir].phase == Phase::encrypted) {
          state_heuristic = true;
          set_state(AppState::ssh_authentication, c);
        }
        return used;
      }
      if (used > data.size()) return used;  // the body continues in later segments
    }
    return used;
  }

  void set_state(AppState s, SessionContext& c) {
    state = s;
    c.out.changed = true;
  }

  std::array<Side, 2> sides_{};
};

}  // namespace

std::unique_ptr<TcpSession> make_ssh_session(Shared& shared) {
  return std::make_unique<SshSession>(shared);
}

}  // namespace netscope::dpi
