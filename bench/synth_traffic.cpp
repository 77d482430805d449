#include "synth_traffic.hpp"

#include <algorithm>
#include <cmath>

#include "bench_rng.hpp"

namespace netscope::bench {

namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000'000'000;

Rng flow_rng(const ModelConfig& cfg, std::uint64_t id, std::uint64_t stream) {
  Rng mix(cfg.seed * 0x100000001b3ull ^ id * 0x9e3779b97f4a7c15ull ^ stream);
  return Rng(mix.next());
}

std::int64_t ns(double seconds) {
  return static_cast<std::int64_t>(seconds * 1e9);
}

// The later of two sequence numbers, modulo 2^32 (RFC 1982).
std::uint32_t seq_max(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0 ? b : a;
}

// One TCP connection being generated.
class TcpSim {
 public:
  TcpSim(const ModelConfig& cfg, const FlowPlan& plan, std::vector<Segment>& out, TcpParams& tcp)
      : cfg_(cfg), plan_(plan), rng_(flow_rng(cfg, plan.id, 2)), out_(out), tcp_(tcp) {
    rtt_ = ns(rng_.log_range(0.001, 0.25));
    half_rtt_ = rtt_ / 2;
    static constexpr std::uint16_t kMss[] = {1460, 1460, 1460, 1460, 1400, 1380, 1220, 536};
    tcp_.mss = kMss[rng_.below(8)];
    tcp_.wscale = static_cast<std::uint8_t>(rng_.chance(0.8) ? 7 : 9);
    tcp_.ts_offset = {static_cast<std::uint32_t>(rng_.next()),
                      static_cast<std::uint32_t>(rng_.next())};
    tcp_.half_rtt_ns = half_rtt_;
    payload_ = tcp_.mss - 12u;  // the timestamp option takes 12 bytes of each segment
    const double rate_bps = rng_.log_range(20e6, 1e9);
    gap_ = static_cast<std::int64_t>((payload_ + 66) * 8 / rate_bps * 1e9);
    max_cwnd_ = static_cast<int>(rng_.range(10, 120));
    for (Side& s : side_) {
      s.seq = static_cast<std::uint32_t>(rng_.next());
      s.window = static_cast<std::uint16_t>(rng_.range(250, 3000));
    }
    t_ = plan.start_ns;
  }

  void run();

 private:
  struct Side {
    std::uint32_t seq = 0;  // next sequence number to send
    std::uint16_t window = 0;
  };
  struct Tx {
    std::int64_t ts;
    std::uint32_t seq;
    std::uint32_t len;
    bool seen;
    bool arrives;
  };

  void emit(std::int64_t ts, int dir, std::uint8_t flags, std::uint32_t len = 0) {
    const Side& s = side_[dir];
    const std::uint32_t ack = (flags & kAck) != 0 ? side_[1 - dir].seq : 0;
    out_.push_back(Segment{ts, s.seq, ack, len, s.window, flags, static_cast<std::uint8_t>(dir)});
  }
  void emit_at(std::int64_t ts, int dir, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
               std::uint32_t len) {
    out_.push_back(
        Segment{ts, seq, ack, len, side_[dir].window, flags, static_cast<std::uint8_t>(dir)});
  }
  bool handshake();
  void transfer(int dir, std::uint64_t bytes);
  void close(int dir, bool rst);

