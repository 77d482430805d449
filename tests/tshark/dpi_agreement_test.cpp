// dpi::Inspector against tshark 4.0, run live on every shared capture that carries TLS,
// QUIC, HTTP, DNS or SSH (STYLE.md, Tests §2). Each capture is replayed through decode and
// one dpi::FlowState per flow; the per-flow fields are then compared with the fields tshark
// prints for the same flow (matched by addresses and ports):
//   TLS/QUIC ClientHello  tls.handshake.extensions_server_name, _alpn_str, tls.handshake.ja3
//   ServerHello           tls.handshake.extensions.supported_version / version, ciphersuite
//   HTTP                  http.request.method, .uri, http.host, http.user_agent (first
//                         request), http.response.code (first response)
//   SSH                   ssh.protocol of each side
//   QUIC                  quic.version
//   DNS, frame by frame   dns.id, dns.qry.name, dns.qry.type, dns.flags.rcode, dns.a,
//                         dns.aaaa, dns.cname; per response, dns.time against latency_ms
// A line per capture reports how many flows/frames agree. Deliberate differences are
// listed in kKnownDifferences with the reason; anything else fails.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "capture/file_reader.hpp"
#include "core/flow_key.hpp"
#include "decode/decode.hpp"
#include "dpi/dns.hpp"
#include "dpi/inspector.hpp"
#include "dpi/tls.hpp"

