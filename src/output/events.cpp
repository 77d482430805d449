#include "output/events.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "output/json_records.hpp"

namespace netscope::output {

namespace {

// The connection's identity, independent of which side is shown as local.
std::string connection_key(const monitor::ConnectionRecord& c) {
  std::string a = c.local_addr.to_string() + "/" + std::to_string(c.local_port);
  std::string b = c.remote_addr.to_string() + "/" + std::to_string(c.remote_port);
  if (b < a) std::swap(a, b);
  return std::to_string(c.proto) + " " + a + " " + b + " " + std::to_string(c.first_seen.ns);
}

Json event_head(const char* event, core::Timestamp time) {
  Json j = Json::object();
  j["schema"] = kEventSchema;
  j["event"] = event;
  j["time"] = core::to_rfc3339(time);
  return j;
}

// The event's head followed by the record's keys ("time" of the record, if any, wins).
Json flat(Json head, const Json& record) {
  for (const auto& [k, v] : record.items()) head[k] = v;
  return head;
}

struct Line {
  std::int64_t ns;
  int order;  // same time: open before dns before close before alert
  std::string text;
};

}  // namespace

std::string EventTracker::lines(const monitor::Snapshot& snap) {
  ++snapshots_;
  std::vector<Line> out;
  const auto add = [&out](core::Timestamp t, int order, const Json& j) {
    std::string s = dump_json(j);
    s += '\n';
    out.push_back(Line{t.ns, order, std::move(s)});
  };

  for (const monitor::ConnectionRecord& c : snap.connections) {
    auto [it, inserted] = conns_.try_emplace(connection_key(c));
    State& st = it->second;
    st.seen = snapshots_;
    if (!inserted && st.closed && (st.alerted || c.alert.empty())) continue;
    Json record;
    const auto rec = [&]() -> const Json& {
      if (record.is_null()) record = connection_json(c, snap.time);
      return record;
    };
    if (inserted) add(c.first_seen, 0, flat(event_head("connection_open", c.first_seen), rec()));
    if (c.closed && !st.closed) {
      st.closed = true;
      add(c.last_seen, 2, flat(event_head("connection_close", c.last_seen), rec()));
    }
    if (!c.alert.empty() && !st.alerted) {
      st.alerted = true;
      Json j = event_head("alert", c.last_seen);
      j["alert"] = c.alert;
      j["source"] = "connection";
      j["connection"] = rec();
      add(c.last_seen, 3, j);
    }
  }
  // Connections no longer listed (closed ones past the rate window) are forgotten.
  std::erase_if(conns_, [this](const auto& kv) { return kv.second.seen != snapshots_; });

  for (const monitor::DnsEventRecord& d : snap.dns) {
    const Json record = dns_json(d);
    add(d.time, 1, flat(event_head("dns", d.time), record));
    if (d.alert.empty()) continue;
    std::string key = d.query + "\n" + d.alert;
    if (dns_alerts_.contains(key)) continue;
    if (dns_alerts_.size() >= max_dns_alert_keys_) dns_alerts_.clear();
    dns_alerts_.insert(std::move(key));
    Json j = event_head("alert", d.time);
    j["alert"] = d.alert;
    j["source"] = "dns";
    j["dns"] = record;
    add(d.time, 3, j);
  }

  std::stable_sort(out.begin(), out.end(), [](const Line& a, const Line& b) {
    return a.ns != b.ns ? a.ns < b.ns : a.order < b.order;
  });
  std::string text;
  for (const Line& l : out) text += l.text;
  return text;
}

}  // namespace netscope::output
