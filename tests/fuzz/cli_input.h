// How the CLI fuzz targets read their input: a command line, one word per line (an empty
// line is an empty word), then optionally a line "%%" and the JSON netd replied with.
//
//   route
//   add
//   10.0.0.0/8
//   %%
//   {"parameters":{}}
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netd::fuzz {

struct CliInput {
  std::vector<std::string> words;
  std::optional<nlohmann::json> reply;  // the reply, when there is one and it parses

  std::vector<std::string_view> views() const { return {words.begin(), words.end()}; }
  // reply["error"] when a string, else "".
  std::string error_name() const;
  // reply["parameters"], or null.
  const nlohmann::json& parameters() const;
};

inline constexpr size_t kMaxWords = 64;

CliInput read_cli_input(const uint8_t* data, size_t size);

}  // namespace netd::fuzz