  const ModelConfig& cfg_;
  const FlowPlan& plan_;
  Rng rng_;
  std::vector<Segment>& out_;
  TcpParams& tcp_;
  Side side_[2];
  std::int64_t t_ = 0;
  std::int64_t rtt_ = 0;
  std::int64_t half_rtt_ = 0;
  std::int64_t gap_ = 0;
  std::uint32_t payload_ = 1448;
  int cwnd_ = 10;
  int max_cwnd_ = 64;
};

bool TcpSim::handshake() {
  const std::uint16_t syn_window = side_[0].window;
  side_[0].window = 64240;
  emit(t_, 0, kSyn);
  if (plan_.kind == FlowKind::syn_timeout) {  // RFC 6298 §5: the SYN RTO doubles from 1 s
    emit(t_ + kSec, 0, kSyn);
    emit(t_ + 3 * kSec, 0, kSyn);
    emit(t_ + 7 * kSec, 0, kSyn);
    return false;
  }
  ++side_[0].seq;
  if (plan_.kind == FlowKind::refused) {
    side_[1].window = 0;
    side_[1].seq = 0;
    emit(t_ + half_rtt_, 1, kRst | kAck);
    return false;
  }
  const std::uint16_t syn_ack_window = side_[1].window;
  side_[1].window = 65160;
  emit(t_ + half_rtt_, 1, kSyn | kAck);
  ++side_[1].seq;
  side_[0].window = syn_window;
  side_[1].window = syn_ack_window;
  emit(t_ + rtt_, 0, kAck);
  t_ += rtt_;
  return true;
}

// Sends `bytes` from `dir` starting at t_, round by round, and leaves t_ at the time the
// sender would send its next segment.
void TcpSim::transfer(int dir, std::uint64_t bytes) {
  const int rcv = 1 - dir;
  std::uint32_t rcv_nxt = side_[dir].seq;  // the receiver's next expected sequence number
  std::uint32_t ooo_end = rcv_nxt;         // end of data held beyond a hole
  std::vector<Tx> round;
  while (bytes > 0) {
    round.clear();
    int lost = -1;
    for (int i = 0; i < cwnd_ && bytes > 0; ++i) {
      const auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(payload_, bytes));
      bytes -= len;
      Tx tx{t_ + i * gap_, side_[dir].seq, len, true, true};
      side_[dir].seq += len;
      if (lost < 0 && rng_.chance(cfg_.loss)) {
        lost = i;
        tx.arrives = false;
        tx.seen = !rng_.chance(0.3);  // 30% are lost upstream of the capture point
      }
      round.push_back(tx);
    }
    const auto n = static_cast<int>(round.size());
    if (n >= 2 && rng_.chance(cfg_.reorder * n)) {
      const auto j = static_cast<std::size_t>(rng_.below(static_cast<std::uint64_t>(n - 1)));
      if (round[j].arrives && round[j + 1].arrives) {
        std::swap(round[j].seq, round[j + 1].seq);
        std::swap(round[j].len, round[j + 1].len);
      }
    }
    const bool last_round = bytes == 0;
    for (int i = 0; i < n; ++i) {
      const Tx& tx = round[static_cast<std::size_t>(i)];
      const std::uint8_t psh = last_round && i == n - 1 ? kPsh : 0;
      if (tx.seen) emit_at(tx.ts, dir, tx.seq, side_[rcv].seq, kAck | psh, tx.len);
    }
    // The receiver, in arrival order.
    int unacked = 0;
    int dups = 0;
    std::int64_t third_dup = 0;
    std::int64_t first_ack = -1;
    std::int64_t last_ack = t_;
    for (int i = 0; i < n; ++i) {
      const Tx& tx = round[static_cast<std::size_t>(i)];
      if (!tx.arrives) continue;
      const std::int64_t at = tx.ts + half_rtt_;
      bool ack_now = false;
      if (tx.seq == rcv_nxt) {
        rcv_nxt += tx.len;
        if (static_cast<std::int32_t>(ooo_end - rcv_nxt) > 0) {
          rcv_nxt = ooo_end;  // a hole was filled: ACK at once
          ack_now = true;
        } else {
          ack_now = ++unacked >= 2 || i == n - 1;
        }
      } else if (static_cast<std::int32_t>(tx.seq - rcv_nxt) > 0) {
        ooo_end = seq_max(ooo_end, tx.seq + tx.len);
        ack_now = true;  // duplicate ACK for out-of-order data (RFC 5681 §4.2)
        if (++dups == 3) third_dup = at;
      }
      if (ack_now) {
        emit_at(at, rcv, side_[rcv].seq, rcv_nxt, kAck, 0);
        unacked = 0;
        if (first_ack < 0) first_ack = at;
        last_ack = at;
      }
    }
    if (lost >= 0) {
      const Tx& tx = round[static_cast<std::size_t>(lost)];
      const std::int64_t retx =
          dups >= 3 ? third_dup + half_rtt_ : round.back().ts + 200 * kMs + rtt_;  // RTO
      emit_at(retx, dir, tx.seq, side_[rcv].seq, kAck, tx.len);
      rcv_nxt = seq_max(seq_max(rcv_nxt, tx.seq + tx.len), ooo_end);
      emit_at(retx + half_rtt_, rcv, side_[rcv].seq, rcv_nxt, kAck, 0);
      t_ = retx + rtt_;
      cwnd_ = std::max(2, cwnd_ / 2);
    } else {
      t_ = std::max(first_ack < 0 ? last_ack : first_ack + half_rtt_, round.back().ts + gap_);
      if (last_round) t_ = last_ack;
      cwnd_ = std::min(cwnd_ * 2, max_cwnd_);
    }
    ooo_end = rcv_nxt;
  }
}

