// netscope command line: parses arguments (CLI11) and the config files, and hands over to
// a mode. No logic here.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "analyze/analyze.hpp"
#include "cli/config_file.hpp"
#include "cli/live_mode.hpp"
#include "cli/live_options.hpp"

namespace {

constexpr const char* kDescription =
    "netscope — which process is using the network, with whom, how much, and is it healthy.\n"
    "  netscope [OPTIONS]             live: processes, connections and remote hosts\n"
    "  netscope snapshot [OPTIONS]    watch for --duration seconds, write one JSON document\n"
    "  netscope analyze FILE          diagnose a pcap/pcapng capture";

constexpr const char* kLiveFooter =
    "\nOutput: on a terminal, the interactive TUI (keys: press ? in it; README \"TUI\").\n"
    "--raw (bandwhich's text format, also whenever stdout is not a terminal) and\n"
    "--json-lines (schema netscope.tick/1) print instead.\n"
    "Config: /etc/netscope/config.toml, then $XDG_CONFIG_HOME/netscope/config.toml (default\n"
    "~/.config/netscope/config.toml) set defaults for any long option (key = option name\n"
    "without dashes; a [table] names a subcommand); the command line wins.\n"
    "Privileges: capture needs CAP_NET_RAW and CAP_NET_ADMIN; seeing other users' sockets\n"
    "needs CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH; other network namespaces need\n"
    "CAP_SYS_ADMIN. Without root:\n"
    "  sudo setcap cap_net_raw,cap_net_admin,cap_sys_ptrace,cap_dac_read_search,cap_sys_admin+eip "
    "$(command -v netscope)\n"
    "Exit codes: 0 success (also on SIGINT/SIGTERM); 2 usage or environment error;\n"
    "3 a --read file is damaged part-way (what was read is still reported).";

}  // namespace

