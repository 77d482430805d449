// netscope command line: parses arguments (CLI11) and hands over to a mode. No logic here.

#include <CLI/CLI.hpp>
#include <iostream>

#include "analyze/analyze.hpp"

namespace {

constexpr const char* kDescription =
    "netscope — which process is using the network, with whom, how much, and is it healthy.\n"
    "Offline: `netscope analyze FILE` diagnoses a pcap/pcapng capture.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "netscope"};
  app.set_version_flag("--version", std::string("netscope ") + NETSCOPE_VERSION);
  app.require_subcommand(0, 1);

  netscope::analyze::AnalyzeOptions analyze;
  // Options shared by every mode. They are declared on the app and on each subcommand,
  // bound to the same variables, so they work before or after the subcommand name.
  const auto add_common = [&analyze](CLI::App& where) {
    where
        .add_option("--max-flows", analyze.max_flows,
                    "Flow table capacity; when full the stalest flow is evicted and counted")
        ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 26))
        ->capture_default_str();
    where.add_option("--bpf", analyze.bpf, "Only packets matching this tcpdump filter expression")
        ->type_name("EXPR");
  };
  add_common(app);

  CLI::App* cmd = app.add_subcommand(
      "analyze", "Diagnose a capture file: TCP health per conversation, RTT, connection problems");
  cmd->footer(
      "\nExit codes: 0 success; 2 usage or environment error (bad flag, unreadable or\n"
      "non-capture file, unsupported link type, bad --bpf, the JSON could not be written);\n"
      "3 the file is damaged part-way\n"
      "(everything read before the damage is reported, with the byte offset).\n"
      "JSON schema: netscope.analyze/1 (see README.md).");
  add_common(*cmd);
  cmd->add_option("FILE", analyze.file,
                  "pcap or pcapng file; '-' reads stdin; .gz and .zst are decompressed")
      ->required();
  std::string json_path;
  cmd->add_option("--json", json_path, "Also write the full report as JSON to PATH ('-' = stdout)")
      ->type_name("PATH");
  cmd->add_option("--top", analyze.top_n, "Conversations listed per table")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000}))
      ->capture_default_str();
  cmd->add_option("--threads", analyze.threads,
                  "Flow shards analysed in parallel (0 = one per CPU, at most 4; 1 = a single "
                  "thread). Memory-mapped files only: compressed input and pipes use 1. The "
                  "report is the same for every value")
      ->check(CLI::Range(std::size_t{0}, std::size_t{64}))
      ->capture_default_str();
  bool no_color = false;
  bool color = false;
  cmd->add_flag("--no-color", no_color, "Never color the report");
  cmd->add_flag("--color", color, "Color the report even when stdout is not a terminal");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : netscope::analyze::kExitUsage;
  }

  if (cmd->parsed()) {
    if (cmd->count("--json") > 0) analyze.json_path = json_path;
    if (no_color) {
      analyze.color = netscope::analyze::ColorMode::never;
    } else if (color) {
      analyze.color = netscope::analyze::ColorMode::always;
    }
    return netscope::analyze::run_analyze(analyze, std::cout, std::cerr);
  }

  std::cerr << app.help()
            << "\nnetscope: live monitoring is not part of this build yet; "
               "use `netscope analyze FILE`.\n";
  return netscope::analyze::kExitUsage;
}
