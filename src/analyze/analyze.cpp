#include "analyze/analyze.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "analyze/json_report.hpp"
#include "analyze/pipeline.hpp"
#include "analyze/report.hpp"
#include "analyze/text_report.hpp"
#include "capture/file_reader.hpp"
#include "decode/decode.hpp"
#include "enrich/geoip.hpp"

namespace netscope::analyze {

namespace {

bool stream_is_terminal(const std::ostream& s) {
  if (&s == &std::cout) return isatty(STDOUT_FILENO) != 0;
  if (&s == &std::cerr) return isatty(STDERR_FILENO) != 0;
  return false;
}

}  // namespace

int run_analyze(const AnalyzeOptions& opt, std::ostream& out, std::ostream& err) {
  capture::FileReader reader;
  try {
    reader.open(opt.file);
  } catch (const std::exception& e) {
    err << "netscope: error: " << e.what() << '\n';
    return kExitUsage;
  }
  try {
    monitor::check_capture_input(reader, opt.file, opt.bpf);
  } catch (const std::exception& e) {
    err << "netscope: error: " << e.what() << '\n';
    return kExitUsage;
  }

  // With --json -, stdout holds only JSON and the human report goes to stderr.
  const bool json_to_stdout = opt.json_path && *opt.json_path == "-";
  std::ostream& text_out = json_to_stdout ? err : out;
  std::ofstream json_file;
  std::ostream* json_stream = nullptr;
  if (opt.json_path) {
    if (json_to_stdout) {
      json_stream = &out;
    } else {
      json_file.open(*opt.json_path, std::ios::out | std::ios::trunc);
      if (!json_file) {
        err << "netscope: error: cannot write " << *opt.json_path << '\n';
        return kExitUsage;
      }
      json_stream = &json_file;
    }
  }
  std::unique_ptr<JsonReportWriter> json;
  if (json_stream != nullptr) json = std::make_unique<JsonReportWriter>(*json_stream);

  monitor::EngineConfig config;
  config.flows.max_flows = opt.max_flows;
  config.flows.timeouts = opt.timeouts;
  config.bpf = opt.bpf;
  config.dpi = opt.dpi;
  // JA3 and JA4 appear in the JSON report only.
  config.inspector.fingerprints = json_stream != nullptr;
  // No report lists DNS answers (DnsStats keeps counts, names and latencies).
  config.inspector.dns_answers = false;
  // The same databases and defaults as the live outputs (enrich::open_geoip): an explicit
  // path must open; without any database private and reserved ranges are still labelled.
  std::shared_ptr<const enrich::GeoIp> geo;
  try {
    geo = enrich::open_geoip(opt.geoip, opt.asn_db);
  } catch (const std::exception& e) {
    err << "netscope: error: " << e.what() << '\n';
    return kExitUsage;
  }

  const auto started = std::chrono::steady_clock::now();
  PipelineResult result;
  try {
    result = run_pipeline(reader, config, opt.top_n, json.get(), resolve_threads(opt.threads), geo);
  } catch (const std::exception& e) {
    // A BPF program that cannot compile for a link type met mid-file (pcapng).
    err << "netscope: error: " << e.what() << '\n';
    return kExitUsage;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const monitor::EngineStats& stats = result.stats;
  const ReportBuilder& report = *result.report;
  const Summary summary = make_summary(reader, stats, seconds);
  if (json) json->finish(summary, report, result.anomalies, stats, result.flows);

  TextOptions text;
  text.top_n = opt.top_n;
  text.dpi = opt.dpi;
  text.color = opt.color == ColorMode::always ||
               (opt.color == ColorMode::automatic && stream_is_terminal(text_out));
  write_text_report(text_out, text, summary, report, result.anomalies, stats, result.flows);
  text_out.flush();

  // A full disk or a closed pipe must not pass for a complete report (ARCHITECTURE.md:
  // reported, as an environment error).
  if (json_stream != nullptr && !json_stream->flush()) {
    err << "netscope: error: writing the JSON report to "
        << (json_to_stdout ? std::string("stdout") : *opt.json_path)
        << " failed (disk full or output closed); it is incomplete\n";
    return kExitUsage;
  }

  std::uint64_t unsupported = 0;
  for (const auto& [lt, count] : stats.unsupported_linktypes) unsupported += count;
  if (stats.packets > 0 && unsupported == stats.packets) {
    err << "netscope: error: " << opt.file << ": every packet is on an unsupported link type ("
        << capture::linktype_name(stats.unsupported_linktypes.begin()->first) << ")\n";
    return kExitUsage;
  }
  if (!summary.complete()) {
    err << "netscope: warning: " << reader.error() << "; partial results above\n";
    return kExitDamaged;
  }
  return kExitOk;
}

}  // namespace netscope::analyze
