#pragma once
// JsonOut: a small append-only JSON writer into a reusable string, for records written
// once per conversation on the packet path, where building an nlohmann::json tree per
// record cost more than the analysis itself (docs/PERFORMANCE.md). It only writes; the
// caller keeps the structure balanced. Strings are escaped per RFC 8259 §7 (UTF-8 passes
// through unchanged).

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netscope::analyze {

class JsonOut {
 public:
  std::string& str() { return out_; }
  void clear() {
    out_.clear();
    first_ = true;
  }

  JsonOut& begin_object() {
    separate();
    out_.push_back('{');
    first_ = true;
    return *this;
  }
  JsonOut& end_object() {
    out_.push_back('}');
    first_ = false;
    return *this;
  }
  JsonOut& begin_array() {
    separate();
    out_.push_back('[');
    first_ = true;
    return *this;
  }
  JsonOut& end_array() {
    out_.push_back(']');
    first_ = false;
    return *this;
  }
  // Writes `"name":`; the next value call completes the member.
  JsonOut& key(std::string_view name) {
    separate();
    quote(name);
    out_.push_back(':');
    first_ = true;  // the value that follows takes no comma
    return *this;
  }

  JsonOut& value(std::string_view s) {
    separate();
    quote(s);
    return *this;
  }
  JsonOut& value(const char* s) { return value(std::string_view(s)); }
  JsonOut& value(std::uint64_t n) {
    separate();
    fmt::format_to(std::back_inserter(out_), "{}", n);
    return *this;
  }
  JsonOut& value(std::uint32_t n) { return value(std::uint64_t{n}); }
  JsonOut& value(std::uint16_t n) { return value(std::uint64_t{n}); }
  JsonOut& value(std::uint8_t n) { return value(std::uint64_t{n}); }
  JsonOut& value(int n) {
    separate();
    fmt::format_to(std::back_inserter(out_), "{}", n);
    return *this;
  }
  // Finite doubles in their shortest round-trip form; NaN and infinities become null.
  JsonOut& value(double d) {
    separate();
    if (!std::isfinite(d)) {
      out_ += "null";
    } else {
      fmt::format_to(std::back_inserter(out_), "{}", d);
    }
    return *this;
  }
  JsonOut& value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  JsonOut& null() {
    separate();
    out_ += "null";
    return *this;
  }
  template <typename T>
  JsonOut& value(const std::optional<T>& v) {
    return v ? value(*v) : null();
  }

 private:
  void separate() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void quote(std::string_view s) {
    out_.push_back('"');
    for (const char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            fmt::format_to(std::back_inserter(out_), "\\u{:04x}", static_cast<unsigned>(c));
          } else {
            out_.push_back(c);
          }
      }
    }
    out_.push_back('"');
  }

  std::string out_;
  bool first_ = true;
};

}  // namespace netscope::analyze
