// Shared by the vtuntap tests: run the whole command line parser on a list of words.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tools/vtuntap/commands.h"

namespace vtuntap::testing {

inline netd::Result<Plan> parse(std::initializer_list<std::string_view> words) {
  std::vector<std::string_view> argv(words);
  return parse_command_line(argv);
}

// The error message of a failed parse, or "(parsed)" so that a comparison fails readably.
inline std::string error_of(const netd::Result<Plan>& plan) {
  return plan.ok() ? "(parsed)" : plan.error().message;
}

}  // namespace vtuntap::testing
