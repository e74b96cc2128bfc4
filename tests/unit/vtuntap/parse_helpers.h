// Shared by the vtuntap tests: run the whole command line parser on a list of words.
#pragma once

#include <initializer_list>
#include <string_view>

#include "tests/unit/common_cli/cli_test_helpers.h"
#include "tools/vtuntap/commands.h"

namespace vtuntap::testing {

using netd::testing::error_of;
using netd::testing::expect_call;
using netd::testing::ParseErrorCase;

inline netd::Result<Plan> parse(std::initializer_list<std::string_view> words) {
  return netd::testing::parse_words(parse_command_line, words);
}

}  // namespace vtuntap::testing