namespace netscope::test {
namespace {

using Row = std::vector<std::string>;

struct KnownDifference {
  std::string_view file;
  std::string_view what;  // the compared field
  std::string_view why;
};

constexpr KnownDifference kKnownDifferences[] = {
    {"zeek/tls_irc-starttls.pcap", "tls_client",
     "tshark 4.0's IRC dissector has no STARTTLS: it shows the ClientHello as IRC text, we "
     "recognise the TLS record that follows the plaintext exchange"},
    {"zeek/tls_irc-starttls.pcap", "tls_server", "same STARTTLS connection"},
    {"tcpdump/quic_vn.pcap", "tls_client",
     "tshark 4.0 fails the AEAD check on the v1 Initial that follows the Version Negotiation "
     "(\"Decryption (checktag) failed\", frame 3); its tag verifies with the RFC 9001 keys "
     "of its own DCID, so we read its ClientHello (SNI localhost)"},
    {"zeek/ipv6-http-atomic-frag.pcap", "http_request",
     "each request (HTTP/0.9 \"GET /bad.html\", the stream's first 15 bytes) is captured after "
     "the server's ACK of it, so tshark's TCP analysis calls it a spurious retransmission and "
     "passes it to no dissector"},
    {"zeek/ipv6-fragmented-dns.pcap", "dns_frame",
     "the response is an IPv6 fragment train; tshark reassembles it, the inspector is fed "
     "per packet and the engine does not reassemble IP fragments"},
};

bool known(std::string_view file, std::string_view what) {
  for (const auto& k : kKnownDifferences) {
    if (k.file == file && k.what == what) return true;
  }
  return false;
}

bool have_tshark() {
  return std::system("tshark -v >/dev/null 2>&1") == 0;
}

// Shared captures by their path under ../shared/pcaps; our own under the source tree.
std::string pcap_path(std::string_view rel) {
  if (rel.starts_with("tests/")) return std::string(NETSCOPE_SOURCE_DIR) + "/" + std::string(rel);
  return std::string(NETSCOPE_PCAPS) + "/" + std::string(rel);
}

// ---- flow keys shared by both sides

std::string endpoint(const core::IpAddress& a, std::uint16_t port) {
  return a.to_string() + "/" + std::to_string(port);
}

std::string flow_key(const core::IpAddress& a, std::uint16_t pa, const core::IpAddress& b,
                     std::uint16_t pb, bool tcp) {
  std::string x = endpoint(a, pa);
  std::string y = endpoint(b, pb);
  if (y < x) std::swap(x, y);
  return (tcp ? "tcp " : "udp ") + x + " " + y;
}

// ---- our side

struct OurFlow {
  dpi::FlowState state;
  std::string client;  // endpoint() of the client
  bool tcp = false;
};

struct OurDnsFrame {
  bool parsed = false;
  dpi::dns::Message msg;
  std::vector<dpi::DnsEvent> events;  // emitted while inspecting this frame
};

struct OurReplay {
  std::map<std::string, OurFlow> flows;
  std::map<std::uint32_t, OurDnsFrame> dns;  // by frame number
  dpi::DpiCounters counters;
};

OurReplay replay(const std::string& path) {
  capture::FileReader reader;
  reader.open(path);
  OurReplay out;
  dpi::Inspector inspector;
  capture::RawPacket raw;
  decode::PacketView view;
  decode::AnomalyCounters anomalies;
  dpi::InspectResult result;
  std::uint32_t frame = 0;
  while (reader.next(raw)) {
    ++frame;
    view.ts = raw.ts;
    if (!decode::decode_packet(raw.linktype, raw.data, raw.orig_len, view, anomalies)) continue;
    if (!view.is_tcp() && !view.is_udp()) continue;
    const std::string key = flow_key(view.src, view.sport, view.dst, view.dport, view.is_tcp());
    auto [it, inserted] = out.flows.try_emplace(key);
    OurFlow& f = it->second;
    if (inserted) {
      // The client: the SYN's sender, the SYN+ACK's receiver, else the first sender.
      const bool syn = (view.tcp_flags & decode::tcp_flag::syn) != 0;
      const bool ack = (view.tcp_flags & decode::tcp_flag::ack) != 0;
      const bool from_server = view.is_tcp() && syn && ack;
      f.client = from_server ? endpoint(view.dst, view.dport) : endpoint(view.src, view.sport);
      f.tcp = view.is_tcp();
    }
    const int dir = endpoint(view.src, view.sport) == f.client ? 0 : 1;
    result.clear();
    inspector.inspect(f.state, view, dir, result);
    const dpi::Protocol p = f.state.proto;
    if (p == dpi::Protocol::dns || p == dpi::Protocol::mdns || p == dpi::Protocol::llmnr) {
      OurDnsFrame& d = out.dns[frame];
      dpi::Bytes msg = view.payload;
      std::size_t used = 0;
      if (!view.is_tcp() || dpi::dns::next_tcp_message(view.payload, msg, used)) {
        d.parsed = !msg.empty() && dpi::dns::parse_message(msg, d.msg);
      }
      d.events = result.dns;
    }
  }
  out.counters = inspector.counters();
  return out;
}

// ---- tshark side: one run per capture, every field we compare.

constexpr std::string_view kFilter =
    "tls.handshake.type == 1 || tls.handshake.type == 2 || http.request || http.response || "
    "ssh.protocol || quic || dns";

constexpr std::string_view kFields[] = {"frame.number",
                                        "ip.src",
                                        "ipv6.src",
                                        "ip.dst",
                                        "ipv6.dst",
                                        "tcp.srcport",
                                        "tcp.dstport",
                                        "udp.srcport",
                                        "udp.dstport",
                                        "tls.handshake.type",
                                        "tls.handshake.extensions_server_name",
                                        "tls.handshake.extensions_alpn_str",
                                        "tls.handshake.ja3",
                                        "tls.handshake.extensions.supported_version",
                                        "tls.handshake.version",
                                        "tls.handshake.ciphersuite",
                                        "http.request.method",
                                        "http.request.uri",
                                        "http.host",
                                        "http.user_agent",
                                        "http.response.code",
                                        "ssh.protocol",
                                        "quic.version",
                                        "dns.id",
                                        "dns.flags.response",
                                        "dns.qry.name",
                                        "dns.qry.type",
                                        "dns.flags.rcode",
                                        "dns.a",
                                        "dns.aaaa",
                                        "dns.cname",
                                        "dns.time"};

// The innermost value of a possibly repeated field (tunnels list every IP header).
std::string last(const std::string& list) {
  const std::size_t comma = list.rfind(',');
  return comma == std::string::npos ? list : list.substr(comma + 1);
}
std::string first(const std::string& list) {
  return list.substr(0, list.find(','));
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string v;
  while (std::getline(ss, v, ',')) out.push_back(v);
  return out;
}
bool contains(const std::string& list, std::string_view value) {
  const auto v = split(list);
  return std::find(v.begin(), v.end(), value) != v.end();
}

struct TsharkFrame {
  std::uint32_t frame = 0;
  std::string key;
  std::string src;  // endpoint()
  std::map<std::string_view, std::string> f;