void TcpSim::close(int dir, bool rst) {
  if (rst) {
    emit(t_, dir, kRst | kAck);
    return;
  }
  emit(t_, dir, kFin | kAck);
  ++side_[dir].seq;
  if (rng_.chance(0.5)) {
    emit(t_ + half_rtt_, 1 - dir, kFin | kAck);
  } else {  // ACK first, FIN when the application closes
    emit(t_ + half_rtt_, 1 - dir, kAck);
    emit(t_ + half_rtt_ + ns(rng_.range(0.0001, 0.02)), 1 - dir, kFin | kAck);
  }
  ++side_[1 - dir].seq;
  emit(t_ + rtt_ + ns(0.02), dir, kAck);
}

void TcpSim::run() {
  if (!handshake()) return;
  int exchanges = 1;
  double think = cfg_.think_s;
  double req_lo = 150, req_hi = 1200, resp_lo = 200, resp_hi = 150e3 * cfg_.size_scale;
  int close_dir = rng_.chance(0.5) ? 0 : 1;
  bool rst = rng_.chance(0.08);
  bool keep_open = false;
  switch (plan_.kind) {
    case FlowKind::web:
      exchanges = 1 + static_cast<int>(rng_.exponential(2.0));
      break;
    case FlowKind::bulk:
      resp_lo = 2e6 * cfg_.size_scale;
      resp_hi = 40e6 * cfg_.size_scale;
      break;
    case FlowKind::interactive:
      exchanges = static_cast<int>(rng_.range(10, 100));
      think = rng_.range(0.05, 3);
      req_lo = 36, req_hi = 200, resp_lo = 36, resp_hi = 1500;
      close_dir = 0;
      break;
    case FlowKind::idle:
      exchanges = static_cast<int>(rng_.range(2, 6));
      think = rng_.range(5, 30);
      req_lo = 60, req_hi = 600, resp_lo = 100, resp_hi = 4000;
      keep_open = rng_.chance(0.3);
      break;
    default:
      break;
  }
  if (plan_.addr.server_port == 80) req_hi = std::min<double>(req_hi, payload_);  // 1 segment
  resp_hi = std::max(resp_hi, resp_lo + 1);
  for (int e = 0; e < exchanges; ++e) {
    if (e > 0) t_ += ns(plan_.kind == FlowKind::web ? rng_.exponential(think) : think);
    transfer(0, static_cast<std::uint64_t>(rng_.log_range(req_lo, req_hi)));
    t_ += ns(rng_.log_range(0.0001, 0.02));  // server processing time
    transfer(1, static_cast<std::uint64_t>(rng_.log_range(resp_lo, resp_hi)));
  }
  if (keep_open) return;
  // Web connections idle until a keep-alive timeout closes them.
  t_ += ns(plan_.kind == FlowKind::web ? rng_.range(1, 90) : rng_.range(0.001, 1));
  close(close_dir, rst);
}

