#pragma once
// The live options (`netscope [OPTIONS]`, `netscope snapshot [OPTIONS]`): one typed struct,
// declared once on CLI11 and validated once (STYLE.md §9). The same function declares
// them on the top-level app and on the `snapshot` subcommand, bound to the same
// variables, so they work before or after the subcommand's name.

#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "flow/timeouts.hpp"

namespace netscope::cli {

struct LiveCliOptions {
  std::vector<std::string> interfaces;
  bool show_localhost = false;
  std::string read_file;
  double speed = 1;
  std::vector<std::string> local_nets;
  int refresh_ms = 1000;
  double window_s = 5;
  bool no_resolve = false;
  bool raw = false;
  bool json_lines = false;
  bool processes = false;
  bool connections = false;
  bool addresses = false;
  bool total = false;
  std::string filter;
  std::vector<pid_t> pids;
  std::string bpf;
  std::size_t top = 0;
  std::size_t max_flows = 65'536;
  int snaplen = 262'144;
  // --- GeoIP/ASN (README "GeoIP and ASN"): "" = the database in the data directory
  std::string geoip;
  std::string asn_db;
  // --- end GeoIP/ASN
  // --- Packet recording (README "Packet recording")
  std::vector<pid_t> record_pids;  // --record-pid
  std::string record_process;      // --record-process REGEX
  double auto_pcap_mbps = 0;       // --auto-pcap MBPS; 0 = off
  double auto_pcap_hold_s = 10;    // --auto-pcap-hold S
  std::string pcap_dir;            // --pcap-dir; empty: "." (given, it arms the TUI's R key)
  double pcap_max_mb = 0;          // --pcap-max-mb; 0 = no cap
  // --- end packet recording
  std::string log_level = "warn";
  std::string log_file;
  bool no_attribution = false;
  bool no_dpi = false;
  std::vector<std::string> timeouts;  // --timeout NAME=SECONDS
  // --- TUI (README "TUI")
  std::string units = "bytes";  // --units bytes|bits
  std::string prefix = "si";    // --prefix si|binary
  bool no_color = false;
  std::string export_dir = ".";
  // --- end TUI
  // --- IPFIX export and the event stream (README "IPFIX export", "Events")
  std::string ipfix;  // HOST:PORT; empty = no export
  double ipfix_active_s = 60;
  double ipfix_idle_s = 15;
  std::uint32_t ipfix_domain = 1;
  bool events = false;  // with --json-lines: event lines (schema netscope.event/1)
  // --- end IPFIX / events
  // --- Prometheus exporter and service mode (README "Prometheus")
  std::string prometheus;  // [ADDR:]PORT; empty = no endpoint
  std::size_t prometheus_top = 20;
  bool headless = false;  // no TUI and nothing on stdout; runs until SIGINT/SIGTERM
  // --- end Prometheus
  // --- Event database and threat blacklist (README "Event database", "Threat blacklist")
  std::string db;                       // --db PATH; empty = no event log
  double db_retention_days = 0;         // --db-retention DAYS; 0 = keep every row
  std::vector<std::string> blacklists;  // --blacklist FILE (repeatable)
  // --- end event database / blacklist
  // snapshot
  double duration_s = 10;
  std::string output = "-";
};

// Declares the live options on `app`. `snapshot_only` adds --duration and --output.
void add_live_options(CLI::App& app, LiveCliOptions& o);
void add_snapshot_options(CLI::App& app, LiveCliOptions& o);

// Declares --timeout NAME=SECONDS (repeatable) on `app`, validated by
// flow::apply_timeout; shared by the live modes and `analyze`.
CLI::Option* add_timeout_option(CLI::App& app, std::vector<std::string>& settings);
// Applies validated --timeout settings.
flow::FlowTimeouts timeouts_from(const std::vector<std::string>& settings);

}  // namespace netscope::cli