  const std::string& operator[](std::string_view field) const {
    static const std::string kEmpty;
    const auto it = f.find(field);
    return it == f.end() ? kEmpty : it->second;
  }
};

std::vector<TsharkFrame> run_tshark(const std::string& path, std::string_view opts) {
  std::string cmd = "tshark -n " + std::string(opts) + " -r '" + path + "' -Y '" +
                    std::string(kFilter) + "' -T fields -E occurrence=a -E aggregator=,";
  for (const auto field : kFields) cmd += " -e " + std::string(field);
  cmd += " 2>/dev/null";
  std::vector<TsharkFrame> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::string line;
  char buf[8192];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    line += buf;
    if (line.empty() || line.back() != '\n') continue;
    line.pop_back();
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    line.clear();
    cols.resize(std::size(kFields));
    TsharkFrame t;
    for (std::size_t i = 0; i < cols.size(); ++i) t.f[kFields[i]] = cols[i];
    const bool tcp = !t["tcp.srcport"].empty();
    const auto src =
        core::IpAddress::parse(last(t["ip.src"].empty() ? t["ipv6.src"] : t["ip.src"]));
    const auto dst =
        core::IpAddress::parse(last(t["ip.dst"].empty() ? t["ipv6.dst"] : t["ip.dst"]));
    if (!src || !dst) continue;
    const auto sport = static_cast<std::uint16_t>(
        std::atoi(last(tcp ? t["tcp.srcport"] : t["udp.srcport"]).c_str()));
    const auto dport = static_cast<std::uint16_t>(
        std::atoi(last(tcp ? t["tcp.dstport"] : t["udp.dstport"]).c_str()));
    t.frame = static_cast<std::uint32_t>(std::atoi(t["frame.number"].c_str()));
    t.key = flow_key(*src, sport, *dst, dport, tcp);
    t.src = endpoint(*src, sport);
    out.push_back(std::move(t));
  }
  pclose(p);
  return out;
}

// The first frame per flow that `pick` accepts.
template <typename Pick>
std::map<std::string, TsharkFrame> first_per_flow(const std::vector<TsharkFrame>& frames,
                                                  Pick pick) {
  std::map<std::string, TsharkFrame> out;
  for (const TsharkFrame& t : frames) {
    if (pick(t)) out.try_emplace(t.key, t);
  }
  return out;
}

std::string hex_to_cipher_name(const std::string& hex) {
  return dpi::tls::cipher_name(static_cast<std::uint16_t>(std::stoul(hex, nullptr, 16)));
}

// ---- comparison with a tally per field

class Tally {
 public:
  Tally(std::string file) : file_(std::move(file)) {}
  // Records one comparison; a mismatch fails unless it is a known difference.
  void check(std::string_view what, bool agree, const std::string& detail) {
    auto& [ok, total] = counts_[std::string(what)];
    ++total;
    if (agree) {
      ++ok;
    } else if (!known(file_, what)) {
      ADD_FAILURE() << file_ << " " << what << ": " << detail;
    }
  }
  void print() const {
    std::cout << "[dpi vs tshark] " << file_ << ":";
    for (const auto& [what, c] : counts_)
      std::cout << " " << what << " " << c.first << "/" << c.second;
    std::cout << "\n";
  }

