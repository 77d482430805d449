#include "analyze/score.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace netscope::analyze {

namespace {

constexpr double kRetransmitPointsPerPercent = 5;
constexpr int kRetransmitMax = 60;
constexpr double kOutOfOrderPointsPerPercent = 2;
constexpr int kOutOfOrderMax = 20;
constexpr int kDupAckRunPoints = 5;
constexpr int kDupAckRunMax = 25;
constexpr int kZeroWindowBase = 10;
constexpr int kZeroWindowPerPacket = 2;
constexpr int kZeroWindowMax = 40;
constexpr int kSynUnansweredPoints = 100;
constexpr int kRefusedPoints = 100;
constexpr int kIcmpUnreachablePoints = 50;
constexpr int kIcmpTimeExceededPoints = 20;
constexpr int kIcmpTooBigPoints = 10;
constexpr double kSlowHandshakeMs = 200;
constexpr double kVerySlowHandshakeMs = 500;
constexpr int kSlowHandshakePoints = 10;
constexpr int kVerySlowHandshakePoints = 20;

const char* side_name(int dir) {
  return dir == 0 ? "client" : "server";
}
const char* arrow_name(int dir) {
  return dir == 0 ? "client→server" : "server→client";
}

int scaled_points(double percent, double per_percent, int max_points) {
  const int pts = static_cast<int>(std::lround(percent * per_percent));
  return std::clamp(pts, 1, max_points);
}

// Share of a direction's segments, in percent. Segments without payload (SYN, FIN) that
// were re-sent still count, so the base is never smaller than the count itself.
double percent_of(std::uint64_t count, std::uint64_t data_packets) {
  const std::uint64_t base = std::max(data_packets, count);
  return base == 0 ? 0.0 : 100.0 * static_cast<double>(count) / static_cast<double>(base);
}

std::string icmp_description(const Conversation& c) {
  if (c.icmp_version == 6) {
    switch (c.icmp_type) {
      case 1:
        return "ICMPv6 destination unreachable (code " + std::to_string(c.icmp_code) + ")";
      case 2:
        return "ICMPv6 packet too big";
      case 3:
        return "ICMPv6 time exceeded";
      default:
        return "ICMPv6 error type " + std::to_string(c.icmp_type);
    }
  }
  switch (c.icmp_type) {
    case 3: {
      static constexpr const char* kCodes[] = {
          "network unreachable",  "host unreachable",    "protocol unreachable", "port unreachable",
          "fragmentation needed", "source route failed", "network unknown",      "host unknown"};
      if (c.icmp_code < std::size(kCodes))
        return std::string("ICMP destination unreachable (") + kCodes[c.icmp_code] + ")";
      if (c.icmp_code == 13) return "ICMP destination unreachable (administratively prohibited)";
      return "ICMP destination unreachable (code " + std::to_string(c.icmp_code) + ")";
    }
    case 11:
      return "ICMP time exceeded";
    case 12:
      return "ICMP parameter problem";
    case 4:
      return "ICMP source quench";
    case 5:
      return "ICMP redirect";
    default:
      return "ICMP error type " + std::to_string(c.icmp_type);
  }
}

int icmp_points(const Conversation& c) {
  switch (icmp_error_kind(c.icmp_version, c.icmp_type, c.icmp_code)) {
    case IcmpErrorKind::packet_too_big:
      return kIcmpTooBigPoints;
    case IcmpErrorKind::unreachable:
      return kIcmpUnreachablePoints;
    case IcmpErrorKind::time_exceeded:
    case IcmpErrorKind::other:
      break;
  }
  return kIcmpTimeExceededPoints;
}

}  // namespace

void score_conversation(Conversation& c) {
  // Reasons are listed by their weight, heaviest first.
  std::vector<std::pair<int, std::string>> found;
  const auto add = [&found](int points, std::string reason) {
    found.emplace_back(points, std::move(reason));
  };

  if (c.setup == SetupProblem::syn_unanswered) {
    add(kSynUnansweredPoints, fmt::format("SYN never answered ({} SYN{} sent)", c.dir[0].packets,
                                          c.dir[0].packets == 1 ? "" : "s"));
  } else if (c.setup == SetupProblem::refused) {
    add(kRefusedPoints, "connection refused: the SYN was answered by a RST");
  }

  for (int d = 0; d < 2; ++d) {
    const DirectionSummary& s = c.dir[d];
    const flow::TcpHealth& h = s.tcp;
    if (h.retransmissions > 0 && c.setup == SetupProblem::none) {
      const double pct = percent_of(h.retransmissions, s.data_packets);
      add(scaled_points(pct, kRetransmitPointsPerPercent, kRetransmitMax),
          fmt::format("{:.1f}% of {} segments retransmitted ({} of {}{})", pct, arrow_name(d),
                      h.retransmissions, std::max(s.data_packets, h.retransmissions),
                      h.fast_retransmissions > 0 ? fmt::format(", {} fast", h.fast_retransmissions)
                                                 : std::string()));
    }
    if (h.out_of_order > 0) {
      const double pct = percent_of(h.out_of_order, s.data_packets);
      add(scaled_points(pct, kOutOfOrderPointsPerPercent, kOutOfOrderMax),
          fmt::format("{:.1f}% of {} segments arrived out of order ({})", pct, arrow_name(d),
                      h.out_of_order));
    }
    if (h.dup_ack_events > 0) {
      add(std::min<int>(static_cast<int>(h.dup_ack_events) * kDupAckRunPoints, kDupAckRunMax),
          fmt::format("{} sent {} run{} of 3+ duplicate ACKs (it saw loss)", side_name(d),
                      h.dup_ack_events, h.dup_ack_events == 1 ? "" : "s"));
    }
    if (h.zero_windows > 0) {
      add(std::min<int>(
              kZeroWindowBase + static_cast<int>(std::min<std::uint64_t>(h.zero_windows, 1000)) *
                                    kZeroWindowPerPacket,
              kZeroWindowMax),
          fmt::format("{} advertised a zero window {} time{} (its receive buffer was "
                      "full; the {} had to stop sending)",
                      side_name(d), h.zero_windows, h.zero_windows == 1 ? "" : "s",
                      side_name(1 - d)));
    }
  }

  if (c.icmp_errors > 0) {
    add(icmp_points(c),
        fmt::format("{} received for this flow{}", icmp_description(c),
                    c.icmp_errors > 1 ? fmt::format(" ({} times)", c.icmp_errors) : std::string()));
  }
  if (c.rtt.handshake_ms) {
    const double ms = *c.rtt.handshake_ms;
    if (ms >= kVerySlowHandshakeMs) {
      add(kVerySlowHandshakePoints,
          fmt::format("slow connection set-up: handshake took {:.0f} ms", ms));
    } else if (ms >= kSlowHandshakeMs) {
      add(kSlowHandshakePoints,
          fmt::format("slow connection set-up: handshake took {:.0f} ms", ms));
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  c.score = 0;
  c.reasons.clear();
  for (auto& [points, reason] : found) {
    c.score += points;
    c.reasons.push_back(std::move(reason));
  }
}

}  // namespace netscope::analyze
