// Reading netd's replies in the CLIs' printers. A field of the wrong type reads as absent, so
// a printer never throws on what a newer (or broken) netd sends; a reply without what a
// printer cannot do without is a bad_reply().
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/common/options.h"

namespace netd::cli {

// EPROTO "unexpected reply from netd: <what>".
netd::Error bad_reply(std::string_view what);

// object[key], or nullptr when `object` is not an object or has no such key.
const nlohmann::json* field(const nlohmann::json& object, const char* key);
// As field(), but only a string / an integer counts.
const nlohmann::json* string_field(const nlohmann::json& object, const char* key);
const nlohmann::json* integer_field(const nlohmann::json& object, const char* key);

std::string string_or(const nlohmann::json& object, const char* key, std::string fallback);
// True only for a boolean true.
bool flag_of(const nlohmann::json& object, const char* key);
// The integer as text, or "?".
std::string integer_text(const nlohmann::json& object, const char* key);

// -j output: compact, or indented as ip -p indents with -p; ends in a newline.
template <typename Json>
std::string json_text(const Json& value, const GlobalOptions& options) {
  constexpr int kIndent = 4;  // ip -p's indentation
  return value.dump(options.pretty ? kIndent : -1) + "\n";
}

}  // namespace netd::cli