 private:
  std::string file_;
  std::map<std::string, std::pair<int, int>> counts_;
};

std::string mismatch(std::string_view field, const std::string& ours, const std::string& theirs) {
  return std::string(field) + ": ours \"" + ours + "\" tshark \"" + theirs + "\" ";
}

dpi::DpiInfo our_info(const OurReplay& ours, const std::string& key) {
  dpi::DpiInfo info;
  const auto it = ours.flows.find(key);
  if (it != ours.flows.end()) dpi::Inspector::describe(it->second.state, info);
  return info;
}

void compare_tls(const std::vector<TsharkFrame>& frames, const OurReplay& ours, Tally& tally) {
  const auto hellos = first_per_flow(
      frames, [](const TsharkFrame& t) { return contains(t["tls.handshake.type"], "1"); });
  for (const auto& [key, t] : hellos) {
    const dpi::DpiInfo info = our_info(ours, key);
    const std::string sni = first(t["tls.handshake.extensions_server_name"]);
    const std::string& alpn = t["tls.handshake.extensions_alpn_str"];  // comma-joined, as ours
    const std::string ja3 = first(t["tls.handshake.ja3"]);
    tally.check("tls_client", info.sni == sni && info.alpn == alpn && info.ja3 == ja3,
                "frame " + std::to_string(t.frame) + " " + mismatch("sni", info.sni, sni) +
                    mismatch("alpn", info.alpn, alpn) + mismatch("ja3", info.ja3, ja3));
  }
  const auto servers = first_per_flow(
      frames, [](const TsharkFrame& t) { return contains(t["tls.handshake.type"], "2"); });
  for (const auto& [key, t] : servers) {
    const dpi::DpiInfo info = our_info(ours, key);
    const std::string& selected = t["tls.handshake.extensions.supported_version"];
    const std::string hex = first(selected.empty() ? t["tls.handshake.version"] : selected);
    const std::string version =
        dpi::tls::version_name(static_cast<std::uint16_t>(std::stoul(hex, nullptr, 16)));
    const std::string cipher = hex_to_cipher_name(first(t["tls.handshake.ciphersuite"]));
    tally.check("tls_server", info.tls_version == version && info.tls_cipher == cipher,
                "frame " + std::to_string(t.frame) + " " +
                    mismatch("version", info.tls_version, version) +
                    mismatch("cipher", info.tls_cipher, cipher));
  }
  // A ClientHello we read where tshark has none.
  for (const auto& [key, f] : ours.flows) {
    dpi::DpiInfo info;
    dpi::Inspector::describe(f.state, info);
    if (!info.ja3.empty() && hellos.find(key) == hellos.end()) {
      tally.check("tls_client", false,
                  "ClientHello only we see, in flow " + key + " sni " + info.sni);
    }
  }
}

void compare_http(const std::vector<TsharkFrame>& frames, const OurReplay& ours, Tally& tally) {
  const auto requests = first_per_flow(
      frames, [](const TsharkFrame& t) { return !t["http.request.method"].empty(); });
  for (const auto& [key, t] : requests) {
    const dpi::DpiInfo info = our_info(ours, key);
    const std::string method = first(t["http.request.method"]);
    const std::string& path = t["http.request.uri"];
    const std::string& host = t["http.host"];
    const std::string& ua = t["http.user_agent"];
    tally.check(
        "http_request",
        info.http_method == method && info.http_path == path && info.http_host == host &&
            info.http_user_agent == ua,
        "frame " + std::to_string(t.frame) + " " + mismatch("method", info.http_method, method) +
            mismatch("path", info.http_path, path) + mismatch("host", info.http_host, host) +
            mismatch("user_agent", info.http_user_agent, ua));
  }
  for (const auto& [key, f] : ours.flows) {
    dpi::DpiInfo info;
    dpi::Inspector::describe(f.state, info);
    if (!info.http_method.empty() && requests.find(key) == requests.end()) {
      tally.check(
          "http_request", false,
          "request only we see, in flow " + key + " " + info.http_method + " " + info.http_path);
    }
  }
  const auto responses =
      first_per_flow(frames, [](const TsharkFrame& t) { return !t["http.response.code"].empty(); });
  for (const auto& [key, t] : responses) {
    const dpi::DpiInfo info = our_info(ours, key);
    const std::string mine = info.http_status ? std::to_string(*info.http_status) : "";
    const std::string theirs = first(t["http.response.code"]);
    tally.check("http_status", mine == theirs,
                "frame " + std::to_string(t.frame) + " " + mismatch("status", mine, theirs));
  }
}

void compare_ssh(const std::vector<TsharkFrame>& frames, const OurReplay& ours, Tally& tally) {
  for (const TsharkFrame& t : frames) {
    const std::string& banner = t["ssh.protocol"];
    if (banner.empty()) continue;
    const auto it = ours.flows.find(t.key);
    const bool from_client = it != ours.flows.end() && it->second.client == t.src;
    const dpi::DpiInfo info = our_info(ours, t.key);
    const std::string& mine = from_client ? info.ssh_client : info.ssh_server;
    tally.check("ssh_banner", mine == banner,
                "frame " + std::to_string(t.frame) + " " + mismatch("ssh.protocol", mine, banner));
  }
}

void compare_quic(const std::vector<TsharkFrame>& frames, const OurReplay& ours, Tally& tally) {
  std::map<std::string, std::set<std::string>> versions;  // per flow, every version tshark saw
  for (const TsharkFrame& t : frames) {
    for (const std::string& v : split(t["quic.version"])) versions[t.key].insert(v);
  }
  for (const auto& [key, vs] : versions) {
    // tshark lists every version of the flow (a Version Negotiation packet shows 0); ours
    // is the one whose Initial decrypted. Flows with neither v1 nor v2 are not QUIC to us.
    if (vs.count("0x00000001") == 0 && vs.count("0x6b3343cf") == 0) continue;
    const dpi::DpiInfo info = our_info(ours, key);
    const std::string mine = info.quic_version == "v1"   ? "0x00000001"
                             : info.quic_version == "v2" ? "0x6b3343cf"
                                                         : "";
    tally.check("quic_version", !mine.empty() && vs.count(mine) == 1,
                "flow " + key + " ours \"" + mine + "\"");
  }
}

std::string join_sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string hex_id(std::uint16_t id) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", id);
  return buf;
}

