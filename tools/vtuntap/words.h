// Small helpers shared by the command parsers of vtuntap.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/net_types.h"
#include "tools/common/words.h"

namespace vtuntap {

using netd::is_valid_ifname;
using netd::cli::in_quotes;

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