int main(int argc, char** argv) {
  namespace cli = netscope::cli;
  CLI::App app{kDescription, "netscope"};
  app.set_version_flag("--version", std::string("netscope ") + NETSCOPE_VERSION);
  app.require_subcommand(0, 1);
  app.footer(kLiveFooter);

  cli::LiveCliOptions live;
  cli::add_live_options(app, live);
  std::string config_path;
  bool no_config = false;
  app.add_option("--config", config_path, "Read this TOML file instead of the default config files")
      ->type_name("PATH");
  app.add_flag("--no-config", no_config, "Read no config file");

  netscope::analyze::AnalyzeOptions analyze;
  CLI::App* acmd = app.add_subcommand(
      "analyze", "Diagnose a capture file: TCP health per conversation, RTT, connection problems");
  acmd->footer(
      "\nExit codes: 0 success; 2 usage or environment error (bad flag, unreadable or\n"
      "non-capture file, unsupported link type, bad --bpf, the JSON could not be written);\n"
      "3 the file is damaged part-way\n"
      "(everything read before the damage is reported, with the byte offset).\n"
      "JSON schema: netscope.analyze/3 (see README.md).");
  acmd->add_option("--max-flows", analyze.max_flows,
                   "Flow table capacity; when full the stalest flow is evicted and counted")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 26))
      ->capture_default_str();
  acmd->add_option("--bpf", analyze.bpf, "Only packets matching this tcpdump filter expression")
      ->type_name("EXPR");
  acmd->add_option("FILE", analyze.file,
                   "pcap or pcapng file; '-' reads stdin; .gz and .zst are decompressed")
      ->required();
  std::string json_path;
  acmd->add_option("--json", json_path, "Also write the full report as JSON to PATH ('-' = stdout)")
      ->type_name("PATH");
  acmd->add_option("--top", analyze.top_n, "Conversations listed per table")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000}))
      ->capture_default_str();
  acmd->add_option("--threads", analyze.threads,
                   "Flow shards analysed in parallel (0 = one per CPU, at most 4; 1 = a single "
                   "thread). Memory-mapped files only: compressed input and pipes use 1. The "
                   "report is the same for every value")
      ->check(CLI::Range(std::size_t{0}, std::size_t{64}))
      ->capture_default_str();
  std::vector<std::string> analyze_timeouts;
  cli::add_timeout_option(*acmd, analyze_timeouts);
  bool no_dpi = false;
  acmd->add_flag("--no-dpi", no_dpi,
                 "No deep packet inspection: no application fields, DNS or SNI sections");
  // --- analyze GeoIP/ASN
  acmd->add_option("--geoip", analyze.geoip,
                   "Country database (MaxMind DB) for both ends of every conversation. "
                   "Default: country.mmdb in the data directory, when present")
      ->type_name("PATH");
  acmd->add_option("--asn-db", analyze.asn_db,
                   "ASN database (MaxMind DB, GeoLite2-ASN layout). Default: asn.mmdb in the data "
                   "directory, when present")
      ->type_name("PATH");
  // --- end analyze GeoIP/ASN
  bool no_color = false;
  bool color = false;
  acmd->add_flag("--no-color", no_color, "Never color the report");
  acmd->add_flag("--color", color, "Color the report even when stdout is not a terminal");

  CLI::App* scmd = app.add_subcommand(
      "snapshot",
      "Watch for --duration seconds (or replay --read FILE), then write one JSON "
      "document of everything seen (schema netscope.snapshot/1)");
  cli::add_live_options(*scmd, live);
  cli::add_snapshot_options(*scmd, live);
  scmd->footer(kLiveFooter);
  // The config options and --version after a subcommand's name too ("every live option").
  for (CLI::App* sub : {acmd, scmd}) {
    sub->add_option("--config", config_path,
                    "Read this TOML file instead of the default config files")
        ->type_name("PATH");
    sub->add_flag("--no-config", no_config, "Read no config file");
    sub->set_version_flag("--version", std::string("netscope ") + NETSCOPE_VERSION);
  }

  try {
    app.parse(argc, argv);
    // A file named on the command line must exist (a default one may not).
    if (!no_config && !config_path.empty() && ::access(config_path.c_str(), F_OK) != 0) {
      throw cli::ConfigError("--config " + config_path + ": " + std::strerror(errno));
    }
    if (!no_config) {
      cli::apply_config_files(app, config_path.empty() ? cli::default_config_paths()
                                                       : std::vector<std::string>{config_path});
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : netscope::analyze::kExitUsage;
  } catch (const cli::ConfigError& e) {
    std::cerr << "netscope: " << e.what() << "\n";
    return netscope::analyze::kExitUsage;
  }

  if (acmd->parsed()) {
    // Global options given before the subcommand's name.
    if (acmd->count("--max-flows") == 0 && app.count("--max-flows") > 0) {
      analyze.max_flows = live.max_flows;
    }
    if (acmd->count("--bpf") == 0 && app.count("--bpf") > 0) analyze.bpf = live.bpf;
    if (acmd->count("--json") > 0) analyze.json_path = json_path;
    if (acmd->count("--geoip") == 0 && app.count("--geoip") > 0) analyze.geoip = live.geoip;
    if (acmd->count("--asn-db") == 0 && app.count("--asn-db") > 0) analyze.asn_db = live.asn_db;
    analyze.dpi = !(no_dpi || live.no_dpi);
    analyze.timeouts =
        cli::timeouts_from(acmd->count("--timeout") > 0 ? analyze_timeouts : live.timeouts);
    if (no_color) {
      analyze.color = netscope::analyze::ColorMode::never;
    } else if (color) {
      analyze.color = netscope::analyze::ColorMode::always;
    }
    return netscope::analyze::run_analyze(analyze, std::cout, std::cerr);
  }
  if (scmd->parsed()) return cli::run_snapshot(live, std::cout, std::cerr);
  return cli::run_live(live, std::cout, std::cerr);
}
