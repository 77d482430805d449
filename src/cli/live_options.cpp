#include "cli/live_options.hpp"

#include "output/prometheus_server.hpp"

namespace netscope::cli {

void add_live_options(CLI::App& app, LiveCliOptions& o) {
  app.add_option("-i,--interface", o.interfaces,
                 "Capture on this interface (repeatable; 'any' alone for all at once). Default: "
                 "every interface that is up and has an address other than IPv6 link-local, "
                 "except bridge/bond ports (seen on their master) and loopback")
      ->type_name("IF");
  app.add_flag("--show-localhost", o.show_localhost,
               "Show loopback traffic (hidden by default; adds 'lo' to the default interfaces)");
  app.add_option("-r,--read", o.read_file,
                 "Replay a pcap/pcapng file through the live engine instead of capturing")
      ->type_name("FILE");
  app.add_option("--speed", o.speed,
                 "Replay pace with --read: 1 = as recorded, 0 = as fast as possible")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--local-net", o.local_nets,
                 "Addresses that count as local, as CIDR (repeatable). With --read, the default "
                 "is the addresses that open connections in the file")
      ->type_name("CIDR");
  app.add_option("--refresh", o.refresh_ms, "Refresh interval in milliseconds")
      ->check(CLI::Range(50, 3'600'000))
      ->capture_default_str();
  app.add_option("--window", o.window_s, "Rate averaging window in seconds")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_flag("-n,--no-resolve", o.no_resolve, "Show addresses, not host names");
  app.add_flag("--raw", o.raw, "Print bandwhich's machine-readable text format");
  app.add_flag("--json-lines", o.json_lines,
               "Print one JSON object per refresh (schema netscope.tick/1)");
  app.add_flag("-p,--processes", o.processes, "Show the processes table (combine with -c, -a)");
  app.add_flag("-c,--connections", o.connections, "Show the connections table");
  app.add_flag("-a,--addresses", o.addresses, "Show the remote addresses table");
  app.add_flag("-t,--total", o.total, "Show cumulative bytes instead of rates");
  app.add_option("--filter", o.filter,
                 "Only processes whose name or command line matches this regular expression")
      ->type_name("REGEX");
  app.add_option("--pid", o.pids, "Only this process (repeatable)")->type_name("PID");
  app.add_option("--bpf", o.bpf, "Only packets matching this tcpdump filter expression")
      ->type_name("EXPR");
  app.add_option("--top", o.top, "At most N rows per table (0 = all)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--max-flows", o.max_flows,
                 "Flow table capacity; when full the stalest flow is evicted and counted")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 26))
      ->capture_default_str();
  app.add_option("--snaplen", o.snaplen, "Bytes captured per packet")
      ->check(CLI::Range(64, 262'144))
      ->capture_default_str();
  // --- GeoIP/ASN
  app.add_option("--geoip", o.geoip,
                 "Country database (MaxMind DB). Default: country.mmdb in the data directory "
                 "that scripts/setup fills")
      ->type_name("PATH");
  app.add_option("--asn-db", o.asn_db,
                 "ASN database (MaxMind DB, GeoLite2-ASN layout). Default: asn.mmdb in the data "
                 "directory")
      ->type_name("PATH");
  // --- end GeoIP/ASN
  // --- Packet recording
  app.add_option("--record-pid", o.record_pids,
                 "Record this process's packets to a pcapng file (repeatable)")
      ->type_name("PID");
  app.add_option("--record-process", o.record_process,
                 "Record the packets of every process whose name (comm) matches this regular "
                 "expression, one file per process")
      ->type_name("REGEX");
  app.add_option("--auto-pcap", o.auto_pcap_mbps,
                 "Start recording a process once its rate (up + down) reaches this many "
                 "megabytes per second; 0 = off")
      ->type_name("MBPS")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--auto-pcap-hold", o.auto_pcap_hold_s,
                 "Stop an automatic recording once the rate stayed below --auto-pcap this long")
      ->type_name("S")
      ->check(CLI::Range(0.0, 86'400.0))
      ->capture_default_str();
  app.add_option("--pcap-dir", o.pcap_dir,
                 "Where recordings go (default: the current directory). Given alone, it arms "
                 "the TUI's R key (record the selected process)")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--pcap-max-mb", o.pcap_max_mb,
                 "Start a new file when a recording's file reaches this many megabytes; 0 = "
                 "no cap")
      ->type_name("MB")
      ->check(CLI::Range(0.0, 1e9));
  // --- end packet recording
  app.add_option("--log-level", o.log_level, "error, warn, info or debug")
      ->check(CLI::IsMember({"error", "warn", "warning", "info", "debug"}))
      ->capture_default_str();
  app.add_option("--log-file", o.log_file, "Write diagnostics here instead of stderr")
      ->type_name("PATH");
  app.add_flag("--no-attribution", o.no_attribution,
               "Do not look up the process of each connection (no sock_diag, no /proc)");
  add_timeout_option(app, o.timeouts);
  app.add_flag("--no-dpi", o.no_dpi,
               "No deep packet inspection: no application fields (SNI, HTTP host, ...) and no "
               "DNS events");
  // --- TUI
  app.add_option("--units", o.units, "TUI rates and totals in bytes or bits")
      ->check(CLI::IsMember({"bytes", "bits"}))
      ->capture_default_str();
  app.add_option("--prefix", o.prefix, "TUI unit prefixes: si (kB = 1000) or binary (KiB = 1024)")
      ->check(CLI::IsMember({"si", "binary"}))
      ->capture_default_str();
  app.add_flag("--no-color", o.no_color,
               "TUI in monochrome (also when NO_COLOR is set); the selection in reverse video");
  app.add_option("--export-dir", o.export_dir,
                 "Where the TUI's e key writes its JSON exports (netscope-<view>-<time>.json)")
      ->type_name("DIR")
      ->capture_default_str();
  // --- end TUI
  // --- IPFIX export and the event stream
  app.add_option("--ipfix", o.ipfix,
                 "Export flow records over IPFIX (RFC 7011, UDP) to this collector")
      ->type_name("HOST:PORT");
  app.add_option("--ipfix-active", o.ipfix_active_s,
                 "IPFIX active timeout: a flow with traffic is reported at least this often")
      ->check(CLI::Range(1.0, 86'400.0))
      ->capture_default_str();
  app.add_option("--ipfix-idle", o.ipfix_idle_s,
                 "IPFIX idle timeout: a flow with no packet for this long is reported and ended")
      ->check(CLI::Range(1.0, 86'400.0))
      ->capture_default_str();
  app.add_option("--ipfix-domain", o.ipfix_domain, "IPFIX observation domain id")
      ->capture_default_str();
  app.add_flag("--events", o.events,
               "With --json-lines: also print connection open/close, DNS and alert events, one "
               "per line (schema netscope.event/1)")
      ->needs("--json-lines");
  // --- end IPFIX / events
  // --- Prometheus exporter and service mode
  app.add_option("--prometheus", o.prometheus,
                 "Serve Prometheus metrics on /metrics (and /healthz) at this address; a port "
                 "alone binds 127.0.0.1")
      ->type_name("[ADDR:]PORT")
      ->check(CLI::Validator(
          [](std::string& v) {
            std::string addr, error;
            std::uint16_t port = 0;
            return output::parse_listen_address(v, addr, port, error) ? std::string() : error;
          },
          ""));
  app.add_option("--prometheus-top", o.prometheus_top,
                 "Processes (by name, user and container) with their own Prometheus series; the "
                 "rest are summed into process=\"other\"")
      ->check(CLI::Range(std::size_t{1}, std::size_t{5000}))
      ->capture_default_str();
  app.add_flag("--headless", o.headless,
               "Run as a service: no TUI and no output on stdout (--prometheus, --ipfix, ... "
               "still run) until SIGINT or SIGTERM");
  // --- end Prometheus
  // --- Event database and threat blacklist
  app.add_option("--db", o.db,
                 "Log connections, DNS queries and blacklist alerts to this SQLite database "
                 "(created when missing; WAL, committed at least once a second)")
      ->type_name("PATH");
  app.add_option("--db-retention", o.db_retention_days,
                 "Delete rows of the --db database older than this many days (0 = keep all)")
      ->type_name("DAYS")
      ->check(CLI::Range(0.0, 36'500.0))
      ->capture_default_str();
  app.add_option("--blacklist", o.blacklists,
                 "Alert on connections and DNS queries that match an address, CIDR or domain "
                 "listed in this file (repeatable; SIGHUP reloads in headless modes)")
      ->type_name("FILE");
  // --- end event database / blacklist
}

CLI::Option* add_timeout_option(CLI::App& app, std::vector<std::string>& settings) {
  std::string names;
  for (const flow::TimeoutName& n : flow::timeout_names()) {
    const flow::FlowTimeouts defaults;
    names += "\n      " + std::string(n.name) + " (" +
             std::to_string(static_cast<int>(defaults.*n.field)) + " s): " + std::string(n.meaning);
  }
  return app
      .add_option("--timeout", settings,
                  "Idle timeout of a kind of connection, in seconds (repeatable). NAME is one "
                  "of:" +
                      names)
      ->type_name("NAME=SECONDS")
      ->check(CLI::Validator(
          [](std::string& value) {
            flow::FlowTimeouts probe;
            std::string error;
            return flow::apply_timeout(probe, value, &error) ? std::string() : error;
          },
          "NAME=SECONDS"));
}

flow::FlowTimeouts timeouts_from(const std::vector<std::string>& settings) {
  flow::FlowTimeouts t;
  for (const std::string& s : settings) flow::apply_timeout(t, s, nullptr);
  return t;
}

void add_snapshot_options(CLI::App& app, LiveCliOptions& o) {
  app.add_option("--duration", o.duration_s, "Seconds to watch before writing the document")
      ->check(CLI::Range(0.0, 31'536'000.0))
      ->capture_default_str();
  app.add_option("--output", o.output, "Where to write the JSON document ('-' = stdout)")
      ->type_name("FILE|-")
      ->capture_default_str();
}

}  // namespace netscope::cli