void compare_dns(const std::vector<TsharkFrame>& frames, const OurReplay& ours, Tally& tally) {
  for (const TsharkFrame& t : frames) {
    if (t["dns.id"].empty()) continue;
    const std::string frame = "frame " + std::to_string(t.frame) + " ";
    const bool response = first(t["dns.flags.response"]) == "1";
    const std::string id = first(t["dns.id"]);
    const std::string qname = first(t["dns.qry.name"]);
    const std::string qtype = first(t["dns.qry.type"]);
    const std::string rcode = first(t["dns.flags.rcode"]);
    const auto it = ours.dns.find(t.frame);
    const OurDnsFrame* d = it == ours.dns.end() ? nullptr : &it->second;
    if (d != nullptr && d->parsed) {
      const dpi::dns::Message& m = d->msg;
      // tshark prints the root as "<Root>"; qtype and rcode as numbers; dns.a etc. list
      // the records of every section.
      const std::string name = m.qname == "." ? "<Root>" : m.qname;
      std::vector<std::string> a, aaaa, cname;
      for (const auto& r : m.records) {
        (r.answer.type == dpi::dns::rr::a      ? a
         : r.answer.type == dpi::dns::rr::aaaa ? aaaa
                                               : cname)
            .push_back(r.answer.text());
      }
      const std::string ra = join_sorted(split(t["dns.a"]));
      const std::string raaaa = join_sorted(split(t["dns.aaaa"]));
      const std::string rcname = join_sorted(split(t["dns.cname"]));
      const std::string mine_rcode = std::to_string(m.rcode & 0xf);
      tally.check("dns_frame",
                  hex_id(m.id) == id && m.response == response && name == qname &&
                      std::to_string(m.qtype) == qtype && (!response || mine_rcode == rcode) &&
                      join_sorted(a) == ra && join_sorted(aaaa) == raaaa &&
                      join_sorted(cname) == rcname,
                  frame + mismatch("id", hex_id(m.id), id) + mismatch("qname", name, qname) +
                      mismatch("qtype", std::to_string(m.qtype), qtype) +
                      mismatch("rcode", mine_rcode, rcode) + mismatch("a", join_sorted(a), ra) +
                      mismatch("aaaa", join_sorted(aaaa), raaaa) +
                      mismatch("cname", join_sorted(cname), rcname));
    } else if (d != nullptr && response && !d->events.empty()) {
      // A DNS-over-TCP message spread over segments: the segment alone does not parse,
      // the reassembled message produced the event.
      const dpi::DnsEvent& e = d->events.back();
      tally.check("dns_frame",
                  hex_id(e.id) == id && e.query == qname && std::to_string(e.qtype_code) == qtype &&
                      e.rcode_code && std::to_string(*e.rcode_code & 0xf) == rcode,
                  frame + mismatch("id", hex_id(e.id), id) + mismatch("qname", e.query, qname));
    } else {
      tally.check("dns_frame", false, frame + "not parsed as DNS");
      continue;
    }
    // dns.time: query -> response, on responses tshark matched to a query.
    const std::string& time = t["dns.time"];
    if (!response || time.empty()) continue;
    const dpi::DnsEvent* event = nullptr;
    for (const auto& e : d->events) {
      if (hex_id(e.id) == id && e.rcode) event = &e;
    }
    const double theirs_ms = std::atof(time.c_str()) * 1000.0;
    const bool ok =
        event != nullptr && event->latency_ms && std::abs(*event->latency_ms - theirs_ms) < 0.001;
    tally.check("dns_latency", ok,
                frame + "tshark " + std::to_string(theirs_ms) + " ms, ours " +
                    (event && event->latency_ms ? std::to_string(*event->latency_ms) : "none"));
  }
}

