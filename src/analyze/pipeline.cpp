#include "analyze/pipeline.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "monitor/sharded_flows.hpp"

namespace netscope::analyze {

namespace {

// Reads the whole input into `engine`, in batches when the bytes stay valid.
void feed(capture::FileReader& reader, monitor::Engine& engine) {
  if (reader.zero_copy()) {
    // Packets point into the mapped file and stay valid: hand them over in batches so
    // the engine can prefetch their flows.
    std::array<capture::RawPacket, monitor::Engine::kBatch> batch;
    std::size_t n = 0;
    do {
      n = 0;
      while (n < batch.size() && reader.next(batch[n])) ++n;
      engine.process_batch({batch.data(), n});
    } while (n == batch.size());
  } else {
    capture::RawPacket pkt;
    while (reader.next(pkt)) engine.process(pkt);
  }
}

// A shard's conversations, serialised on the shard's thread and written to the one JSON
// stream in chunks under a lock: bounded memory, and no lock per conversation.
class ConversationBuffer {
 public:
  ConversationBuffer(JsonReportWriter& json, std::mutex& lock) : json_(json), lock_(lock) {}
  void add(const Conversation& c) {
    scratch_.clear();
    write_conversation_json(scratch_, c);
    if (!chunk_.empty()) chunk_.push_back(',');
    chunk_.push_back('\n');
    chunk_ += scratch_.str();
    if (chunk_.size() >= kChunkBytes) flush();
  }
  void flush() {
    const std::lock_guard<std::mutex> hold(lock_);
    json_.write_chunk(chunk_);
    chunk_.clear();
  }

 private:
  static constexpr std::size_t kChunkBytes = 64 * 1024;
  JsonReportWriter& json_;
  std::mutex& lock_;
  JsonOut scratch_;
  std::string chunk_;
};

PipelineResult run_single(capture::FileReader& reader, const monitor::EngineConfig& config,
                          std::size_t top_n, JsonReportWriter* json,
                          const std::shared_ptr<const enrich::GeoIp>& geo) {
  PipelineResult r;
  r.report = std::make_unique<ReportBuilder>(top_n, [json](const Conversation& c) {
    if (json != nullptr) json->write_conversation(c);
  });
  r.report->set_geoip(geo);
  monitor::Engine engine(config, *r.report);
  feed(reader, engine);
  engine.finish();
  r.stats = engine.stats();
  r.anomalies = engine.anomalies();
  r.flows.add(engine.flows());
  return r;
}

PipelineResult run_sharded(capture::FileReader& reader, const monitor::EngineConfig& config,
                           std::size_t top_n, JsonReportWriter* json, std::size_t shards,
                           const std::shared_ptr<const enrich::GeoIp>& geo) {
  std::mutex json_lock;
  std::vector<std::unique_ptr<ConversationBuffer>> buffers;
  std::vector<std::unique_ptr<ReportBuilder>> reports;
  std::vector<monitor::EngineSink*> sinks;
  for (std::size_t i = 0; i < shards; ++i) {
    ConversationBuffer* buffer = nullptr;
    if (json != nullptr) {
      buffers.push_back(std::make_unique<ConversationBuffer>(*json, json_lock));
      buffer = buffers.back().get();
    }
    reports.push_back(std::make_unique<ReportBuilder>(top_n, [buffer](const Conversation& c) {
      if (buffer != nullptr) buffer->add(c);
    }));
    reports.back()->set_geoip(geo);
    sinks.push_back(reports.back().get());
  }

  PipelineResult r;
  {
    // The shards' threads follow the CPUs (ShardedFlows): on 2 CPUs, one thread reads
    // and decodes while one other runs every shard.
    monitor::ShardedFlows flows(config, sinks);
    monitor::Engine engine(config, flows);
    feed(reader, engine);
    engine.finish();  // joins the shards: their state is ours to read from here on
    r.stats = engine.stats();
    r.anomalies = engine.anomalies();
    for (std::size_t i = 0; i < shards; ++i) {
      r.stats.icmp_errors += flows.stats(i).icmp_errors;
      r.stats.icmp_errors_unmatched += flows.stats(i).icmp_errors_unmatched;
      r.stats.dpi += flows.stats(i).dpi;
      r.flows.add(flows.flows(i));
    }
  }
  for (auto& b : buffers) b->flush();
  r.report = std::move(reports.front());
  for (std::size_t i = 1; i < shards; ++i) r.report->merge(*reports[i]);
  return r;
}

}  // namespace

std::size_t resolve_threads(std::size_t requested) {
  if (requested != 0) return requested;
  const std::size_t cpus = std::thread::hardware_concurrency();
  return std::clamp<std::size_t>(cpus, 1, kMaxAutoThreads);
}

PipelineResult run_pipeline(capture::FileReader& reader, const monitor::EngineConfig& config,
                            std::size_t top_n, JsonReportWriter* json, std::size_t threads,
                            std::shared_ptr<const enrich::GeoIp> geo) {
  if (threads <= 1 || !reader.zero_copy()) return run_single(reader, config, top_n, json, geo);
  return run_sharded(reader, config, top_n, json, threads, geo);
}

}  // namespace netscope::analyze
