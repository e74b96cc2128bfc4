// Small helpers shared by the command parsers of vtuntap.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"

namespace vtuntap {

inline std::string in_quotes(std::string_view word) { return "'" + std::string(word) + "'"; }

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
inline bool is_valid_ifname(std::string_view name) {
  if (name.empty() || name.size() >= 16 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f')
      return false;
  return true;
}

// The words of a command split at the first "--": its own arguments, and (if "--" was there)
// the program to run. Words after "--" are never read as vtuntap's.
struct SplitWords {
  std::span<const std::string_view> own;
  std::optional<std::vector<std::string>> program;
};

inline SplitWords split_at_double_dash(std::span<const std::string_view> args) {
  SplitWords split{args, std::nullopt};
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--") continue;
    split.own = args.first(i);
    auto after = args.subspan(i + 1);
    split.program.emplace(after.begin(), after.end());
    break;
  }
  return split;
}

// "unknown option '-j' for 'add'", with a hint when the option is a global one put too late.
std::string unknown_option(std::string_view word, std::string_view command);

}  // namespace vtuntap