struct Capture {
  const char* file;
  const char* tshark_options;  // decode-as for protocols on unusual ports
};
void PrintTo(const Capture& c, std::ostream* os) {
  *os << c.file;
}

// Every shared capture in which tshark finds TLS, QUIC, HTTP, DNS or SSH, and ours.
const Capture kCaptures[] = {
    {"chrissanders/dns_lab.pcapng", ""},
    {"chrissanders/dns_query_nonexistent.pcapng", ""},
    {"chrissanders/dns_tcp.pcapng", ""},
    {"chrissanders/http_espn_fail.pcapng", ""},
    {"chrissanders/http_google.pcapng", ""},
    {"chrissanders/http_ip4and6.pcapng", ""},
    {"chrissanders/latency1.pcapng", ""},
    {"chrissanders/latency2.pcapng", ""},
    {"chrissanders/latency4.pcapng", ""},
    {"chrissanders/stranded_clientside.pcapng", ""},
    {"packetmancer/captures_http.cap", ""},
    {"packetmancer/captures_tcp-ecn-sample.pcap", ""},
    {"tcpdump/dns-uri.pcap", ""},
    {"tcpdump/LINKTYPE_RAW_ipv4.pcap", ""},
    {"tcpdump/quic_handshake.pcap", ""},
    {"tcpdump/quic_handshake_truncated.pcap", ""},
    {"tcpdump/quic_retry.pcap", ""},
    {"tcpdump/quic_vn.pcap", ""},
    {"tcpdump/ssh.pcap", ""},
    {"zeek/dns_long-connection.pcap", ""},
    {"zeek/http-qinq-0.pcap", ""},
    {"zeek/http-vlan-0.pcap", ""},
    {"zeek/http_206_example_b.pcap", ""},
    {"zeek/http_pipelined-requests.pcap", ""},
    {"zeek/ipv6-fragmented-dns.pcap", ""},
    {"zeek/ipv6-http-atomic-frag.pcap", ""},
    {"zeek/mixed-vlan-mpls.pcap", ""},
    {"zeek/nflog-http.pcap", ""},
    {"zeek/pcapng-multi-interface.pcapng", ""},
    {"zeek/quic_chromium-115.0.5790.110-api-cirrus-com.pcap", ""},
    {"zeek/quic_curl-8.1.2-dev-http3-www-google-de.pcap", ""},
    {"zeek/quic_quic-multiple-initial-fragmented-crypto.pcap", ""},
    {"zeek/quic_quicv2-http3-443.pcap", ""},
    {"zeek/ssh_single-conn.pcap", ""},
    {"zeek/ssh_ssh-on-port-80.pcap", "-d tcp.port==80,ssh"},
    {"zeek/tcp_ssh-dups.pcap", ""},
    {"zeek/tls_certificate-with-sct.pcap", ""},
    {"zeek/tls_chrome-1250-tls-x25519-kyber.pcap", ""},
    {"zeek/tls_chrome-34-google.pcap", ""},
    {"zeek/tls_hrr.pcap", ""},
    {"zeek/tls_irc-starttls.pcap", ""},
    {"zeek/tls_openjdk-25.0.2-zeek.org.pcap", ""},
    {"zeek/tls_tls12-decryption.pcap", ""},
    {"zeek/tls_tls13-ech.pcap", ""},
    {"zeek/tls_tls13_wolfssl.pcap", ""},
    {"zeek/wikipedia.pcap", ""},
    // Live openssl traffic: a 3.5 KB ClientHello over three segments, in order and
    // reversed (tests/unit/dpi/data/make_tls_captures.sh). tshark reassembles the
    // reversed one only when asked to.
    {"tests/unit/dpi/data/tls_big_client_hello.pcap", ""},
    {"tests/unit/dpi/data/tls_big_client_hello_reordered.pcap",
     "-o tcp.reassemble_out_of_order:TRUE"},
};