void generate_udp(const ModelConfig& cfg, const FlowPlan& plan, std::vector<Segment>& out) {
  Rng rng = flow_rng(cfg, plan.id, 3);
  const std::int64_t half_rtt = ns(rng.log_range(0.0005, 0.1));
  std::int64_t t = plan.start_ns;
  const auto datagram = [&out](std::int64_t ts, int dir, double len) {
    out.push_back(
        Segment{ts, 0, 0, static_cast<std::uint32_t>(len), 0, 0, static_cast<std::uint8_t>(dir)});
  };
  if (plan.kind == FlowKind::dns) {
    const int queries = rng.chance(0.6) ? 2 : 1;  // A and AAAA
    for (int q = 0; q < queries; ++q) {
      const std::int64_t sent = t + q * ns(0.0002);
      datagram(sent, 0, 0);  // the frame builder writes the DNS message
      out.back().seq = static_cast<std::uint32_t>(q);
      if (!rng.chance(0.01)) {
        datagram(sent + 2 * half_rtt + ns(rng.log_range(0.0002, 0.03)), 1, 0);
        out.back().seq = static_cast<std::uint32_t>(q);
      }
    }
    return;
  }
  const auto packets = static_cast<int>(rng.log_range(50, 3000) * cfg.size_scale) + 2;
  const double spacing = rng.log_range(0.0002, 0.005);
  datagram(t, 0, 1250);
  t += 2 * half_rtt;
  for (int i = 1; i < packets; ++i) {
    datagram(t, 1, rng.range(1200, 1350));
    if (i % 10 == 0) datagram(t + half_rtt, 0, rng.range(40, 80));
    t += ns(rng.exponential(spacing));
  }
}

}  // namespace

FlowPlan plan_flow(const ModelConfig& cfg, std::uint64_t id, bool force_bulk) {
  Rng rng = flow_rng(cfg, id, 1);
  FlowPlan p;
  p.id = id;
  p.start_ns = ns(rng.range(0, cfg.duration_s));
  const double k = rng.uniform();
  // Mix of flows: mostly short web connections, then DNS, long-lived and interactive
  // sessions, a few bulk downloads, streams and failed connection attempts.
  if (force_bulk) {
    p.kind = FlowKind::bulk;
  } else if (k < 0.62) {
    p.kind = FlowKind::web;
  } else if (k < 0.82) {
    p.kind = FlowKind::dns;
  } else if (k < 0.90) {
    p.kind = FlowKind::idle;
  } else if (k < 0.93) {
    p.kind = FlowKind::interactive;
  } else if (k < 0.955) {
    p.kind = FlowKind::udp_stream;
  } else if (k < 0.975) {
    p.kind = FlowKind::refused;
  } else if (k < 0.99) {
    p.kind = FlowKind::syn_timeout;
  } else {
    p.kind = FlowKind::bulk;
  }
  FlowAddress& a = p.addr;
  a.udp = p.kind == FlowKind::dns || p.kind == FlowKind::udp_stream;
  a.v6 = rng.chance(0.12);
  // Client (host, port) pairs are unique per id up to 4096 * 28000 flows.
  const std::uint64_t host = id % 4096;
  a.client_port = static_cast<std::uint16_t>(32768 + (id / 4096) % 28000);
  const auto server = static_cast<std::uint32_t>(rng.below(2000));
  if (a.v6) {
    a.client = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    a.server = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
    a.client[14] = static_cast<std::uint8_t>(host >> 8);
    a.client[15] = static_cast<std::uint8_t>(host);
    a.server[14] = static_cast<std::uint8_t>(server >> 8);
    a.server[15] = static_cast<std::uint8_t>(server);
  } else {
    a.client = {10, 1, static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
    // 198.18.0.0/15 is reserved for benchmarking (RFC 2544 §C.2.2).
    a.server = {198, 18, static_cast<std::uint8_t>(server >> 8), static_cast<std::uint8_t>(server)};
  }
  switch (p.kind) {
    case FlowKind::web:
      a.server_port = rng.chance(0.8) ? 443 : 80;
      break;
    case FlowKind::interactive:
      a.server_port = 22;
      break;
    case FlowKind::idle: {
      static constexpr std::uint16_t kPorts[] = {5432, 6379, 443, 8443};
      a.server_port = kPorts[rng.below(4)];
      break;
    }
    case FlowKind::refused:
      a.server_port = static_cast<std::uint16_t>(8000 + rng.below(1000));
      break;
    case FlowKind::dns:
      a.server_port = 53;
      break;
    default:
      a.server_port = 443;
      break;
  }
  return p;
}

void generate_flow(const ModelConfig& cfg, const FlowPlan& plan, std::vector<Segment>& out,
                   TcpParams& tcp) {
  out.clear();
  tcp = TcpParams{};
  if (plan.addr.udp) {
    generate_udp(cfg, plan, out);
  } else {
    TcpSim(cfg, plan, out, tcp).run();
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Segment& a, const Segment& b) { return a.ts_ns < b.ts_ns; });
}

}  // namespace netscope::bench
