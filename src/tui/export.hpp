#pragma once
// `e`: the current view as one JSON document (schema netscope.tui_export/1) written to a
// timestamped file in --export-dir. The rows are the ones on screen: filtered and in the
// sort order shown, with the record keys of the Conventions (output/json_records.hpp).

#include <string>

#include "tui/model.hpp"
#include "tui/state.hpp"

namespace netscope::tui {

inline constexpr const char* kExportSchema = "netscope.tui_export/1";

// The document, as compact JSON text.
std::string export_document(const UiState& s, const Frame& f);

// Writes the document to <dir>/netscope-<view>-<UTC time>.json (a "-N" suffix when the
// name is taken). Returns the path; throws std::runtime_error naming the file on failure.
std::string export_to_dir(const UiState& s, const Frame& f, const std::string& dir);

// OSC 52 "set the clipboard" escape sequence for `text` (base64-encoded).
std::string osc52(std::string_view text);

}  // namespace netscope::tui