class DpiAgreement : public ::testing::TestWithParam<Capture> {
 protected:
  void SetUp() override {
    if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  }
};

TEST_P(DpiAgreement, fields_equal_tsharks_flow_by_flow) {
  const std::string file = GetParam().file;
  const std::string path = pcap_path(file);
  const OurReplay ours = replay(path);
  // May be empty: then nothing we report may be missing from tshark's view either.
  const std::vector<TsharkFrame> theirs = run_tshark(path, GetParam().tshark_options);
  Tally tally(file);
  compare_tls(theirs, ours, tally);
  compare_http(theirs, ours, tally);
  compare_ssh(theirs, ours, tally);
  compare_quic(theirs, ours, tally);
  compare_dns(theirs, ours, tally);
  tally.print();
}

std::string capture_name(const ::testing::TestParamInfo<Capture>& info) {
  std::string name = info.param.file;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(SharedCaptures, DpiAgreement, ::testing::ValuesIn(kCaptures),
                         capture_name);

// The application states tshark has no field for, on the same captures: every SSH session
// here logs in (the heuristic must say so), every QUIC handshake completes except the one
// whose capture holds only the client's Initials.
TEST(DpiStates, ssh_and_quic_states_on_shared_captures) {
  const std::pair<const char*, std::string_view> expected[] = {
      {"tcpdump/ssh.pcap", "SSH_ESTABLISHED"},
      {"zeek/ssh_single-conn.pcap", "SSH_ESTABLISHED"},
      {"zeek/ssh_ssh-on-port-80.pcap", "SSH_ESTABLISHED"},
      {"zeek/tcp_ssh-dups.pcap", "SSH_ESTABLISHED"},
      {"tcpdump/quic_handshake.pcap", "QUIC_CONNECTED"},
      {"tcpdump/quic_handshake_truncated.pcap", "QUIC_CONNECTED"},
      {"tcpdump/quic_retry.pcap", "QUIC_CONNECTED"},
      {"tcpdump/quic_vn.pcap", "QUIC_CONNECTED"},
      {"zeek/quic_chromium-115.0.5790.110-api-cirrus-com.pcap", "QUIC_CONNECTED"},
      {"zeek/quic_curl-8.1.2-dev-http3-www-google-de.pcap", "QUIC_CONNECTED"},
      // The client moves to the server's CID and keeps the Initial keys of its first
      // DCID (RFC 9001 §5.2); tshark opens those Initials too and shows frame 15's
      // CONNECTION_CLOSE (quic.frame_type 28): draining.
      {"zeek/quic_quic-multiple-initial-fragmented-crypto.pcap", "QUIC_DRAINING"},
      {"zeek/quic_quicv2-http3-443.pcap", "QUIC_CONNECTED"},
  };
  for (const auto& [file, state] : expected) {
    const OurReplay r = replay(pcap_path(file));
    int sessions = 0;
    for (const auto& [key, f] : r.flows) {
      dpi::DpiInfo info;
      dpi::Inspector::describe(f.state, info);
      if (info.app != "SSH" && info.app != "QUIC") continue;
      ++sessions;
      EXPECT_EQ(info.state, state) << file << " " << key;
      EXPECT_EQ(info.state_heuristic, info.app == "SSH") << file;
    }
    EXPECT_EQ(sessions, 1) << file;
  }
}

}  // namespace
}  // namespace netscope::test
