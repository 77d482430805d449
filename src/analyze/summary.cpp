#include "analyze/summary.hpp"

namespace netscope::analyze {

std::string_view read_status_name(capture::ReadStatus s) {
  switch (s) {
    case capture::ReadStatus::ok:
    case capture::ReadStatus::end:
      return "complete";
    case capture::ReadStatus::truncated:
      return "truncated";
    case capture::ReadStatus::corrupt:
      return "corrupt";
  }
  return "complete";
}

Summary make_summary(const capture::FileReader& reader, const monitor::EngineStats& stats,
                     double processing_seconds) {
  Summary s;
  s.file = reader.path();
  s.format = reader.format() == capture::FileFormat::pcap ? "pcap" : "pcapng";
  for (const auto& [linktype, count] : stats.packets_by_linktype) {
    (void)count;
    s.link_types.push_back(capture::linktype_name(linktype));
  }
  if (s.link_types.empty() && !reader.interfaces().empty()) {
    s.link_types.push_back(capture::linktype_name(reader.interfaces().front().linktype));
  }
  s.packets = stats.packets;
  s.ip_bytes = stats.ip_bytes;
  s.wire_bytes = stats.wire_bytes;
  s.first = stats.first;
  s.last = stats.last;
  if (stats.first && stats.last)
    s.duration_s = static_cast<double>(stats.last->ns - stats.first->ns) / 1e9;
  s.processing_seconds = processing_seconds;
  s.read_status = reader.status();
  if (s.read_status == capture::ReadStatus::ok) s.read_status = capture::ReadStatus::end;
  if (!s.complete()) {
    s.read_error = reader.error();
    s.stopped_at_offset = reader.offset();
  }
  return s;
}

}  // namespace netscope::analyze
